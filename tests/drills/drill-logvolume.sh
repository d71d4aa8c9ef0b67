#!/bin/bash
# Drill 8 (issue 13), lurkd's side: for 12 s, an unknown client and a
# revoked one (its not-after is past) retry their handshakes in a loop
# while junk floods the port (random bytes, zero frames, giant frames,
# msg1s that do not decrypt, short msg1s), each at most 300 a second.
# Bars, over the flood and until lurkd has reported what it held back:
#   - each kind of line (its text, numbers aside) at most 5 per 10 s window
#     the flood touched, and the limiter's count lines at most one per
#     window: at most 6 of any kind per window;
#   - the lines held back are counted ("... N more in the last 10 s");
#   - lurkd still serves a legitimate client afterwards.
. "${top_srcdir:-.}/tests/drills/lib-drill.sh"
drill_init "drill-logvolume: unknown and revoked clients retrying, junk bytes; lurkd's log stays bounded"

FLOOD_S=12
drill_pki || exit 1
"$ADMIN" genkey "$D/stranger.key" >"$D/stranger.pub" || exit 1
"$ADMIN" genkey "$D/r.key" >"$D/r.pub" || exit 1
drill_replica one 127.0.0.2 "[client r]
public-key = $(cat "$D/r.pub")
keys = ec256
not-after = 2020-01-01T00:00:00Z" || exit 1
drill_start one || exit 1
addr=$(drill_address one)
pk=$(cat "$D/one/server.pub")

l0=$(lines "$D/one/lurkd.log")
t0=$(now_ms)
drill_bg unknown "$LURK_DRILL" handshake --address "$addr" --server-pk "$pk" \
	--client-key "$D/stranger.key" --seconds "$FLOOD_S" --rate 300
drill_bg revoked "$LURK_DRILL" handshake --address "$addr" --server-pk "$pk" \
	--client-key "$D/r.key" --seconds "$FLOOD_S" --rate 300
drill_bg junk "$LURK_DRILL" junk --address "$addr" --seconds "$FLOOD_S" --rate 300
drill_wait_bg unknown $((FLOOD_S + 30))
urc=$?
drill_wait_bg revoked 30
rrc=$?
drill_wait_bg junk 30
jrc=$?
t1=$(now_ms)
# lurkd reports what a limiter held back once its 10 s window is over (it
# checks every second): wait for those count lines (at most 15 s).
counted() {
	grep -q 'more in the last' "$D/one/lurkd.log"
}
wait_for 15 counted
# And for the window the flood ended in to close, so every count is in.
t_counts=$((t1 + 11000))
past_counts() {
	[ "$(now_ms)" -ge "$t_counts" ]
}
wait_for 15 past_counts
t2=$(now_ms)
l1=$(lines "$D/one/lurkd.log")

span=$((t2 - t0))
windows=$((span / 10000 + 2))
bound=$((6 * windows))
attempts=$(($(field "$D/unknown.out" handshake attempts) + $(field "$D/revoked.out" handshake attempts) + $(field "$D/junk.out" junk attempts)))
log_kinds "$D/one/lurkd.log" $((l0 + 1)) "$l1" >"$D/kinds"
top=$(head -1 "$D/kinds" | cut -d' ' -f1)
held=$(sed -n "$((l0 + 1)),${l1}p" "$D/one/lurkd.log" |
	sed -n 's/.*: \([0-9][0-9]*\) more in the last .*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
figure "unknown client: $(sed 's/^handshake //' "$D/unknown.out") (status $urc)"
figure "revoked client: $(sed 's/^handshake //' "$D/revoked.out") (status $rrc)"
figure "junk: $(sed 's/^junk //' "$D/junk.out") (status $jrc)"
figure "lurkd log lines from the flood's start to its counts ($span ms, $windows windows): $((l1 - l0)) for $attempts attempts, of $(wc -l <"$D/kinds") kinds"
cut -c1-170 "$D/kinds" | head -10 | sed 's/^/   | /'
figure "the most lines of one kind: ${top:-0} (bound: 6 x $windows windows = $bound)"
figure "lines held back, as counted by lurkd: $held"
drill_module_conf "$D/module.conf" one
LURK_PKCS11_CONF=$D/module.conf "$LURK_DRILL" fresh --module "$MODULE" --label ec256 --count 1 >"$D/after.out" 2>&1
bar "the flood ran (status $urc $rrc $jrc) and was large: $attempts attempts (bar: > 10 x $bound)" \
	test "$urc" -eq 0 -a "$rrc" -eq 0 -a "$jrc" -eq 0 -a "$attempts" -gt $((10 * bound))
bar "lurkd's log lines stay bounded: at most ${top:-0} of a kind (bar: <= $bound)" test "${top:-0}" -le "$bound"
bar "the lines held back are counted ('N more in the last 10 s'): $held" test "$held" -gt 0
bar "lurkd still serves a legitimate client after the flood" test "$(field "$D/after.out" fresh ok)" = 1
drill_end

#!/bin/bash
# Drill 7 (issue 13): 10,000 idle unauthenticated connections and 5,000
# authenticated ones stalled mid-frame, held open together while a
# legitimate client signs (4 threads, 200 calls a second). The flood is
# tests/lurk-flood's:
#   lurk-flood -w -t S -r idle ADDRESS 10000
#   lurk-flood -w -t S stall ADDRESS SERVER_PK_B64 CLIENT_KEY_FILE 5000 65000
# (stall: a handshake and a ping, then the header of a 65535-byte frame and
# 65,000 bytes of it; -w: both let go when their stdin closes; -r: an idle
# connection lurkd closes is opened again). lurkd lets them in:
# max-connections 15,200 (it needs 64 more open files, within the usual hard
# limit of 20,000), per-source and per-client caps 20,000,
# handshake-timeout 60 s (the most it allows) and frame-timeout 600 s, so
# that none is closed for its age; frame-memory keeps its default. Bars,
# from the flood's start until 10 s after both have opened theirs:
#   - lurkd's RSS (VmRSS, sampled every 50 ms or so) stays under 100 MB;
#   - the legitimate client keeps signing: no call failed (its p99 latency
#     is reported);
# and, for the drill to mean anything, the flood opened all 15,000.
. "${top_srcdir:-.}/tests/drills/lib-drill.sh"
drill_init "drill-stalled: 10,000 idle and 5,000 stalled connections; lurkd's memory"

IDLE=10000
STALLED=5000
BYTES=65000
if [ ! -x "$LURK_FLOOD" ]; then
	figure "tests/lurk-flood is not built (tests/lurk-flood.c has not landed?)"
	bar "the flood helper tests/lurk-flood exists" false
	drill_end
	exit 1
fi
drill_pki || exit 1
"$ADMIN" genkey "$D/f.key" >"$D/f.pub" || exit 1
drill_replica one 127.0.0.2 "max-connections = 15200
max-connections-per-source = 20000
max-connections-per-client = 20000
handshake-timeout = 60
frame-timeout = 600

[client f]
public-key = $(cat "$D/f.pub")
keys = ec256" || exit 1
drill_start one || exit 1
pid=$(drill_pid one)
addr=$(drill_address one)
drill_module_conf "$D/module.conf" one
export LURK_PKCS11_CONF=$D/module.conf

drill_bg load "$LURK_DRILL" sign --module "$MODULE" --label ec256 --threads 4 --rate 200 \
	--seconds 150 --per-second --slow-ms 1000 --stop-file "$D/stop" \
	--window-start "$D/flood-start" --window-end "$D/flood-end"
signing() {
	[ "$(audit_count one)" -ge 100 ]
}
if ! wait_for 60 signing; then
	bar "the client signs before the flood" false
	show_tail "$D/load.err"
	drill_end
	exit 1
fi
fds0=$(proc_fds "$pid")
rss0=$(proc_rss_kb "$pid")
figure "lurkd before the flood: $fds0 descriptors, VmRSS $((rss0 / 1024)) MB"

# The floods' stdin: a fifo whose only writer is fd 7 of this shell (closed
# in every child), so closing fd 7 tells both to let go.
mkfifo "$D/hold"
exec 7<>"$D/hold"
flood() { # NAME ARGS...
	_n=$1
	shift
	(ulimit -n 20000 && exec "$LURK_FLOOD" "$@") <"$D/hold" >"$D/$_n.out" 2>"$D/$_n.err" 7>&- &
	echo $! >"$D/$_n.pid"
	_drill_track $!
}
touch "$D/flood-start"
t0=$(now_ms)
flood idle -w -t 150 -r idle "$addr" "$IDLE"
flood stall -w -t 150 stall "$addr" "$(cat "$D/one/server.pub")" "$D/f.key" "$STALLED" "$BYTES"
rss_max=0
sample_rss() {
	_r=$(proc_rss_kb "$pid")
	[ "${_r:-0}" -gt "$rss_max" ] && rss_max=${_r:-0}
}
both_open() {
	sample_rss
	grep -q '^open ' "$D/idle.out" && grep -q '^open ' "$D/stall.out"
}
wait_for 90 both_open
t_open=$(now_ms)
figure "both floods opened theirs $((t_open - t0)) ms after the start: idle: $(grep -m1 '^open ' "$D/idle.out"); stall: $(grep -m1 '^open ' "$D/stall.out")"
t_hold=$((t_open + 10000))
held_long_enough() {
	sample_rss
	[ "$(now_ms)" -ge "$t_hold" ]
}
wait_for 20 held_long_enough
held=$(($(proc_fds "$pid") - fds0))
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
touch "$D/flood-end"
exec 7>&-
drill_wait_bg idle 30
irc=$?
drill_wait_bg stall 30
src=$?
touch "$D/stop"
drill_wait_bg load 60
rc=$?
rss_after=$(proc_rss_kb "$pid")

out=$D/load.out
wfailed=$(field "$out" window failed)
wok=$(field "$out" window ok)
iopen=$(awk '$1 == "open" { print $2; exit }' "$D/idle.out")
sopen=$(awk '$1 == "open" { print $2; exit }' "$D/stall.out")
figure "connections lurkd held 10 s after: $held (by its descriptors)"
figure "lurkd VmRSS over the flood: at most $((rss_max / 1024)) MB ($rss_max kB); VmHWM $((${hwm:-0} / 1024)) MB; after it $((${rss_after:-0} / 1024)) MB"
figure "lurk-flood idle: $(tail -1 "$D/idle.out") (status $irc); stall: $(tail -1 "$D/stall.out") (status $src)"
show_tail "$D/idle.err" 3
show_tail "$D/stall.err" 3
figure "legitimate client during the flood: ok=$wok failed=$wfailed p99 $(field "$out" window p99_ms) ms, longest $(field "$out" window max_ms) ms"
grep '^failed ' "$out" | sed 's/^failed /   figure: failed by code: /'
log_kinds "$D/one/lurkd.log" 1 '$' | cut -c1-160 | head -6 | sed 's/^/   | /'
bar "lurk-drill ran to the end (status $rc), the floods let go when told (status $irc $src)" \
	test "$rc" -eq 0 -a "$irc" -eq 0 -a "$src" -eq 0
bar "the flood opened ${iopen:-?} idle and ${sopen:-?} stalled connections (bar: $IDLE and $STALLED)" \
	test "${iopen:-0}" -ge "$IDLE" -a "${sopen:-0}" -ge "$STALLED"
bar "lurkd's RSS under the flood: at most $((rss_max / 1024)) MB (bar: < 100 MB)" \
	test "$rss_max" -gt 0 -a "$rss_max" -lt $((100 * 1024))
bar "legitimate clients keep signing: ok=${wok:-?} failed=${wfailed:-?} (bar: failed 0)" \
	test "${wfailed:-1}" -eq 0 -a "${wok:-0}" -gt 0
drill_end

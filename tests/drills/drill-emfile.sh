#!/bin/bash
# Drill 6b (issue 13, item 5): lurkd out of file descriptors. drill-fdflood
# cannot get there (lurkd keeps 64 descriptors in reserve under its limit),
# so here lurkd's open-file limit is lowered while it runs (prlimit) to a
# few above what it has open; then a flood of raw connections makes accept
# fail with EMFILE. Bars over the flood window:
#   - EMFILE was reached: lurkd logged its "accept: Too many open files" line;
#   - lurkd never spins: its CPU (utime + stime from /proc) < 10% of one core;
#   - that line is rate-limited: each kind of line at most 6 per 10 s window;
#   - an established client (2 threads, pooled connections) keeps signing: no
#     failed call, none of 1 s or more;
#   - with the limit back and the flood gone, a fresh consumer signs.
. "${top_srcdir:-.}/tests/drills/lib-drill.sh"
drill_init "drill-emfile: lurkd at its open-file limit under a connection flood"

FLOOD_S=8
drill_pki || exit 1
drill_replica one 127.0.0.2 "max-connections = 100" || exit 1
drill_start one 164 || exit 1
pid=$(drill_pid one)
drill_module_conf "$D/module.conf" one
export LURK_PKCS11_CONF=$D/module.conf

drill_bg load "$LURK_DRILL" sign --module "$MODULE" --label ec256 --threads 2 --rate 40 \
	--seconds 90 --slow-ms 1000 --stop-file "$D/stop" \
	--window-start "$D/flood-start" --window-end "$D/flood-end"
signing() {
	[ "$(audit_count one)" -ge 40 ]
}
if ! wait_for 60 signing; then
	bar "the client signs before the flood" false
	show_tail "$D/load.err"
	drill_end
	exit 1
fi
open=$(proc_fds "$pid")
limit=$((open + 4))
prlimit --pid "$pid" --nofile="$limit:164" || {
	bar "prlimit lowers lurkd's open-file limit" false
	drill_end
	exit 1
}
figure "lurkd has $open descriptors open; its soft open-file limit lowered to $limit (the hard one stays 164)"
l0=$(lines "$D/one/lurkd.log")
c0=$(proc_cpu_ms "$pid")
t0=$(now_ms)
touch "$D/flood-start"
drill_bg flood "$LURK_DRILL" flood --address "$(drill_address one)" --conns 100 \
	--seconds "$FLOOD_S" --rate 200
flood_done() {
	_drill_gone "$(cat "$D/flood.pid")"
}
wait_for $((FLOOD_S + 30)) flood_done
drill_wait_bg flood 10
frc=$?
touch "$D/flood-end"
t1=$(now_ms)
c1=$(proc_cpu_ms "$pid")
l1=$(lines "$D/one/lurkd.log")
prlimit --pid "$pid" --nofile=164:164 || figure "prlimit could not raise the limit back"
touch "$D/stop"
drill_wait_bg load 60
rc=$?
# A fresh consumer once the flood is gone and the limit is back.
"$LURK_DRILL" sign --module "$MODULE" --label ec256 --threads 1 --seconds 1 \
	>"$D/fresh.out" 2>"$D/fresh.err"
frc2=$?

span=$((t1 - t0))
cpu=$((c1 - c0))
windows=$((span / 10000 + 2))
bound=$((6 * windows))
log_kinds "$D/one/lurkd.log" $((l0 + 1)) "$l1" >"$D/kinds"
top=$(head -1 "$D/kinds" | cut -d' ' -f1)
emfile=$(sed -n "$((l0 + 1)),${l1}p" "$D/one/lurkd.log" | grep -c 'accept: Too many open files')
out=$D/load.out
wfailed=$(field "$out" window failed)
wok=$(field "$out" window ok)
wmax=$(field "$out" window max_ms)
fok=$(field "$D/fresh.out" result ok)
ffailed=$(field "$D/fresh.out" result failed)
figure "flood: $(sed 's/^flood //' "$D/flood.out") (status $frc)"
figure "lurkd's EMFILE lines during the flood: $emfile"
figure "lurkd CPU over the flood: $cpu ms in $span ms"
cut -c1-160 "$D/kinds" | head -6 | sed 's/^/   | /'
figure "established client during the flood: ok=$wok failed=$wfailed longest $wmax ms"
figure "fresh consumer afterwards: ok=$fok failed=$ffailed (status $frc2)"
bar "lurk-drill ran to the end (status $rc; flood $frc)" test "$rc" -eq 0 -a "$frc" -eq 0
bar "lurkd ran out of descriptors (EMFILE lines: $emfile)" test "$emfile" -ge 1
bar "lurkd never spins on EMFILE: CPU $cpu ms over $span ms (bar: < 10% of one core)" \
	test $((cpu * 10)) -lt "$span"
bar "its lines stay bounded: at most ${top:-0} of a kind (bar: <= $bound)" test "${top:-0}" -le "$bound"
bar "the established client keeps signing: failed ${wfailed:-?} (bar: 0), longest ${wmax:-?} ms (bar: < 1000)" \
	test "${wfailed:-1}" -eq 0 -a "${wmax:-99999}" -lt 1000 -a "${wok:-0}" -gt 0
bar "afterwards a fresh consumer signs: ok=${fok:-0} failed=${ffailed:-?}" \
	test "$frc2" -eq 0 -a "${fok:-0}" -gt 0 -a "${ffailed:-1}" -eq 0
drill_end

#!/bin/bash
# Drill 6 (issue 13): lurkd with max-connections = 100 and an open-file
# limit of 164 (ulimit -n before it starts: the least lurkd accepts for 100,
# which keeps 64 descriptors in reserve) under a flood of raw connections:
# 400 held open, each one the server closes opened again, 200 a second.
# An established client signs throughout (2 threads, 40 calls a second).
# Bars over the flood window:
#   - lurkd never spins: its CPU (utime + stime from /proc) < 10% of one core;
#   - it logs the refusal / out-of-descriptors condition a bounded number of
#     times: each kind of line (its text, numbers aside) at most 6 per 10 s
#     window the flood touched (lurkd's limiters: 5 lines, then a count);
#   - the established client keeps signing: no call failed, none took 1 s or
#     more, and it signed at least half the calls its rate asks for.
. "${top_srcdir:-.}/tests/drills/lib-drill.sh"
drill_init "drill-fdflood: a raw connection flood against low max-connections and ulimit -n"

FLOOD_S=12
drill_pki || exit 1
drill_replica one 127.0.0.2 "max-connections = 100" || exit 1
drill_start one 164 || exit 1
pid=$(drill_pid one)
figure "lurkd: max-connections = 100, open-file limit $(awk '/Max open files/ { print $4 }' "/proc/$pid/limits")"
drill_module_conf "$D/module.conf" one
export LURK_PKCS11_CONF=$D/module.conf

drill_bg load "$LURK_DRILL" sign --module "$MODULE" --label ec256 --threads 2 --rate 40 \
	--seconds 90 --per-second --slow-ms 1000 --stop-file "$D/stop" \
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
l0=$(lines "$D/one/lurkd.log")
c0=$(proc_cpu_ms "$pid")
t0=$(now_ms)
touch "$D/flood-start"
drill_bg flood "$LURK_DRILL" flood --address "$(drill_address one)" --conns 400 \
	--seconds "$FLOOD_S" --rate 200
# While it floods: lurkd's descriptors, sampled.
fds_max=0
flooding() {
	_f=$(proc_fds "$pid")
	[ "${_f:-0}" -gt "$fds_max" ] && fds_max=$_f
	_drill_gone "$(cat "$D/flood.pid")"
}
wait_for $((FLOOD_S + 30)) flooding
drill_wait_bg flood 10
frc=$?
touch "$D/flood-end"
t1=$(now_ms)
c1=$(proc_cpu_ms "$pid")
l1=$(lines "$D/one/lurkd.log")
touch "$D/stop"
drill_wait_bg load 60
rc=$?

span=$((t1 - t0))
cpu=$((c1 - c0))
windows=$((span / 10000 + 2))
bound=$((6 * windows))
loglines=$((l1 - l0))
log_kinds "$D/one/lurkd.log" $((l0 + 1)) "$l1" >"$D/kinds"
top=$(head -1 "$D/kinds" | cut -d' ' -f1)
out=$D/load.out
wok=$(field "$out" window ok)
wfailed=$(field "$out" window failed)
wmax=$(field "$out" window max_ms)
want=$((40 * span / 1000 / 2))
figure "flood: $(sed 's/^flood //' "$D/flood.out") (status $frc)"
figure "lurkd's descriptors at most $fds_max during the flood"
figure "lurkd CPU over the flood: $cpu ms in $span ms = $(awk -v c="$cpu" -v s="$span" 'BEGIN { printf "%.2f", 100 * c / s }')% of one core"
figure "lurkd log lines during the flood: $loglines, of $(wc -l <"$D/kinds") kinds; the most of one kind: ${top:-0} (bound: 6 x $windows windows = $bound)"
cut -c1-160 "$D/kinds" | head -8 | sed 's/^/   | /'
figure "established client during the flood: ok=$wok failed=$wfailed longest $wmax ms p99 $(field "$out" window p99_ms) ms (rate asks for $((40 * span / 1000)))"
grep '^failed ' "$out" | sed 's/^failed /   figure: failed by code: /'
bar "lurk-drill ran to the end (status $rc; flood $frc)" test "$rc" -eq 0 -a "$frc" -eq 0
bar "lurkd never spins: CPU $cpu ms over $span ms (bar: < 10% of one core)" test $((cpu * 10)) -lt "$span"
bar "lurkd logs the refusal condition a bounded number of times: at most ${top:-0} lines of a kind (bar: <= $bound)" \
	test "${top:-0}" -le "$bound"
bar "the established client keeps signing: failed ${wfailed:-?} (bar: 0), longest ${wmax:-?} ms (bar: < 1000), ok ${wok:-?} (bar: >= $want)" \
	test "${wfailed:-1}" -eq 0 -a "${wmax:-99999}" -lt 1000 -a "${wok:-0}" -ge "$want"
drill_end

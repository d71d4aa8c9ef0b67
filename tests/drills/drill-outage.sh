#!/bin/bash
# Drill 5 (issue 13): every replica down (both killed) for 10 s while 8
# threads keep calling (each pauses 10 ms after a failed call, as a server
# with requests to answer would go on to the next one). Bars:
#   - the consumer's CPU over the outage < 5% of one core (lurk-drill's own
#     getrusage between the moment both were dead and the restart);
#   - the module's log lines over the outage at most one per server per
#     backoff step (doubling 250 ms -> 8 s: the bound is computed from the
#     outage's length);
#   - recovery: once a replica is ready again (its pid file appears; lurkd
#     writes it with its keys loaded and its sockets listening), the first
#     successful signature within 1 s. The second-listed replica comes back;
#     the first stays down.
. "${top_srcdir:-.}/tests/drills/lib-drill.sh"
drill_init "drill-outage: every replica down, 8 threads calling; CPU, log lines, recovery"

OUTAGE_MS=10000
drill_pki || exit 1
drill_replica one 127.0.0.2 && drill_replica two 127.0.0.3 || exit 1
drill_start one && drill_start two || exit 1
drill_module_conf "$D/module.conf" one two
export LURK_PKCS11_CONF=$D/module.conf

drill_bg load "$LURK_DRILL" sign --module "$MODULE" --label ec256 --threads 8 --seconds 90 \
	--per-second --slow-ms 1000 --stop-file "$D/stop" --fail-pause-ms 10 \
	--window-start "$D/outage-start" --window-end "$D/outage-end" --ready-file "$D/two/lurkd.pid"
both_serving() {
	[ "$(audit_count one)" -ge 300 ] && [ "$(audit_count two)" -ge 300 ]
}
if ! wait_for 60 both_serving; then
	bar "both replicas sign before the outage" false
	show_tail "$D/load.err"
	drill_end
	exit 1
fi
l0=$(grep -c '^lurk-pkcs11' "$D/load.err")
t_down=$(now_ms)
kill -KILL "$(drill_pid one)" "$(drill_pid two)"
drill_kill9 one
drill_kill9 two
touch "$D/outage-start"
figure "both replicas killed (SIGKILL) at $t_down"
hold_ms "$OUTAGE_MS"
touch "$D/outage-end"
t_up=$(now_ms)
l1=$(grep -c '^lurk-pkcs11' "$D/load.err")
drill_start two || exit 1
t_ready=$(file_mtime_ms "$D/two/lurkd.pid")
figure "replica two ready (pid file written) at $t_ready, $((t_ready - t_down)) ms after the kill"
t0=$(audit_count two)
served_again() {
	[ "$(audit_count two)" -gt "$t0" ]
}
wait_for 20 served_again
touch "$D/stop"
drill_wait_bg load 60
rc=$?

out=$D/load.out
outage=$((t_up - t_down))
steps=$(backoff_steps "$outage")
bound=$((2 * steps))
lines=$((l1 - l0))
cpu_pct=$(field "$out" window cpu_pct)
recover=$(field "$out" ready recover_ms)
figure "outage: $outage ms; calls in it: ok=$(field "$out" window ok) failed=$(field "$out" window failed), longest $(field "$out" window max_ms) ms"
figure "consumer CPU over the outage: $(field "$out" window cpu_ms) ms in $(field "$out" window ms) ms = ${cpu_pct:-?}% of one core"
figure "module log lines during the outage: $lines (bound: 2 servers x $steps backoff steps = $bound)"
sed -n "$((l0 + 1)),${l1}p" "$D/load.err" | grep '^lurk-pkcs11' | cut -c1-200 | head -12 | sed 's/^/   | /'
figure "recovery: first signature $recover ms after replica two was ready (lurk-drill saw its pid file)"
figure "whole run: ok=$(field "$out" result ok) failed=$(field "$out" result failed) max $(field "$out" result max_ms) ms"
grep '^failed ' "$out" | sed 's/^failed /   figure: failed by code: /'
bar "lurk-drill ran to the end (status $rc)" test "$rc" -eq 0
bar "consumer CPU during the outage ${cpu_pct:-?}% of one core (bar: < 5%)" \
	awk -v c="${cpu_pct:-100}" 'BEGIN { exit !(c < 5) }'
bar "module log lines during the outage: $lines (bar: at most one per server per backoff step, $bound)" \
	test "$lines" -le "$bound"
bar "recovery: first successful signature ${recover:-?} ms after lurkd was ready (bar: within 1000 ms)" \
	test "${recover:--1}" -ge 0 -a "${recover:--1}" -le 1000
drill_end

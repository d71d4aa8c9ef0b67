#!/bin/bash
# Drill 3 (issue 13): a single key server hangs (SIGSTOP) while 4 threads
# sign. Bar: no call lasts longer than `timeout` (2000 ms in the module's
# file) + 500 ms of slack for a loaded machine: lurk-drill's max latency over
# the whole run, calls on pooled connections and new connects alike.
. "${top_srcdir:-.}/tests/drills/lib-drill.sh"
drill_init "drill-timeout: a single hung server; every call ends within timeout"

TIMEOUT_MS=2000
SLACK_MS=500
drill_pki || exit 1
drill_replica one 127.0.0.2 || exit 1
drill_start one || exit 1
drill_module_conf "$D/module.conf" one
export LURK_PKCS11_CONF=$D/module.conf
figure "module file: timeout = $TIMEOUT_MS ms, connect-timeout = 1000 ms, one server"

drill_bg load "$LURK_DRILL" sign --module "$MODULE" --label ec256 --threads 4 --seconds 40 \
	--per-second --slow-ms 1000 --mark-file "$D/mark" --stop-file "$D/stop"
signing() {
	[ "$(audit_count one)" -ge 300 ]
}
if ! wait_for 60 signing; then
	bar "the server signs before it hangs" false
	show_tail "$D/load.err"
	drill_end
	exit 1
fi
kill -STOP "$(drill_pid one)"
now_ms >"$D/mark"
figure "SIGSTOP at $(cat "$D/mark")"
# While it is hung: three timeouts' worth of calls (the window is the
# drill's length, not a condition), then the end of the run.
t_end=$(($(now_ms) + 3 * TIMEOUT_MS))
past_end() {
	[ "$(now_ms)" -ge "$t_end" ]
}
wait_for 10 past_end
touch "$D/stop"
drill_wait_bg load 60
rc=$?
kill -CONT "$(drill_pid one)"

out=$D/load.out
max=$(field "$out" result max_ms)
figure "whole run: ok=$(field "$out" result ok) failed=$(field "$out" result failed) max $max ms p99 $(field "$out" result p99_ms) ms"
figure "calls in flight at the SIGSTOP: $(field "$out" mark inflight), longest $(field "$out" mark inflight_max_ms) ms"
figure "calls started while hung: ok=$(field "$out" mark after_ok) failed=$(field "$out" mark after_failed), longest $(field "$out" mark after_max_ms) ms"
grep '^failed ' "$out" | sed 's/^failed /   figure: failed by code: /'
figure "calls over 1 s: $(grep -c '^slow ' "$out")"
grep '^slow ' "$out" | head -5 | sed 's/^/   | /'
figure "module log lines: $(grep -c '^lurk-pkcs11' "$D/load.err")"
bar "lurk-drill ran to the end (status $rc)" test "$rc" -eq 0
bar "against a hung server the longest call took ${max:-?} ms (bar: timeout + slack = $((TIMEOUT_MS + SLACK_MS)) ms)" \
	test -n "$max" -a "${max:-99999}" -le $((TIMEOUT_MS + SLACK_MS))
drill_end

#!/bin/bash
# Drill 2 (issue 13): one of two replicas hangs (SIGSTOP: it accepts TCP
# connections in the kernel and never answers) while 8 threads sign; run
# twice, the first-listed replica hung, then the second-listed. Bars:
#   - after the calls in flight at the SIGSTOP, 0 failed operations;
#   - each call in flight fails or is retried within `timeout` (2000 ms in
#     the module's file; 500 ms slack for a loaded machine);
#   - a fresh consumer (a new process: C_Initialize, the key list by
#     C_FindObjects) finds the key every time: 5 of 5.
# SIGCONT at the end of each round, and always at exit (lib-drill.sh).
. "${top_srcdir:-.}/tests/drills/lib-drill.sh"
drill_init "drill-hung: SIGSTOP one of two replicas (first listed, then second) while 8 threads sign"

TIMEOUT_MS=2000
SLACK_MS=500
drill_pki || exit 1
drill_replica one 127.0.0.2 && drill_replica two 127.0.0.3 || exit 1
drill_start one && drill_start two || exit 1
drill_module_conf "$D/module.conf" one two
export LURK_PKCS11_CONF=$D/module.conf
figure "module file: timeout = $TIMEOUT_MS ms, connect-timeout = 1000 ms, servers one then two"

round() {
	victim=$1
	other=$2
	echo "-- replica $victim hung ($([ "$victim" = one ] && echo first || echo second) listed)"
	drill_bg "load-$victim" "$LURK_DRILL" sign --module "$MODULE" --label ec256 --threads 8 \
		--seconds 40 --per-second --slow-ms 1000 --mark-file "$D/mark-$victim" \
		--stop-file "$D/stop-$victim"
	# Both replicas are serving this consumer before one hangs.
	b1=$(audit_count one)
	b2=$(audit_count two)
	both_serving() {
		[ "$(audit_count one)" -ge $((b1 + 200)) ] && [ "$(audit_count two)" -ge $((b2 + 200)) ]
	}
	if ! wait_for 60 both_serving; then
		bar "$victim: both replicas sign before the SIGSTOP" false
		show_tail "$D/load-$victim.err"
		return
	fi
	# The mark is taken once the signal is sent: a call started before it and
	# still waiting is one the hung replica holds.
	kill -STOP "$(drill_pid "$victim")"
	t=$(now_ms)
	echo "$t" >"$D/mark-$victim"
	figure "$victim: SIGSTOP at $t"
	# Fresh consumers while it is hung, each a new process.
	found=0
	fresh_max=0
	for i in 1 2 3 4 5; do
		"$LURK_DRILL" fresh --module "$MODULE" --label ec256 --count 1 \
			>"$D/fresh-$victim-$i.out" 2>"$D/fresh-$victim-$i.err"
		f=$(field "$D/fresh-$victim-$i.out" fresh ok)
		ms=$(field "$D/fresh-$victim-$i.out" fresh max_ms)
		found=$((found + ${f:-0}))
		[ "${ms:-0}" -gt "$fresh_max" ] && fresh_max=${ms:-0}
	done
	# The load goes on with the other replica until it has signed 2,000 more.
	o0=$(audit_count "$other")
	other_alone() {
		[ "$(audit_count "$other")" -ge $((o0 + 2000)) ]
	}
	wait_for 30 other_alone
	touch "$D/stop-$victim"
	drill_wait_bg "load-$victim" 60
	rc=$?
	kill -CONT "$(drill_pid "$victim")"

	out=$D/load-$victim.out
	inflight=$(field "$out" mark inflight)
	inflight_failed=$(field "$out" mark inflight_failed)
	inflight_max=$(field "$out" mark inflight_max_ms)
	after_ok=$(field "$out" mark after_ok)
	after_failed=$(field "$out" mark after_failed)
	figure "$victim: calls in flight at the SIGSTOP: $inflight, of which failed $inflight_failed, longest $inflight_max ms"
	figure "$victim: calls started after it: ok=$after_ok failed=$after_failed, longest $(field "$out" mark after_max_ms) ms"
	figure "$victim: whole run: ok=$(field "$out" result ok) failed=$(field "$out" result failed) max $(field "$out" result max_ms) ms p99 $(field "$out" result p99_ms) ms"
	grep '^failed ' "$out" | sed "s/^failed /   figure: $victim: failed by code: /"
	figure "$victim: calls over 1 s: $(grep -c '^slow ' "$out")"
	figure "$victim: fresh consumers that found the key: $found of 5 (slowest $fresh_max ms)"
	figure "$victim: module log lines: $(grep -c '^lurk-pkcs11' "$D/load-$victim.err")"
	grep -h '^lurk-pkcs11' "$D/load-$victim.err" "$D"/fresh-"$victim"-*.err 2>/dev/null | head -6 |
		sed 's/^/   | /'
	bar "$victim: lurk-drill ran to the end (status $rc)" test "$rc" -eq 0
	bar "$victim hung: after the in-flight calls, ${after_failed:-?} failed operations (bar: 0)" \
		test "${after_failed:-1}" -eq 0 -a "${after_ok:-0}" -gt 0
	after_max=$(field "$out" mark after_max_ms)
	longest=$((${inflight_max:-99999} > ${after_max:-99999} ? ${inflight_max:-99999} : ${after_max:-99999}))
	bar "$victim hung: each call in flight to it failed or was retried within timeout + slack (longest $longest ms, bar: $((TIMEOUT_MS + SLACK_MS)) ms)" \
		test "$longest" -le $((TIMEOUT_MS + SLACK_MS))
	bar "$victim hung: a fresh consumer's key list loads every time ($found of 5)" test "$found" -eq 5
}

round one two
round two one
drill_end

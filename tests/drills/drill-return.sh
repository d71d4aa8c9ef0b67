#!/bin/bash
# Drill 4 (issue 13): two replicas, 8 threads signing 2,000 times a second
# (well under what this machine's two replicas can do: paced, a replica's
# count is where the module sent the calls, not how much CPU that lurkd got
# next to the other on the same cores); the second replica is
# killed (SIGKILL), the load goes to the first alone, and then it is started
# again. Bar: within 10 s of its return (its pid file appears: lurkd writes
# it once its keys are loaded and its sockets listen) it serves at least a
# third of the signatures. Measured from the replicas' audit logs (one
# record per signature, with its time): the signatures each replica logged
# in the 10 s after the return (and, as figures, second by second).
. "${top_srcdir:-.}/tests/drills/lib-drill.sh"
drill_init "drill-return: a killed replica comes back and takes its share within 10 s"

drill_pki || exit 1
drill_replica one 127.0.0.2 && drill_replica two 127.0.0.3 || exit 1
drill_start one && drill_start two || exit 1
drill_module_conf "$D/module.conf" one two
export LURK_PKCS11_CONF=$D/module.conf

drill_bg load "$LURK_DRILL" sign --module "$MODULE" --label ec256 --threads 8 --rate 2000 \
	--seconds 90 --per-second --slow-ms 1000 --stop-file "$D/stop"
both_serving() {
	[ "$(audit_count one)" -ge 300 ] && [ "$(audit_count two)" -ge 300 ]
}
if ! wait_for 60 both_serving; then
	bar "both replicas sign before the kill" false
	show_tail "$D/load.err"
	drill_end
	exit 1
fi
drill_kill9 two
figure "replica two killed (SIGKILL) at $(now_ms)"
o0=$(audit_count one)
one_alone() {
	[ "$(audit_count one)" -ge $((o0 + 2000)) ]
}
wait_for 30 one_alone
figure "replica one signed $(($(audit_count one) - o0)) alone"
drill_start two || exit 1
t_ret=$(file_mtime_ms "$D/two/lurkd.pid")
figure "replica two back (pid file written) at $t_ret"
# Twelve seconds of load after the return: the measurement window.
past_window() {
	[ "$(now_ms)" -ge $((t_ret + 12000)) ]
}
wait_for 20 past_window
touch "$D/stop"
drill_wait_bg load 60
rc=$?

audit_ms one >"$D/one.ms"
audit_ms two >"$D/two.ms"
first_third=""
for s in $(seq 1 12); do
	a=$((t_ret + (s - 1) * 1000))
	b=$((t_ret + s * 1000))
	n1=$(count_between "$D/one.ms" "$a" "$b")
	n2=$(count_between "$D/two.ms" "$a" "$b")
	pct=$(( (n1 + n2) > 0 ? 100 * n2 / (n1 + n2) : 0 ))
	figure "second $s after the return: one=$n1 two=$n2 (two's share $pct%)"
	if [ -z "$first_third" ] && [ $((3 * n2)) -ge $((n1 + n2)) ] && [ $((n1 + n2)) -gt 0 ]; then
		first_third=$s
	fi
done
n1=$(count_between "$D/one.ms" "$t_ret" $((t_ret + 10000)))
n2=$(count_between "$D/two.ms" "$t_ret" $((t_ret + 10000)))
figure "first second in which two served a third or more: ${first_third:-none}"
figure "the 10 s after the return: one=$n1 two=$n2 (two's share $(( (n1 + n2) > 0 ? 100 * n2 / (n1 + n2) : 0 ))%)"
figure "whole run: ok=$(field "$D/load.out" result ok) failed=$(field "$D/load.out" result failed) max $(field "$D/load.out" result max_ms) ms"
grep '^failed ' "$D/load.out" | sed 's/^failed /   figure: failed by code: /'
figure "module log lines: $(grep -c '^lurk-pkcs11' "$D/load.err")"
bar "lurk-drill ran to the end (status $rc)" test "$rc" -eq 0
bar "within 10 s of its return replica two serves at least a third of the signatures: $n2 of $((n1 + n2))" \
	test $((n1 + n2)) -gt 0 -a $((3 * n2)) -ge $((n1 + n2))
drill_end

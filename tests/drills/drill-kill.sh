#!/bin/bash
# Drill 1 (issue 13): two replicas with the same keys, each with its own
# static key, both in the module's file; 8 threads sign ECDSA; the first
# replica listed is killed with SIGKILL mid-run. Bar: 0 failed operations.
. "${top_srcdir:-.}/tests/drills/lib-drill.sh"
drill_init "drill-kill: kill -9 one of two replicas while 8 threads sign"

drill_pki || exit 1
drill_replica one 127.0.0.2 && drill_replica two 127.0.0.3 || exit 1
drill_start one && drill_start two || exit 1
drill_module_conf "$D/module.conf" one two
export LURK_PKCS11_CONF=$D/module.conf

drill_bg load "$LURK_DRILL" sign --module "$MODULE" --label ec256 --threads 8 --seconds 30 \
	--per-second --slow-ms 1000 --stop-file "$D/stop"
# Mid-run: both replicas have been signing (their audit logs say so).
both_signing() {
	[ "$(audit_count one)" -ge 300 ] && [ "$(audit_count two)" -ge 300 ]
}
if ! wait_for 60 both_signing; then
	bar "both replicas sign before the kill" false
	show_tail "$D/load.out"
	show_tail "$D/load.err"
	drill_end
	exit 1
fi
before_one=$(audit_count one)
before_two=$(audit_count two)
drill_kill9 one
figure "replica one killed (SIGKILL) after $before_one signatures; replica two had $before_two"
# The load goes on with one replica until it has signed 2,000 more (at most 30 s).
two_alone() {
	[ "$(audit_count two)" -ge $((before_two + 2000)) ]
}
wait_for 30 two_alone
touch "$D/stop"
drill_wait_bg load 60
rc=$?

ok=$(field "$D/load.out" result ok)
failed=$(field "$D/load.out" result failed)
figure "signatures: ok=$ok failed=${failed:-?} (lurk-drill status $rc)"
figure "latency: max $(field "$D/load.out" result max_ms) ms, p99 $(field "$D/load.out" result p99_ms) ms"
grep '^failed ' "$D/load.out" | sed 's/^failed /   figure: failed by code: /'
figure "replica two signed $(($(audit_count two) - before_two)) after the kill"
figure "module log lines: $(grep -c '^lurk-pkcs11' "$D/load.err")"
grep '^lurk-pkcs11' "$D/load.err" | head -5 | sed 's/^/   | /'
bar "lurk-drill ran to the end (status $rc)" test "$rc" -eq 0
bar "kill -9 of one replica mid-run: ${failed:-?} failed operations (bar: 0)" test "${failed:-1}" -eq 0
bar "signing went on after the kill through replica two" two_alone
# A replica that accepted this client a moment ago and then closes mid-handshake
# is going away; the module must not send the operator to check keys.
bar "no module line blames the keys for a killed replica" \
	sh -c "! grep -q 'check public-key' '$D/load.err'"
drill_end

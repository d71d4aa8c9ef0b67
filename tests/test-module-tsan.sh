#!/bin/bash
# The module's concurrency under ThreadSanitizer (a --enable-tsan build; run
# by scripts/test.sh through `make check-tsan`, not by `make check`): 8
# threads signing, the PKCS#11 conformance program (racing C_Initialize),
# C_Login/C_Logout and C_Finalize while threads sign (the programs
# test-module-race.sh runs), pkcs11-tool's thread test. Any ThreadSanitizer
# report fails (its exit code, and its WARNING and ERROR lines), and so does
# a program that crashes or does not end within PROG_BOUND_S seconds.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
. "${top_srcdir:-.}/tests/lib-race.sh"
# Thread leaks are the test programs' own (threads left running at a fork).
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 report_thread_leaks=0 ${TSAN_OPTIONS:-}"
# tests/test-module-fork is not run here: ThreadSanitizer does not support a
# child forked from a multi-threaded process going on to use threads and
# locks (its children hang inside the runtime); the strict and ASan builds
# run it.
# PROGRAM:MODE; the mode also picks the module's file (tests/lib-race.sh).
progs="tests/test-module-p11:conformance tests/test-module-ops:ops tests/test-module-ops:threads
	tests/test-module-logout:pin tests/test-module-finalize:finalize"
plan $(($(echo "$progs" | wc -w) + 2))

race_start
check "lurkd starts" test -S "$D/lurkd.sock"
export LURK_TEST_DIR=$D

# A bound on one program, far above what it takes (a hang is a failure, not a wait).
PROG_BOUND_S=${PROG_BOUND_S:-300}
for p in $progs; do
	prog=${p%%:*}
	mode=${p#*:}
	case $mode in
	pin) conf=$D/pin.conf ;;
	finalize) conf=$D/race.conf ;;
	*) conf=$D/a.conf ;;
	esac
	LURK_PKCS11_CONF=$conf LURK_TEST_MODE=$mode timeout -k 10 "$PROG_BOUND_S" "$B/$prog" >"$D/out" 2>&1
	rc=$?
	# A data race (or lock-order inversion) is TSan's exit code 66 and a
	# WARNING; a crash it caught is 66 and an ERROR; 124 is the bound,
	# above 128 a signal TSan did not catch. 1 is the program's own failure.
	if [ "$rc" -ne 66 ] && [ "$rc" -ne 124 ] && [ "$rc" -lt 128 ] &&
		! grep -qE "(WARNING|ERROR): ThreadSanitizer" "$D/out"; then
		ok "no ThreadSanitizer report, no crash: $prog ($mode)"
	else
		not_ok "no ThreadSanitizer report, no crash: $prog ($mode) (exit status $rc)"
		grep -A30 -E "(WARNING|ERROR): ThreadSanitizer" "$D/out" | head -60 | sed 's/^/# /'
	fi
	# The programs' own results (they may time out on a slow TSan lurkd).
	grep "^not ok" "$D/out" | sed 's/^/# (functional) /'
done
# A foreign program's threads through the module (libtsan preloaded for it).
if LURK_PKCS11_CONF=$D/a.conf timeout 120 env LD_PRELOAD="${LURK_TOOL_PRELOAD:-}" GNUTLS_PIN=x pkcs11-tool --module "$LURK_TEST_MODULE" \
	--test-threads ILGISLT0 -L -O >"$D/pt.out" 2>&1 &&
	grep -q "all threads have ended with CKR_OK" "$D/pt.out" &&
	! grep -qE "(WARNING|ERROR): ThreadSanitizer" "$D/pt.out"; then
	ok "no ThreadSanitizer report: pkcs11-tool --test-threads"
else
	not_ok "no ThreadSanitizer report: pkcs11-tool --test-threads"
	grep -A30 -E "(WARNING|ERROR): ThreadSanitizer" "$D/pt.out" | head -40 | sed 's/^/# /'
fi
finish

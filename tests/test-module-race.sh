#!/bin/bash
# The module's calls that change its state while other threads sign, against
# a real lurkd: C_Login/C_Logout of a PIN-protected client key
# (test-module-logout) and C_Finalize then C_Initialize (test-module-finalize).
# test-module-tsan.sh runs the same programs under ThreadSanitizer.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
. "${top_srcdir:-.}/tests/lib-race.sh"
plan 3
race_start
check "lurkd starts" test -S "$D/lurkd.sock"

# One TAP line a program; its own lines become comments.
if LURK_PKCS11_CONF=$D/pin.conf "$B/tests/test-module-logout" >"$D/out" 2>&1; then
	ok "C_Login and C_Logout while 8 threads sign: only CKR_OK or not logged in"
else
	not_ok "C_Login and C_Logout while 8 threads sign: only CKR_OK or not logged in"
fi
sed 's/^/# /' "$D/out"
if LURK_PKCS11_CONF=$D/race.conf "$B/tests/test-module-finalize" >"$D/out" 2>&1; then
	ok "C_Finalize while threads sign, then C_Initialize: no crash, a signature"
else
	not_ok "C_Finalize while threads sign, then C_Initialize: no crash, a signature"
fi
sed 's/^/# /' "$D/out"
finish

#!/bin/bash
# `make check-valgrind`: the module under valgrind's memcheck, loaded by our
# conformance and operations programs and by p11tool (--list-all,
# --test-sign), against a real lurkd. Any memcheck error or definite leak
# fails (--error-exitcode). Run by scripts/test.sh; not part of `make check`
# (memcheck makes it slow).
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 6

VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no --child-silent-after-fork=yes"
MODULE=$(cd "$top_builddir" && pwd)/.libs/lurk-pkcs11.so
export LURK_TEST_MODULE=$MODULE

lurkd_setup "$D" >/dev/null && lurkd_start "$D"
check "setup and start lurkd" test -S "$D/lurkd.sock"
printf '[module]\nclient-key = %s\nconnect-timeout = 5000\ntimeout = 10000\n\n[server one]\naddress = unix:%s\npublic-key = %s\n' \
	"$D/a.key" "$D/lurkd.sock" "$(cat "$D/server.pub")" >"$D/module.conf"
export LURK_PKCS11_CONF=$D/module.conf

# vg NAME CMD...: one TAP line; memcheck's report becomes comments.
vg() {
	_name=$1
	shift
	if $VG "$@" >"$D/out" 2>&1; then ok "$_name"; else not_ok "$_name (status $?)"; fi
	grep -E '==[0-9]+==' "$D/out" | head -40 | sed 's/^/# /'
}
vg "memcheck: PKCS#11 conformance program" "$top_builddir/tests/test-module-p11"
vg "memcheck: sign, decrypt, refusals, 8 threads, fork" env LURK_TEST_MODE=ops "$top_builddir/tests/test-module-ops"
vg "memcheck: p11tool --list-all through the module" p11tool --provider "$MODULE" --list-all pkcs11:token=lurk
vg "memcheck: p11tool --test-sign ECDSA" p11tool --provider "$MODULE" --test-sign "pkcs11:token=lurk;object=ec256;type=private"
vg "memcheck: p11tool --test-sign RSA-PSS" p11tool --provider "$MODULE" --test-sign "pkcs11:token=lurk;object=rsa2048;type=private"
finish

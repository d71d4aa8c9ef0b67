#!/bin/bash
# The module's client key in guarded memory (test-module-guard.c), plain and
# PIN-protected. Needs no lurkd: the server named in the files is never called.
. "${top_srcdir:-.}/tests/lib.sh"
make_tmpdir
D=$TEST_TMP
trap 'rm -rf "$D"' EXIT
ADMIN=$top_builddir/lurk-admin

"$ADMIN" genkey "$D/server.key" >"$D/server.pub" || exit 1
"$ADMIN" genkey "$D/a.key" >"$D/a.pub" || exit 1
echo 1357 >"$D/pin"
chmod 600 "$D/pin"
"$ADMIN" genkey --pin-file "$D/pin" "$D/p.key" >"$D/p.pub" || exit 1
for k in a p; do
	printf '[module]\nclient-key = %s\n\n[server one]\naddress = unix:%s\npublic-key = %s\n' \
		"$D/$k.key" "$D/nobody.sock" "$(cat "$D/server.pub")" >"$D/$k.conf"
done
LURK_TEST_MODULE=$(cd "$top_builddir" && pwd)/.libs/lurk-pkcs11.so \
	LURK_TEST_PLAIN_CONF=$D/a.conf LURK_TEST_PIN_CONF=$D/p.conf LURK_TEST_PIN=1357 \
	"$top_builddir/tests/test-module-guard"

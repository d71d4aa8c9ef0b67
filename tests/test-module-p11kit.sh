#!/bin/bash
# The module through p11-kit's registration, the way a user installs it: a
# lurk.module in a p11-kit config folder (here the user config of an
# unprivileged user, since p11-kit ignores user configs for root;
# docs/consumers.md), then p11-kit and GnuTLS's p11tool with no
# --provider see the token and sign through it.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT

# As root, run the consumers as nobody; otherwise as ourselves.
as_user() { $TOOL_ENV "$@"; }
if [ "$(id -u)" -eq 0 ]; then
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups -- $TOOL_ENV "$@"; }
	plan 7
else
	plan 6
fi

check "setup and start lurkd" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_setup '$D' >/dev/null && lurkd_start '$D' >/dev/null"

# What the user's side holds: the module, its file, the client key (theirs, 0600).
U=$D/user
mkdir -p "$U/home/.config/pkcs11/modules"
cp "$top_builddir/.libs/lurk-pkcs11.so" "$U/lurk-pkcs11.so"
cp "$D/a.key" "$U/client.key"
printf '[module]\nclient-key = %s\n\n[server one]\naddress = tcp:127.0.0.1:%s\npublic-key = %s\n' \
	"$U/client.key" "$(cat "$D/port")" "$(cat "$D/server.pub")" >"$U/lurk-pkcs11.conf"
sed "s|@MODULE@|$U/lurk-pkcs11.so|; s|@SYSCONF@|/etc|" "$top_srcdir/pkcs11-conf/lurk.module.in" \
	>"$U/home/.config/pkcs11/modules/lurk.module"
# Only user modules, so the listing is ours alone.
echo "user-config: only" >"$U/home/.config/pkcs11/pkcs11.conf"
chmod 755 "$D"
if [ "$(id -u)" -eq 0 ]; then chown -R 65534:65534 "$U"; fi
chmod 600 "$U/client.key"

export HOME="$U/home" LURK_PKCS11_CONF="$U/lurk-pkcs11.conf"
unset XDG_CONFIG_HOME

out=$(as_user p11-kit list-modules 2>&1)
check "p11-kit list-modules shows the lurk module and its token" \
	sh -c 'echo "$0" | grep -q "^lurk: .*lurk-pkcs11.so" && echo "$0" | grep -q "token: lurk"' "$out"
[ "$TAP_FAILED" -eq 0 ] || diag "$out"

out=$(as_user p11tool --list-tokens 2>&1)
check "p11tool (no --provider) lists the token" sh -c 'echo "$0" | grep -q "Label: lurk"' "$out"

out=$(as_user p11tool --list-all "pkcs11:token=lurk" 2>&1)
check "p11tool lists its keys and certificates" \
	sh -c 'echo "$0" | grep -q "object=ec256;type=private" && echo "$0" | grep -q "object=rsa2048;type=cert"' "$out"

out=$(as_user p11tool --test-sign "pkcs11:token=lurk;object=ec256;type=private" 2>&1)
check "p11tool --test-sign through the registration" \
	sh -c 'echo "$0" | grep -q "Verifying against public key in the token... ok"' "$out"

out=$(as_user p11tool --test-sign --sign-params RSA-PSS "pkcs11:token=lurk;object=rsa2048;type=private" 2>&1)
check "p11tool --test-sign RSA-PSS through the registration" \
	sh -c 'echo "$0" | grep -q "Verifying against public key in the token... ok"' "$out"

if [ "$(id -u)" -eq 0 ]; then
	# The trap a root user meets: the same user config is not read (README troubleshooting).
	out=$($TOOL_ENV p11-kit list-modules 2>&1)
	check "as root, p11-kit ignores that user config" sh -c '! echo "$0" | grep -q "lurk-pkcs11.so"' "$out"
fi
finish

#!/bin/bash
# The client core (client/) on its own, as an OpenSSL provider will use it:
# lurk-client -c reads a module configuration file, lists the keys and signs
# through client/conf, client/keys and client/ops against a real lurkd; a
# refusal comes back with lurkd's reason in the core's log line.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 9

# Not through check: lurkd_setup's helpers use check's variables.
if lurkd_setup "$D"; then ok "setup: PKI, Noise keys and lurkd.conf"; else not_ok "setup: PKI, Noise keys and lurkd.conf"; fi
check "lurkd starts" lurkd_start "$D"

# The module's file format, [token] sections included (the module's, left alone).
printf '[module]\nclient-key = %s\ntimeout = 5000\n\n[server one]\naddress = unix:%s\npublic-key = %s\n\n[token web]\nkeys = ec256\n' \
	"$D/a.key" "$D/lurkd.sock" "$(cat "$D/server.pub")" >"$D/a.conf"
core() { "$LURK_CLIENT" -c "$@"; }

list=$(core "$D/a.conf" list 2>"$D/err")
check "the core lists client a's 6 keys" test "$(echo "$list" | wc -l)" -eq 6
check "with the same lines as the raw list" test "$list" = "$(lc "$D" a list)"

core "$D/a.conf" sign ec256 ecdsa "$(rand_hex 32)" >/dev/null 2>"$D/err"
check "a signature through the core verifies" test $? -eq 0
core "$D/a.conf" sign rsa2048 sha256-rsa-pss "$(tls13_content 32)" >/dev/null 2>"$D/err"
check "and one with PSS parameters" test $? -eq 0

# rsa-decrypt is off for rsa3072: lurkd refuses, the core logs its reason.
pms=$(printf '0303'; rand_hex 46)
openssl x509 -in "$D/pki/rsa3072.pem" -pubkey -noout >"$D/rsa3072.pub"
printf '%s' "$pms" | xxd -r -p >"$D/pms.bin"
openssl pkeyutl -encrypt -pubin -inkey "$D/rsa3072.pub" -pkeyopt rsa_padding_mode:pkcs1 \
	-in "$D/pms.bin" -out "$D/pms.ct"
core "$D/a.conf" decrypt rsa3072 "$(xxd -p "$D/pms.ct" | tr -d '\n')" >/dev/null 2>"$D/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "lurkd refused decrypt with key rsa3072: .*: ." "$D/err"; then
	ok "a refused request gives lurkd's reason in the core's log line"
else
	not_ok "a refused request gives lurkd's reason in the core's log line"
	diag "rc=$rc: $(cat "$D/err")"
fi

# A file the core cannot use: file:line: reason, as the module says it.
printf '[module]\nclient-key = %s\n[nonsense]\n' "$D/a.key" >"$D/bad.conf"
core "$D/bad.conf" list >/dev/null 2>"$D/err"
rc=$?
check "a bad file is refused with file:line: reason" \
	eval '[ $rc -eq 1 ] && grep -q "bad.conf:3: unknown section \[nonsense\]" "$D/err"'

# No server answers: the core's line says why, and the list fails.
lurkd_stop "$D" >/dev/null 2>&1
core "$D/a.conf" list >/dev/null 2>"$D/err"
rc=$?
check "with lurkd gone the core says what to fix" \
	eval '[ $rc -eq 1 ] && grep -q "is lurkd running?" "$D/err"'
finish

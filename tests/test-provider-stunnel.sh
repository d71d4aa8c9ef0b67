#!/bin/bash
# stunnel4 (Debian's 5.68, unmodified) with `key =` naming LURK KEY files and
# OPENSSL_CONF in its environment (stunnel has no provider setting), in the
# foreground on loopback, one service per key whose TLS stream is served by
# `exec` (a program writing "lurk KEY"). openssl s_client verifies the demo
# chain over TLS 1.3 and 1.2 with RSA-2048 (PSS in 1.3, PKCS#1 in 1.2),
# ECDSA P-256 and P-384 and Ed25519; lurkd's audit log shows the
# content-carrying mechanism of each and no bare hash (issue 16).
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
. "${top_srcdir:-.}/tests/provider-lib.sh"
make_tmpdir
D=$TEST_TMP
S=$D/stunnel
ST=
trap '[ -n "$ST" ] && kill $ST 2>/dev/null && wait $ST 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 12

PORT=$(lurkd_pick_port 61)
check "setup and start lurkd" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_setup '$D' >/dev/null && lurkd_start '$D' >/dev/null"
prov_setup "$D"
mkdir -p "$S"
chmod 600 "$D"/*.lurk # stunnel warns about a world-readable key file
PROV_LOGS="$S/stunnel.log"

P_RSA=$PORT P_EC256=$((PORT + 1)) P_EC384=$((PORT + 2)) P_ED=$((PORT + 3))
{
	cat <<EOF2
foreground = yes
pid =
debug = notice
EOF2
	for fk in "rsa2048 $P_RSA" "ec256 $P_EC256" "ec384 $P_EC384" "ed25519 $P_ED"; do
		set -- $fk
		cat <<EOF2

[$1]
accept = 127.0.0.1:$2
cert = $D/pki/$1-chain.pem
key = $D/$1.lurk
sslVersionMin = TLSv1.2
exec = /bin/echo
execArgs = echo lurk $1
EOF2
	done
} >"$S/stunnel.conf"

before=$(wc -l <"$D/audit.log")
OPENSSL_CONF=$D/openssl.cnf $TOOL_ENV stunnel4 "$S/stunnel.conf" >"$S/stunnel.log" 2>&1 &
ST=$!
up=1
for p in $P_RSA $P_EC256 $P_EC384 $P_ED; do prov_wait_port "$p" "$ST" || up=0; done
if [ $up -eq 1 ]; then
	ok "stunnel4 starts with four LURK KEY files (key =, OPENSSL_CONF)"
else
	not_ok "stunnel4 starts with four LURK KEY files"
	sed 's/^/# /' "$S/stunnel.log"
fi
check "loading the keys sent nothing to lurkd" test "$(wc -l <"$D/audit.log")" -eq "$before"

hs() { # NAME PORT KEY SIGTYPE MECH S_CLIENT-ARGS...
	_a=$1 _b=$2 _c=$3 _e=$4 _f=$5
	shift 5
	prov_hs "$D" "$_a" "$_b" "$_c" "$_e" "$_f" '' "lurk $_c" "$@"
}
hs "RSA 2048, TLS 1.3 (RSA-PSS)" $P_RSA rsa2048 RSA-PSS CKM_SHA256_RSA_PKCS_PSS -tls1_3
hs "RSA 2048, TLS 1.2, PKCS#1 (RSA+SHA256)" $P_RSA rsa2048 RSA CKM_SHA256_RSA_PKCS -tls1_2 -sigalgs RSA+SHA256
hs "ECDSA P-256, TLS 1.3" $P_EC256 ec256 ECDSA CKM_ECDSA_SHA256 -tls1_3
hs "ECDSA P-256, TLS 1.2" $P_EC256 ec256 ECDSA CKM_ECDSA_SHA256 -tls1_2 -sigalgs ECDSA+SHA256
hs "ECDSA P-384, TLS 1.3" $P_EC384 ec384 ECDSA CKM_ECDSA_SHA384 -tls1_3
hs "ECDSA P-384, TLS 1.2" $P_EC384 ec384 ECDSA CKM_ECDSA_SHA384 -tls1_2 -sigalgs ECDSA+SHA384
hs "Ed25519, TLS 1.3" $P_ED ed25519 ed25519 CKM_EDDSA -tls1_3
hs "Ed25519, TLS 1.2" $P_ED ed25519 ed25519 CKM_EDDSA -tls1_2

bare=$(prov_bare_count "$D")
check "no handshake signature reached lurkd as a bare hash: $bare" test "$bare" -eq 0
finish

#!/bin/bash
# lurk-provider.so under an unmodified `openssl s_server` (Debian's), loaded
# with OPENSSL_CONF only, its key a LURK KEY file: `openssl s_client`
# verifies the demo chain, completes a handshake and exchanges a line, over
# TLS 1.3 and 1.2 with RSA (PSS, and PKCS#1 forced in 1.2), ECDSA P-256,
# P-384, P-521 and Ed25519, and the TLS 1.2 RSA key exchange. lurkd's audit
# log must show, for each, the mechanism that carries the whole content
# (CKM_SHA256_RSA_PKCS_PSS, CKM_ECDSA_SHA384, CKM_EDDSA, ...) with more bytes
# than any hash: never a bare hash (issue 16).
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
. "${top_srcdir:-.}/tests/provider-lib.sh"
make_tmpdir
D=$TEST_TMP
SERV=
trap '[ -n "$SERV" ] && kill $SERV 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 16

PORT=$(lurkd_pick_port 31)
check "setup and start lurkd" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_setup '$D' >/dev/null && lurkd_start '$D' >/dev/null"
prov_setup "$D"
export OPENSSL_CONF=$D/openssl.cnf

# The provider loads every key file without lurkd and gives the certificate's public key.
bad=
for k in $PROV_KEYS; do
	a=$($TOOL_ENV openssl pkey -in "$D/$k.lurk" -pubout 2>"$D/pkey.err")
	b=$(plain_openssl x509 -in "$D/pki/$k.pem" -pubkey -noout)
	[ -n "$a" ] && [ "$a" = "$b" ] || { bad="$bad $k"; sed 's/^/# /' "$D/pkey.err"; }
done
check "openssl pkey -pubout on the six LURK KEY files gives the certificates' keys" test -z "$bad"

# s_server KEY: openssl s_server on the LURK KEY file, reversing lines (-rev).
s_server() {
	[ -n "$SERV" ] && kill "$SERV" 2>/dev/null && wait "$SERV" 2>/dev/null
	$TOOL_ENV openssl s_server -rev -key "$D/$1.lurk" -cert "$D/pki/$1.pem" \
		-cert_chain "$D/pki/int.pem" -accept "127.0.0.1:$PORT" >"$D/s_server.log" 2>&1 &
	SERV=$!
	for _i in $(seq 1 400); do
		grep -q "^ACCEPT" "$D/s_server.log" 2>/dev/null && return 0
		kill -0 "$SERV" 2>/dev/null || break
		sleep 0.05
	done
	sed 's/^/# /' "$D/s_server.log"
	return 1
}

# hs NAME KEY PEER-SIGTYPE MECH OP S_CLIENT-ARGS...: a verified handshake, one
# line there and back, and one more audit line of MECH for KEY, carrying
# more than a hash's bytes.
hs() {
	_name=$1 _key=$2 _sig=$3 _mech=$4 _op=$5
	shift 5
	_n=$(prov_audit_count "$D" "$_key" "$_mech")
	out=$(printf 'hello lurk\nCLOSE\n' | OPENSSL_CONF=/dev/null timeout 20 openssl s_client \
		-ign_eof -connect "127.0.0.1:$PORT" -CAfile "$D/pki/ca.pem" -verify_return_error "$@" 2>&1)
	_why=
	echo "$out" | grep -q "Verify return code: 0 (ok)" || _why="no verified handshake"
	[ -z "$_sig" ] || echo "$out" | grep -q "Peer signature type: $_sig" || _why="$_why; not $_sig"
	echo "$out" | grep -q "krul olleh" || _why="$_why; no line back"
	if prov_wait_audit "$D" "$_key" "$_mech" $((_n + 1)); then
		_len=$(grep "\"key\":\"$_key\",\"op\":\"$_op\",\"mechanism\":\"$_mech\"" "$D/audit.log" |
			tail -1 | sed 's/.*"input_len":\([0-9]*\).*/\1/')
		[ "$_op" = decrypt ] || [ "$_len" -gt 64 ] || _why="$_why; $_mech over $_len bytes"
	else
		_why="$_why; no $_mech in the audit log"
	fi
	if [ -z "$_why" ]; then
		ok "$_name: $(echo "$out" | sed -n 's/^New, //p' | head -1), $_mech over ${_len} bytes"
	else
		not_ok "$_name:$_why"
		echo "$out" | grep -iE "error|verify|signature|^New" | head -10 | sed 's/^/# /'
		tail -5 "$D/s_server.log" | sed 's/^/# server: /'
		tail -2 "$D/audit.log" | sed 's/^/# audit: /'
	fi
}

s_server rsa2048
hs "RSA 2048, TLS 1.3 (RSA-PSS)" rsa2048 RSA-PSS CKM_SHA256_RSA_PKCS_PSS sign -tls1_3
hs "RSA 2048, TLS 1.3, RSA-PSS with SHA-512" rsa2048 RSA-PSS CKM_SHA512_RSA_PKCS_PSS sign -tls1_3 \
	-sigalgs rsa_pss_rsae_sha512
hs "RSA 2048, TLS 1.2, PKCS#1 forced (RSA+SHA256)" rsa2048 RSA CKM_SHA256_RSA_PKCS sign -tls1_2 \
	-sigalgs RSA+SHA256
hs "RSA 2048, TLS 1.2, RSA-PSS" rsa2048 RSA-PSS CKM_SHA256_RSA_PKCS_PSS sign -tls1_2
hs "RSA 2048, TLS 1.2 RSA key exchange (lurkd decrypts)" rsa2048 "" CKM_RSA_PKCS decrypt -tls1_2 \
	-cipher AES128-GCM-SHA256
s_server rsa3072
hs "RSA 3072, TLS 1.3, RSA-PSS with SHA-384" rsa3072 RSA-PSS CKM_SHA384_RSA_PKCS_PSS sign -tls1_3 \
	-sigalgs rsa_pss_rsae_sha384
s_server ec256
hs "ECDSA P-256, TLS 1.3" ec256 ECDSA CKM_ECDSA_SHA256 sign -tls1_3
hs "ECDSA P-256, TLS 1.2" ec256 ECDSA CKM_ECDSA_SHA256 sign -tls1_2 -sigalgs ECDSA+SHA256
s_server ec384
hs "ECDSA P-384, TLS 1.3" ec384 ECDSA CKM_ECDSA_SHA384 sign -tls1_3
hs "ECDSA P-384, TLS 1.2 (ECDSA+SHA384)" ec384 ECDSA CKM_ECDSA_SHA384 sign -tls1_2 -sigalgs ECDSA+SHA384
s_server ec521
hs "ECDSA P-521, TLS 1.3" ec521 ECDSA CKM_ECDSA_SHA512 sign -tls1_3
s_server ed25519
hs "Ed25519, TLS 1.3" ed25519 ed25519 CKM_EDDSA sign -tls1_3
hs "Ed25519, TLS 1.2" ed25519 ed25519 CKM_EDDSA sign -tls1_2
kill "$SERV" 2>/dev/null
wait "$SERV" 2>/dev/null
SERV=

# None of these handshakes went to lurkd as a bare hash.
bare=$(grep -cE '"op":"sign","mechanism":"(CKM_ECDSA|CKM_RSA_PKCS|CKM_RSA_PKCS_PSS)"' "$D/audit.log")
check "no handshake signature reached lurkd as a bare hash (CKM_ECDSA, CKM_RSA_PKCS, CKM_RSA_PKCS_PSS): $bare" \
	test "$bare" -eq 0
finish

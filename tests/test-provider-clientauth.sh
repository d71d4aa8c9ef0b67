#!/bin/bash
# TLS client authentication with lurk-provider.so: lurkd keys with
# `use = client` (ECDSA P-256 and RSA-2048, client certificates from the
# demo intermediate CA) named by LURK KEY files, loaded with OPENSSL_CONF
# only by `openssl s_client -cert -key` and `curl --cert --key` (Debian's,
# unmodified), against `openssl s_server -Verify 1 -verify_return_error`
# (its own key in a file) that verifies them against the demo CA.
# - TLS 1.3: the handshake completes and lurkd's audit log shows the client
#   CertificateVerify content signed with the content-carrying mechanism;
# - TLS 1.2: libssl signs the whole handshake transcript (ClientHello to
#   ClientKeyExchange, RFC 5246 7.4.8), which lurkd parses and accepts for
#   `use = client` keys (docs/policy.md): ECDSA P-256, RSA PKCS#1 and RSA-PSS
#   through s_client, ECDSA and RSA through curl, each handshake verified by
#   s_server and the content mechanism in the audit log, and ECDSA again
#   with an OCSP response stapled (a CertificateStatus in the transcript);
# - a key with the default `use = server` and a client certificate is
#   refused as a client key ("client signature on a server-only key"), in
#   TLS 1.3 and 1.2, and the handshake fails: nothing falls back to a bare hash;
# - the same `use = client` key behind `openssl s_server` is refused by
#   lurkd ("server signature on a client-only key") and the handshake fails.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
. "${top_srcdir:-.}/tests/provider-lib.sh"
make_tmpdir
D=$TEST_TMP
SERV=
trap '[ -n "$SERV" ] && kill $SERV 2>/dev/null && wait $SERV 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 20

PORT=$(lurkd_pick_port 71)
CLIENT_KEYS="cliec256 clirsa"
# A client certificate's key left at the default use = server.
SERVER_KEY=clisrv

# client_cert NAME CERTTOOL-KEY-ARGS...: a key and a TLS client certificate
# from the demo intermediate CA (DIR/pki/NAME.key, NAME.pem, NAME-chain.pem).
client_cert() {
	_n=$1
	shift
	certtool --generate-privkey --pkcs8 --empty-password "$@" --outfile "$D/pki/$_n.key" \
		>/dev/null 2>&1 || return 1
	printf 'cn = "%s"\norganization = "lurk demo"\nexpiration_days = 30\ntls_www_client\nsigning_key\n' \
		"$_n.lurk.test" >"$D/pki/$_n.tmpl"
	certtool --generate-certificate --load-privkey "$D/pki/$_n.key" \
		--load-ca-certificate "$D/pki/int.pem" --load-ca-privkey "$D/pki/int.key" \
		--template "$D/pki/$_n.tmpl" --outfile "$D/pki/$_n.pem" >/dev/null 2>&1 || return 1
	cat "$D/pki/$_n.pem" "$D/pki/int.pem" >"$D/pki/$_n-chain.pem"
	chmod 600 "$D/pki/$_n.key"
}
setup() {
	lurkd_setup "$D" >/dev/null || return 1
	client_cert cliec256 --key-type ecdsa --curve secp256r1 || return 1
	client_cert clirsa --key-type rsa --bits 2048 || return 1
	client_cert $SERVER_KEY --key-type ecdsa --curve secp256r1 || return 1
	"$ADMIN" genkey "$D/c.key" >"$D/c.pub" || return 1
	_extra=
	for _k in $CLIENT_KEYS; do
		_extra=$(printf '%s\n\n[key %s]\nsource = %s\nchain = %s\nuse = client' "$_extra" "$_k" \
			"$D/pki/$_k.key" "$D/pki/$_k-chain.pem")
	done
	_extra=$(printf '%s\n\n[key %s]\nsource = %s\nchain = %s' "$_extra" $SERVER_KEY \
		"$D/pki/$SERVER_KEY.key" "$D/pki/$SERVER_KEY-chain.pem")
	# Client c: the client keys (and clisrv) only, and content only (no bare hash either).
	_extra=$(printf '%s\n\n[client c]\npublic-key = %s\nkeys = %s %s\nrequire-content = yes' \
		"$_extra" "$(cat "$D/c.pub")" "$CLIENT_KEYS" $SERVER_KEY)
	lurkd_write_conf "$D" "$_extra"
	lurkd_start "$D" >/dev/null || return 1
	prov_setup "$D" || return 1
	sed "s#$D/a.key#$D/c.key#" "$D/client.conf" >"$D/c.conf"
	for _k in $CLIENT_KEYS $SERVER_KEY; do
		prov_key_file "$D/$_k.lurk" "$D/c.conf" "$_k" "$D/pki/$_k.pem" || return 1
	done
}
if setup; then ok "setup: client certificates, keys with use = client served to client c, lurkd"; else
	not_ok "setup"
	sed 's/^/# /' "$D/lurkd.log"
fi
export OPENSSL_CONF=$D/openssl.cnf

# cli_count KEY MECH VERDICT: client c's audit lines.
cli_count() {
	grep -c "\"client\":\"c\",\"key\":\"$1\",\"op\":\"sign\",\"mechanism\":\"$2\".*\"verdict\":\"$3\"" \
		"$D/audit.log" 2>/dev/null || true
}
# cli_wait KEY MECH VERDICT N: waits (capped) for N such lines.
cli_wait() {
	_end=$(($(date +%s) + 20))
	while [ "$(cli_count "$1" "$2" "$3")" -lt "$4" ]; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.05
	done
}

# verifying_server [S_SERVER-ARGS...]: openssl s_server (no provider, the
# ec256 key in a file) that demands a client certificate and verifies it
# against the demo CA.
verifying_server() {
	# openssl itself in the background (not a shell function), so that kill reaches it.
	OPENSSL_CONF=/dev/null openssl s_server -www -Verify 1 -verify_return_error -CAfile "$D/pki/ca.pem" \
		-key "$D/pki/ec256.key" -pass pass: -cert "$D/pki/ec256.pem" -cert_chain "$D/pki/int.pem" \
		-accept "127.0.0.1:$PORT" "$@" >"$D/s_server.log" 2>&1 &
	SERV=$!
	prov_wait_port "$PORT" "$SERV"
}
server_stop() {
	[ -n "$SERV" ] && kill "$SERV" 2>/dev/null && wait "$SERV" 2>/dev/null
	SERV=
}
# The request s_client sends to s_server -www.
REQ='GET / HTTP/1.0\r\n\r\n'
via_s_client() { # KEY S_CLIENT-ARGS...
	_k=$1
	shift
	printf "$REQ" | $TOOL_ENV timeout 20 openssl s_client -ign_eof -connect "127.0.0.1:$PORT" \
		-CAfile "$D/pki/ca.pem" -verify_return_error -cert "$D/pki/$_k.pem" \
		-cert_chain "$D/pki/int.pem" -key "$D/$_k.lurk" "$@" 2>&1
}
# Debian's curl (and wget) hang in their first setlocale() with the ASan
# runtime preloaded ($TOOL_ENV), before doing anything, lurk or not. In a
# sanitizer build curl therefore runs without the preload: the sanitized
# provider brings the runtime in when OpenSSL loads it, which ASan accepts
# once told not to insist on coming first.
CURL_ENV=
[ -n "$TOOL_ENV" ] && CURL_ENV="env ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0"
via_curl() { # KEY CURL-ARGS...
	_k=$1
	shift
	$CURL_ENV timeout 20 curl -sS --cacert "$D/pki/ca.pem" --cert "$D/pki/$_k-chain.pem" \
		--key "$D/$_k.lurk" "$@" "https://127.0.0.1:$PORT/" 2>&1
}

# authed NAME KEY MECH TOOL ARGS...: the handshake completes with the client
# certificate verified, and lurkd signed the client's content with MECH.
authed() {
	_name=$1 _key=$2 _mech=$3
	shift 3
	_n=$(cli_count "$_key" "$_mech" allowed)
	_out=$("$@")
	_why=
	echo "$_out" | grep -q "HTTP/1.0 200 ok" || echo "$_out" | grep -q "<pre>" ||
		_why="no answer from s_server"
	grep -q "CN = $_key.lurk.test" "$D/s_server.log" || _why="$_why; s_server saw no $_key certificate"
	if cli_wait "$_key" "$_mech" allowed $((_n + 1)); then
		_len=$(grep "\"client\":\"c\",\"key\":\"$_key\",\"op\":\"sign\",\"mechanism\":\"$_mech\"" \
			"$D/audit.log" | tail -1 | sed 's/.*"input_len":\([0-9]*\).*/\1/')
		[ "$_len" -gt 64 ] || _why="$_why; over $_len bytes"
	else
		_why="$_why; no allowed $_mech for $_key in the audit log"
	fi
	if [ -z "$_why" ]; then ok "$_name: $_mech over $_len bytes, certificate verified by s_server"; else
		not_ok "$_name: $_why"
		echo "$_out" | grep -iE "error|verify|alert" | head -6 | sed 's/^/# /'
		tail -4 "$D/s_server.log" | sed 's/^/# server: /'
		tail -2 "$D/audit.log" | sed 's/^/# audit: /'
	fi
}

# refused NAME KEY MECH REASON TOOL ARGS...: the handshake fails, and lurkd
# refused the content with REASON.
refused() {
	_name=$1 _key=$2 _mech=$3 _reason=$4
	shift 4
	_n=$(cli_count "$_key" "$_mech" refused)
	_out=$("$@")
	_why=
	echo "$_out" | grep -q "HTTP/1.0 200 ok\|krul olleh" && _why="the handshake completed"
	if cli_wait "$_key" "$_mech" refused $((_n + 1)); then
		_line=$(grep "\"client\":\"c\",\"key\":\"$_key\",\"op\":\"sign\",\"mechanism\":\"$_mech\"" \
			"$D/audit.log" | tail -1)
		_len=$(echo "$_line" | sed 's/.*"input_len":\([0-9]*\).*/\1/')
		echo "$_line" | grep -qF "\"reason\":\"$_reason\"" || _why="$_why; not '$_reason'"
	else
		_why="$_why; no refused $_mech for $_key in the audit log"
	fi
	if [ -z "$_why" ]; then ok "$_name: refused, '$_reason' ($_mech over $_len bytes)"; else
		not_ok "$_name: $_why"
		echo "$_out" | grep -iE "error|alert" | head -6 | sed 's/^/# /'
		tail -2 "$D/audit.log" | sed 's/^/# audit: /'
	fi
}

verifying_server || { sed 's/^/# /' "$D/s_server.log"; }
authed "s_client, ECDSA P-256 client key, TLS 1.3" cliec256 CKM_ECDSA_SHA256 via_s_client cliec256 -tls1_3
authed "s_client, RSA 2048 client key, TLS 1.3 (RSA-PSS)" clirsa CKM_SHA256_RSA_PKCS_PSS via_s_client clirsa -tls1_3
authed "curl, ECDSA P-256 client key, TLS 1.3" cliec256 CKM_ECDSA_SHA256 via_curl cliec256 --tlsv1.3
authed "curl, RSA 2048 client key, TLS 1.3 (RSA-PSS)" clirsa CKM_SHA256_RSA_PKCS_PSS via_curl clirsa --tlsv1.3
# TLS 1.2: lurkd is given the transcript, ClientHello to ClientKeyExchange.
authed "s_client, ECDSA P-256 client key, TLS 1.2 (the transcript)" cliec256 CKM_ECDSA_SHA256 \
	via_s_client cliec256 -tls1_2
authed "s_client, RSA 2048 client key, TLS 1.2, PKCS#1 (the transcript)" clirsa CKM_SHA256_RSA_PKCS \
	via_s_client clirsa -tls1_2 -client_sigalgs RSA+SHA256
authed "s_client, RSA 2048 client key, TLS 1.2, RSA-PSS (the transcript)" clirsa CKM_SHA256_RSA_PKCS_PSS \
	via_s_client clirsa -tls1_2 -client_sigalgs rsa_pss_rsae_sha256
authed "curl, ECDSA P-256 client key, TLS 1.2 (the transcript)" cliec256 CKM_ECDSA_SHA256 \
	via_curl cliec256 --tls-max 1.2
authed "curl, RSA 2048 client key, TLS 1.2 (the transcript, RSA-PSS)" clirsa CKM_SHA256_RSA_PKCS_PSS \
	via_curl clirsa --tls-max 1.2
# A key with use = server is no client key, in either version.
CLIENT_ONLY_REASON="client signature on a server-only key"
refused "s_client, use = server ECDSA key as a client key, TLS 1.3" $SERVER_KEY CKM_ECDSA_SHA256 \
	"$CLIENT_ONLY_REASON" via_s_client $SERVER_KEY -tls1_3
refused "s_client, use = server ECDSA key as a client key, TLS 1.2" $SERVER_KEY CKM_ECDSA_SHA256 \
	"$CLIENT_ONLY_REASON" via_s_client $SERVER_KEY -tls1_2
server_stop

# OCSP stapling puts a CertificateStatus message in the TLS 1.2 transcript:
# s_server staples a response (the intermediate CA's, for ec256) that
# s_client asks for with -status.
ocsp_response() {
	_serial=$(plain_openssl x509 -in "$D/pki/ec256.pem" -noout -serial | cut -d= -f2)
	printf 'V\t391231000000Z\t\t%s\tunknown\t/CN=ec256\n' "$_serial" >"$D/ocsp-index.txt"
	plain_openssl ocsp -issuer "$D/pki/int.pem" -cert "$D/pki/ec256.pem" -no_nonce \
		-reqout "$D/ocsp-req.der" >/dev/null 2>&1 &&
		plain_openssl ocsp -index "$D/ocsp-index.txt" -rsigner "$D/pki/int.pem" \
			-rkey "$D/pki/int.key" -CA "$D/pki/int.pem" -reqin "$D/ocsp-req.der" \
			-respout "$D/ocsp.der" -ndays 30 >/dev/null 2>&1
}
via_s_client_status() { # KEY S_CLIENT-ARGS...: via_s_client -status, its output kept
	via_s_client "$@" -status | tee "$D/status.out"
}
ocsp_response || echo "# no OCSP response for s_server"
verifying_server -status_file "$D/ocsp.der" || { sed 's/^/# /' "$D/s_server.log"; }
authed "s_client, ECDSA P-256 client key, TLS 1.2 with OCSP stapling (the transcript)" cliec256 \
	CKM_ECDSA_SHA256 via_s_client_status cliec256 -tls1_2
check "  ... s_server stapled the response (a CertificateStatus in the transcript)" \
	grep -q "OCSP Response Status: successful" "$D/status.out"
server_stop

# The client key behind a TLS server: lurkd refuses the server context.
s_server_with() { # KEY
	$TOOL_ENV openssl s_server -rev -key "$D/$1.lurk" -cert "$D/pki/$1.pem" \
		-cert_chain "$D/pki/int.pem" -accept "127.0.0.1:$PORT" >"$D/s_server.log" 2>&1 &
	SERV=$!
	prov_wait_port "$PORT" "$SERV"
}
plain_client() { # S_CLIENT-ARGS...
	printf 'hello lurk\nCLOSE\n' | OPENSSL_CONF=/dev/null timeout 20 openssl s_client -ign_eof \
		-connect "127.0.0.1:$PORT" -CAfile "$D/pki/ca.pem" "$@" 2>&1
}
SERVER_ONLY="server signature on a client-only key"
check "openssl s_server starts on the use = client ECDSA key's LURK KEY file" s_server_with cliec256
refused "s_server with the client-only ECDSA key, TLS 1.3" cliec256 CKM_ECDSA_SHA256 "$SERVER_ONLY" \
	plain_client -tls1_3
check "  ... s_server's error names lurkd's reason" grep -q "lurkd refused sign with key cliec256: .*$SERVER_ONLY" \
	"$D/s_server.log"
server_stop
check "openssl s_server starts on the use = client RSA key's LURK KEY file" s_server_with clirsa
refused "s_server with the client-only RSA key, TLS 1.3 (RSA-PSS)" clirsa CKM_SHA256_RSA_PKCS_PSS "$SERVER_ONLY" \
	plain_client -tls1_3
server_stop

bare=$(prov_bare_count "$D")
check "no signature reached lurkd as a bare hash: $bare" test "$bare" -eq 0
finish

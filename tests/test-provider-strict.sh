#!/bin/bash
# A strict credential (issue 16, item 3): client c has require-content = yes
# in its [client] section (docs/policy.md) and uses lurk-provider.so, which
# sends whole content. Its TLS handshakes through `openssl s_server` on LURK
# KEY files succeed (TLS 1.3 and 1.2, RSA and ECDSA), while `openssl pkeyutl
# -sign` through the same key files over the SHA-256 of a JWT's
# header.payload (RS256 with rsa2048: CKM_RSA_PKCS over its DigestInfo, and
# the same hash with PSS padding; ES256 with ec256: CKM_ECDSA) is refused by
# lurkd with "client requires whole content, got a bare hash", on the error
# queue and in the audit log. Client a, without the setting, gets the same
# hash signed: the refusal is the credential's.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
. "${top_srcdir:-.}/tests/provider-lib.sh"
make_tmpdir
D=$TEST_TMP
SERV=
trap '[ -n "$SERV" ] && kill $SERV 2>/dev/null && wait $SERV 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 13

PORT=$(lurkd_pick_port 81)
REASON="client requires whole content, got a bare hash"
setup() {
	lurkd_setup "$D" >/dev/null || return 1
	"$ADMIN" genkey "$D/c.key" >"$D/c.pub" || return 1
	lurkd_write_conf "$D" "$(printf '\n[client c]\npublic-key = %s\nkeys = rsa2048 ec256\nrequire-content = yes' \
		"$(cat "$D/c.pub")")"
	lurkd_start "$D" >/dev/null || return 1
	prov_setup "$D" || return 1
	# Client c's configuration and key files (client a's are DIR/KEY.lurk).
	sed "s#$D/a.key#$D/c.key#" "$D/client.conf" >"$D/c.conf"
	for _k in rsa2048 ec256; do
		prov_key_file "$D/c-$_k.lurk" "$D/c.conf" "$_k" "$D/pki/$_k.pem" || return 1
	done
}
if setup; then ok "setup: lurkd with client c (require-content = yes), c's LURK KEY files"; else
	not_ok "setup"
	sed 's/^/# /' "$D/lurkd.log"
fi
export OPENSSL_CONF=$D/openssl.cnf
PROV_CLIENT=c
PROV_LOGS="$D/s_server.log"

s_server() { # KEY: s_server on client c's key file, reversing lines
	[ -n "$SERV" ] && kill "$SERV" 2>/dev/null && wait "$SERV" 2>/dev/null
	$TOOL_ENV openssl s_server -rev -key "$D/c-$1.lurk" -cert "$D/pki/$1.pem" \
		-cert_chain "$D/pki/int.pem" -accept "127.0.0.1:$PORT" >"$D/s_server.log" 2>&1 &
	SERV=$!
	prov_wait_port "$PORT" "$SERV"
}
hs() { # NAME KEY SIGTYPE MECH S_CLIENT-ARGS...
	_a=$1 _b=$2 _c=$3 _e=$4
	shift 4
	prov_hs "$D" "client c: $_a" "$PORT" "$_b" "$_c" "$_e" 'hello lurk\nCLOSE\n' "krul olleh" "$@"
}
check "openssl s_server starts on client c's rsa2048 key file" s_server rsa2048
hs "RSA 2048, TLS 1.3 (RSA-PSS)" rsa2048 RSA-PSS CKM_SHA256_RSA_PKCS_PSS -tls1_3
hs "RSA 2048, TLS 1.2, PKCS#1 (RSA+SHA256)" rsa2048 RSA CKM_SHA256_RSA_PKCS -tls1_2 -sigalgs RSA+SHA256
check "openssl s_server starts on client c's ec256 key file" s_server ec256
hs "ECDSA P-256, TLS 1.3" ec256 ECDSA CKM_ECDSA_SHA256 -tls1_3
hs "ECDSA P-256, TLS 1.2" ec256 ECDSA CKM_ECDSA_SHA256 -tls1_2 -sigalgs ECDSA+SHA256
kill "$SERV" 2>/dev/null
wait "$SERV" 2>/dev/null
SERV=

# The hashes a hash oracle would be asked for: JWTs' header.payload.
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
payload=$(printf '{"sub":"admin","exp":4102444800}' | b64url)
printf '%s' "$(printf '{"alg":"RS256","typ":"JWT"}' | b64url).$payload" | sha256sum | cut -d' ' -f1 |
	xxd -r -p >"$D/rs256.sha256"
printf '%s' "$(printf '{"alg":"ES256","typ":"JWT"}' | b64url).$payload" | sha256sum | cut -d' ' -f1 |
	xxd -r -p >"$D/es256.sha256"
DI256=3031300d060960864801650304020105000420 # DigestInfo(SHA-256) prefix
RS_INPUT=$( (printf '%s' $DI256 | xxd -r -p; cat "$D/rs256.sha256") | sha256sum | cut -d' ' -f1)
ES_INPUT=$(sha256sum <"$D/es256.sha256" | cut -d' ' -f1)
PS_INPUT=$(sha256sum <"$D/rs256.sha256" | cut -d' ' -f1)

# jwt_refused NAME KEYFILE HASHFILE KEY MECH INPUT-SHA256 [PKEYUTL-ARGS]: pkeyutl
# fails with lurkd's reason, and the audit log has c's refusal of that input.
jwt_refused() {
	_name=$1 _file=$2 _hash=$3 _key=$4 _mech=$5 _in=$6
	shift 6
	rm -f "$D/sig"
	if $TOOL_ENV openssl pkeyutl -sign -inkey "$_file" -in "$_hash" -out "$D/sig" "$@" 2>"$D/err"; then
		not_ok "$_name: refused (it was signed)"
		return
	fi
	_why=
	grep -q "lurkd refused sign with key $_key: .*$REASON" "$D/err" || _why="no '$REASON' on stderr"
	grep -q "\"client\":\"c\",\"key\":\"$_key\",\"op\":\"sign\",\"mechanism\":\"$_mech\",\"input_sha256\":\"$_in\",.*\"verdict\":\"refused\",\"reason\":\"$REASON\"" \
		"$D/audit.log" || _why="$_why; no refusal of $_mech with that input in the audit log"
	if [ -z "$_why" ]; then ok "$_name: refused by lurkd, '$REASON' ($_mech)"; else
		not_ok "$_name: $_why"
		sed 's/^/# /' "$D/err" | head -5
		tail -2 "$D/audit.log" | sed 's/^/# audit: /'
	fi
}
jwt_refused "client c, RS256 JWT's SHA-256 (pkeyutl -sign, rsa2048)" "$D/c-rsa2048.lurk" "$D/rs256.sha256" \
	rsa2048 CKM_RSA_PKCS "$RS_INPUT" -pkeyopt digest:sha256
jwt_refused "client c, the same hash with PSS padding (PS256-style)" "$D/c-rsa2048.lurk" "$D/rs256.sha256" \
	rsa2048 CKM_RSA_PKCS_PSS "$PS_INPUT" -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss \
	-pkeyopt rsa_pss_saltlen:digest
jwt_refused "client c, ES256 JWT's SHA-256 (pkeyutl -sign, ec256)" "$D/c-ec256.lurk" "$D/es256.sha256" \
	ec256 CKM_ECDSA "$ES_INPUT"

# Client a (no require-content) through its own key files: the same hashes are signed.
a_signs() { # NAME KEY HASHFILE [PKEYUTL-ARGS]
	_name=$1 _key=$2 _hash=$3
	shift 3
	rm -f "$D/sig"
	if $TOOL_ENV openssl pkeyutl -sign -inkey "$D/$_key.lurk" -in "$_hash" -out "$D/sig" "$@" 2>"$D/err" &&
		plain_openssl pkeyutl -verify -pubin -inkey <(plain_openssl x509 -in "$D/pki/$_key.pem" -pubkey -noout) \
			-in "$_hash" -sigfile "$D/sig" "$@" >/dev/null 2>&1; then
		ok "$_name: signed, and it verifies (the refusal above is client c's setting)"
	else
		not_ok "$_name"
		sed 's/^/# /' "$D/err" | head -5
	fi
}
a_signs "client a, RS256 JWT's SHA-256 (rsa2048)" rsa2048 "$D/rs256.sha256" -pkeyopt digest:sha256
a_signs "client a, ES256 JWT's SHA-256 (ec256)" ec256 "$D/es256.sha256"

bare=$(grep -cE '"client":"c","key":"[^"]*","op":"sign","mechanism":"(CKM_ECDSA|CKM_RSA_PKCS|CKM_RSA_PKCS_PSS)",.*"verdict":"allowed"' \
	"$D/audit.log")
check "lurkd signed no bare hash for client c: $bare" test "$bare" -eq 0
finish

#!/bin/bash
# require-content = yes in a [client] section (docs/policy.md): that
# credential is no hash oracle, whatever its keys allow. With a real lurkd,
# client c (require-content = yes) is refused hash-only signatures over the
# SHA-256 of a JWT's header.payload (RS256 with rsa2048, ES256 with ec256)
# and of an X.509 TBSCertificate (CKM_ECDSA), each refusal in the audit log
# with its reason, while its content-carrying TLS 1.3 CertificateVerify
# signatures are served; client a, without the setting, still gets the same
# hash-only signatures (each verified by lurk-client against the key).
# Also through lurkd, the other policy gap a client can probe (issue 16):
# rsa-decrypt answers a TLS 1.0 premaster with the real value only when the
# key's tls-versions has 1.0, and a key without rsa-decrypt refuses.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 33

REASON="client requires whole content, got a bare hash"
DI256=3031300d060960864801650304020105000420 # DigestInfo(SHA-256) prefix

setup() {
	lurkd_setup "$D" || return 1
	"$ADMIN" genkey "$D/c.key" >"$D/c.pub" || return 1
	lurkd_write_conf "$D" "$(printf '\n[client c]\npublic-key = %s\nkeys = rsa2048 ec256\nrequire-content = yes' "$(cat "$D/c.pub")")"
}
# Not through check: make_pki's helpers reuse check's variables.
if setup; then ok "setup: PKI, lurkd.conf with client c (require-content = yes)"; else not_ok "setup"; fi
check "--check-config accepts require-content in [client]" quiet "$LURKD" --check-config "$D/lurkd.conf"
check "lurkd starts" lurkd_start "$D"

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
sha256_hex() { sha256sum | cut -d' ' -f1; }
# The SHA-256, in hex, of what the hex string $1 decodes to: the audit log's input_sha256.
input_sha() { printf '%s' "$1" | xxd -r -p | sha256_hex; }

# The inputs a hash oracle would be asked for.
JWT_ES=$(printf '{"alg":"ES256","typ":"JWT"}' | b64url).$(printf '{"sub":"admin","exp":4102444800}' | b64url)
JWT_RS=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url).$(printf '{"sub":"admin","exp":4102444800}' | b64url)
ES256_HASH=$(printf '%s' "$JWT_ES" | sha256_hex)
RS256_DI=$DI256$(printf '%s' "$JWT_RS" | sha256_hex)
openssl asn1parse -in "$D/pki/ec256.pem" -strparse 4 -noout -out "$D/tbs.der" >/dev/null 2>&1
TBS_HASH=$(sha256_hex <"$D/tbs.der")
check "a TBSCertificate taken from a certificate" test "$(head -c 1 "$D/tbs.der" | xxd -p)" = 30

# refused LABEL MECH HEX NAME: client c is refused, with the reason, and the audit log says so.
refused() {
	if lc "$D" c sign "$1" "$2" "$3" >/dev/null 2>"$D/err"; then
		not_ok "$4: refused"
		return
	fi
	if grep -qF "(reason 3): $REASON" "$D/err"; then
		ok "$4: refused, reason 3 '$REASON'"
	else
		not_ok "$4: refused, reason 3 '$REASON'"
		diag "$(cat "$D/err")"
	fi
	check "... audited as refused with the reason" grep -q \
		"\"client\":\"c\",\"key\":\"$1\",.*\"input_sha256\":\"$(input_sha "$3")\".*\"verdict\":\"refused\",\"reason\":\"$REASON\"" \
		"$D/audit.log"
}
refused rsa2048 rsa-pkcs "$RS256_DI" "client c, RS256 JWT (DigestInfo of its SHA-256), rsa2048"
refused ec256 ecdsa "$ES256_HASH" "client c, ES256 JWT (its SHA-256), ec256"
refused ec256 ecdsa "$TBS_HASH" "client c, TBSCertificate's SHA-256 through CKM_ECDSA, ec256"
refused rsa2048 rsa-pss "$(printf '%s' "$JWT_RS" | sha256_hex)" "client c, PS256-style hash through CKM_RSA_PKCS_PSS"

# Content-carrying requests from the same credential are served and verify.
CV=$(tls13_content 32)
check "client c: TLS 1.3 CertificateVerify content, ECDSA-SHA256, ec256" lc_q "$D" c sign ec256 ecdsa-sha256 "$CV"
check "client c: TLS 1.3 CertificateVerify content, RSA-PSS-SHA256, rsa2048" lc_q "$D" c sign rsa2048 sha256-rsa-pss "$CV"
check "... audited as allowed" grep -q \
	"\"client\":\"c\",\"key\":\"rsa2048\",.*\"input_sha256\":\"$(input_sha "$CV")\".*\"verdict\":\"allowed\"" \
	"$D/audit.log"
# The content is still checked: a JWT sent whole is not a handshake.
out=$(lc "$D" c sign ec256 ecdsa-sha256 "$(printf '%s' "$JWT_ES" | xxd -p | tr -d '\n')" 2>&1)
check "client c: a whole JWT through ECDSA-SHA256 is refused as not TLS" \
	eval 'echo "$out" | grep -q "not a TLS handshake signature input"'

# The list tells the credential its keys take content only (LURK_WIRE_KEY_REQUIRE_CONTENT).
check "client c's list flags its keys require-content (0x4)" \
	eval 'lc "$D" c list | grep -q "^ec256 .*flags=0x5 "'
check "client a's list does not" eval 'lc "$D" a list | grep -q "^ec256 .*flags=0x1 "'

# Client a, without the setting, is the hash oracle the setting prevents.
check "client a: RS256 JWT hash signed (verified), rsa2048" lc_q "$D" a sign rsa2048 rsa-pkcs "$RS256_DI"
check "client a: ES256 JWT hash signed (verified), ec256" lc_q "$D" a sign ec256 ecdsa "$ES256_HASH"
check "client a: TBSCertificate hash signed (verified), ec256" lc_q "$D" a sign ec256 ecdsa "$TBS_HASH"
check "... audited as allowed for client a" grep -q \
	"\"client\":\"a\",\"key\":\"ec256\",.*\"input_sha256\":\"$(input_sha "$TBS_HASH")\".*\"verdict\":\"allowed\"" \
	"$D/audit.log"

# A key's own require-content keeps its own reason text (the same code).
cp "$D/lurkd.conf" "$D/key.conf"
sed -i '/^\[key ec384\]/a require-content = yes' "$D/key.conf"
cp "$D/key.conf" "$D/lurkd.conf"
check "reload with require-content = yes on key ec384" lurkd_reload "$D"
out=$(lc "$D" b sign ec384 ecdsa "$(rand_hex 48)" 2>&1)
check "client b, key ec384: refused with the key's reason" \
	eval 'echo "$out" | grep -q "(reason 3): key requires whole content, got a bare hash"'

# rsa-decrypt and tls-versions: a premaster of version 3.1 (TLS 1.0) and one of 3.3.
pms_ct() { # $1 version hex (0301), $2 name: $D/$2.pms and $D/$2.ct (to rsa2048)
	{ printf '%s' "$1" | xxd -r -p; head -c 46 /dev/urandom; } >"$D/$2.pms"
	openssl pkeyutl -encrypt -certin -inkey "$D/pki/rsa2048.pem" \
		-pkeyopt rsa_padding_mode:pkcs1 -in "$D/$2.pms" -out "$D/$2.ct" 2>/dev/null
}
pms_ct 0301 v10 && pms_ct 0303 v12
hexf() { xxd -p "$1" | tr -d '\n'; }
# answer NAME: what lurkd answers client a for $D/NAME.ct.
answer() { lc "$D" a decrypt rsa2048 "$(hexf "$D/$1.ct")" 2>/dev/null; }
check "rsa2048 (tls-versions 1.2 1.3): a 3.3 premaster is answered" test "$(answer v12)" = "$(hexf "$D/v12.pms")"
a10=$(answer v10)
check "... a 3.1 (TLS 1.0) premaster gets 48 other bytes" \
	test "${#a10}" -eq 96 -a "$a10" != "$(hexf "$D/v10.pms")"
check "... the same ones each time (derived, as for bad padding)" test "$(answer v10)" = "$a10"
sed -i '/^\[key rsa2048\]/a tls-versions = 1.0 1.2 1.3' "$D/lurkd.conf"
check "reload with TLS 1.0 in rsa2048's tls-versions" lurkd_reload "$D"
check "... now the 3.1 premaster is answered" test "$(answer v10)" = "$(hexf "$D/v10.pms")"
check "... and the 3.3 one still" test "$(answer v12)" = "$(hexf "$D/v12.pms")"
out=$(lc "$D" a decrypt rsa3072 "$(rand_hex 384)" 2>&1)
check "rsa3072 (no rsa-decrypt): decryption refused with the reason" \
	eval 'echo "$out" | grep -q "RSA key-exchange decryption not enabled"'

check "lurkd's log names the refusals" grep -q "client c key ec256 mechanism CKM_ECDSA: $REASON" "$D/lurkd.log"
check "lurkd stops cleanly" lurkd_stop "$D"
finish

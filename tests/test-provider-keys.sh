#!/bin/bash
# lurk-provider.so's refusals and hash-only signing, with `openssl pkey` and
# `openssl pkeyutl` (Debian's) on LURK KEY files, OPENSSL_CONF only:
# - a key the configuration's client is not served, a file whose public key
#   is not lurkd's: clear errors on OpenSSL's error queue, nothing signed;
#   malformed files and configurations: the reason on stderr;
# - content that is no TLS input (pkeyutl -rawin) goes as content and lurkd's
#   refusal reason reaches the caller;
# - a bare SHA-256 (pkeyutl -sign without -rawin) goes as a hash-only
#   mechanism (CKM_ECDSA, CKM_RSA_PKCS over a DigestInfo): lurkd signs it by
#   default and refuses it for a key with require-content = yes;
# - keys load while lurkd is down (no network at load), signing then fails.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
. "${top_srcdir:-.}/tests/provider-lib.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 14

lurkd_setup "$D" >/dev/null
# ec384 takes content only.
sed -i 's/^\[key ec384\]$/[key ec384]\nrequire-content = yes/' "$D/lurkd.conf"
check "setup and start lurkd (ec384 with require-content)" lurkd_start "$D"
prov_setup "$D"
export OPENSSL_CONF=$D/openssl.cnf
printf 'not a TLS handshake\n' >"$D/msg"
plain_openssl dgst -sha256 -binary "$D/msg" >"$D/msg.sha256"

# fails NAME PATTERN CMD...: CMD fails and its stderr matches PATTERN (grep -E).
fails() {
	_name=$1 _pat=$2
	shift 2
	if "$@" >"$D/out" 2>"$D/err"; then
		not_ok "$_name (it succeeded)"
	elif grep -qE "$_pat" "$D/err"; then
		ok "$_name: $(grep -m1 -oE "$_pat" "$D/err")"
	else
		not_ok "$_name"
		sed 's/^/# /' "$D/err" | head -8
	fi
}
sign_content() { # KEYFILE: digest-sign of msg (content, not TLS)
	$TOOL_ENV openssl pkeyutl -sign -rawin -digest sha256 -inkey "$1" -in "$D/msg" -out "$D/sig"
}
sign_hash() { # KEYFILE [ARGS]: sign over a bare SHA-256
	_f=$1
	shift
	$TOOL_ENV openssl pkeyutl -sign -inkey "$_f" -in "$D/msg.sha256" -out "$D/sig" "$@"
}

# A key client b is not served (b has ec384 only).
sed "s#$D/a.key#$D/b.key#" "$D/client.conf" >"$D/b.conf"
prov_key_file "$D/b-ec256.lurk" "$D/b.conf" ec256 "$D/pki/ec256.pem"
fails "a key the configuration's client is not served: refused before any signature" \
	"lurkd serves no key named 'ec256' to the client of [^ ]*b.conf" sign_content "$D/b-ec256.lurk"
prov_key_file "$D/nosuch.lurk" "$D/client.conf" nosuchkey "$D/pki/ec256.pem"
fails "a key lurkd does not have" "lurkd serves no key named 'nosuchkey'" sign_content "$D/nosuch.lurk"
# The name of one key with the public key of another: lurkd's key is checked.
prov_key_file "$D/swapped.lurk" "$D/client.conf" ec256 "$D/pki/ec521.pem"
fails "a file whose public key is not lurkd's key of that name" \
	"lurkd's key 'ec256' is not the public key in the key file" sign_content "$D/swapped.lurk"

# Content that is no TLS input: sent as content, refused with lurkd's reason.
n=$(prov_audit_count "$D" ec256 CKM_ECDSA_SHA256)
fails "content that is no TLS input: lurkd's reason on the error queue" \
	"lurkd refused sign with key ec256: .*not a TLS handshake signature input" sign_content "$D/ec256.lurk"
check "  ... and it went as content (CKM_ECDSA_SHA256)" prov_wait_audit "$D" ec256 CKM_ECDSA_SHA256 $((n + 1))

# A bare hash: hash-only mechanisms, lurkd's default policy signs them.
rm -f "$D/sig"
if sign_hash "$D/ec256.lurk" 2>"$D/err" && prov_wait_audit "$D" ec256 CKM_ECDSA 1 &&
	grep -q '"key":"ec256","op":"sign","mechanism":"CKM_ECDSA","input_sha256":"[0-9a-f]*","input_len":32,"verdict":"allowed"' "$D/audit.log" &&
	plain_openssl pkeyutl -verify -pubin -inkey <(plain_openssl x509 -in "$D/pki/ec256.pem" -pubkey -noout) \
		-in "$D/msg.sha256" -sigfile "$D/sig" >/dev/null 2>&1; then
	ok "pkeyutl -sign over a bare SHA-256, ECDSA: sent as CKM_ECDSA (32 bytes), signed by default, verifies"
else
	not_ok "pkeyutl -sign over a bare SHA-256, ECDSA"
	sed 's/^/# /' "$D/err"
fi
rm -f "$D/sig"
if sign_hash "$D/rsa2048.lurk" -pkeyopt digest:sha256 2>"$D/err" &&
	prov_wait_audit "$D" rsa2048 CKM_RSA_PKCS 1 &&
	grep -q '"key":"rsa2048","op":"sign","mechanism":"CKM_RSA_PKCS","input_sha256":"[0-9a-f]*","input_len":51,' "$D/audit.log" &&
	plain_openssl pkeyutl -verify -pubin -inkey <(plain_openssl x509 -in "$D/pki/rsa2048.pem" -pubkey -noout) \
		-pkeyopt digest:sha256 -in "$D/msg.sha256" -sigfile "$D/sig" >/dev/null 2>&1; then
	ok "pkeyutl -sign over a bare SHA-256, RSA: sent as CKM_RSA_PKCS over its DigestInfo (51 bytes), verifies"
else
	not_ok "pkeyutl -sign over a bare SHA-256, RSA"
	sed 's/^/# /' "$D/err"
fi
fails "a bare hash with a require-content key: refused by lurkd" \
	"lurkd refused sign with key ec384: [^(]*\(reason [0-9]+: [^)]*\)" sign_hash "$D/ec384.lurk"
check "  ... the audit log has that refusal of CKM_ECDSA" \
	grep -q '"key":"ec384","op":"sign","mechanism":"CKM_ECDSA",.*"verdict":"refused"' "$D/audit.log"

# Malformed files and configurations: OpenSSL 3.0's decoder chain drops a
# decoder's errors (the caller sees "unsupported"), so the provider logs
# them on stderr too, and that is what tells the operator why.
printf 'lurk-key 1\nconfig relative.conf\nkey ec256\nspki AAAA\n' >"$D/bad.body"
{ echo "-----BEGIN LURK KEY-----"; base64 -w64 <"$D/bad.body"; echo "-----END LURK KEY-----"; } >"$D/bad.lurk"
fails "a key file with a relative configuration path" "second line must be 'config /absolute/path'" \
	$TOOL_ENV openssl pkey -in "$D/bad.lurk" -pubout
prov_key_file "$D/noconf.lurk" "$D/missing.conf" ec256 "$D/pki/ec256.pem"
fails "a key file naming a configuration that does not exist" "missing.conf: cannot open" \
	$TOOL_ENV openssl pkey -in "$D/noconf.lurk" -pubout

# lurkd down: keys still load (no network at load), signatures fail clearly.
lurkd_stop "$D" >/dev/null 2>&1
check "with lurkd down a LURK KEY still loads (openssl pkey -pubout)" sh -c \
	"$TOOL_ENV openssl pkey -in '$D/rsa2048.lurk' -pubout 2>&1 | grep -q 'BEGIN PUBLIC KEY'"
fails "with lurkd down a signature fails: lurkd unreachable" "lurkd unreachable" sign_content "$D/rsa2048.lurk"
finish

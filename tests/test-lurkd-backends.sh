#!/bin/bash
# Which back end signs for each key (server/keystore-int.h), as lurkd says at
# load with LURK_DEBUG=keys: file RSA and ECDSA keys through OpenSSL, a file
# Ed25519 key through libsodium, a SoftHSM2 key (pkcs11: URI) through GnuTLS.
# Each then signs through the running lurkd, and the test client verifies.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 11

mkdir -p "$D/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$D" \
	>"$D/softhsm2.conf"
export SOFTHSM2_CONF="$D/softhsm2.conf"
check "a SoftHSM2 token with an EC key" sh -c "softhsm2-util --init-token --free --label be --pin 1234 --so-pin 5678 >/dev/null 2>&1 &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '$D/hsm.p8' 2>/dev/null &&
	softhsm2-util --import '$D/hsm.p8' --token be --label hsm-ec --id 01 --pin 1234 >/dev/null 2>&1"

lurkd_setup "$D" || exit 1
openssl pkey -in "$D/hsm.p8" -pubout -out "$D/hsm.pub.pem" 2>/dev/null
printf 'cn = "hsm.lurk.test"\nexpiration_days = 30\ntls_www_server\nsigning_key\n' >"$D/hsm.tmpl"
certtool --generate-certificate --load-pubkey "$D/hsm.pub.pem" \
	--load-ca-certificate "$D/pki/int.pem" --load-ca-privkey "$D/pki/int.key" \
	--template "$D/hsm.tmpl" --outfile "$D/hsm.pem" >/dev/null 2>&1
cat "$D/hsm.pem" "$D/pki/int.pem" >"$D/hsm-chain.pem"
printf '1234\n' >"$D/pin"
chmod 600 "$D/pin"
lurkd_write_conf "$D" "$(printf '[key hsm-ec]\nsource = pkcs11:token=be;object=hsm-ec;type=private\npassword-file = %s/pin\nchain = %s/hsm-chain.pem\n\n[client h]\npublic-key = %s\nkeys = rsa2048 ec256 ec384 ed25519 hsm-ec' "$D" "$D" "$(cat "$D/stranger.pub")")"

export LURK_DEBUG=keys
check "lurkd starts" lurkd_start "$D"
unset LURK_DEBUG
said() {
	grep -qF "key $1: $2" "$D/lurkd.log"
}
check "file RSA-2048 key: OpenSSL" said "$D/pki/rsa2048.key" "RSA 2048 bits, OpenSSL"
check "file EC P-256 key: OpenSSL" said "$D/pki/ec256.key" "ECDSA P-256, OpenSSL"
check "file Ed25519 key: libsodium" said "$D/pki/ed25519.key" "Ed25519, libsodium"
check "SoftHSM2 EC key: GnuTLS" said "pkcs11:token=be;object=hsm-ec;type=private" "ECDSA P-256, GnuTLS"
check "file EC P-384 key: OpenSSL" said "$D/pki/ec384.key" "ECDSA P-384, OpenSSL"
check "OpenSSL's RSA signature verifies" quiet lc "$D" stranger sign rsa2048 rsa-pss "$(rand_hex 32)"
check "OpenSSL's ECDSA P-384 signature verifies" quiet lc "$D" stranger sign ec384 ecdsa "$(rand_hex 48)"
check "libsodium's Ed25519 signature verifies" quiet lc "$D" stranger sign ed25519 eddsa "$(tls13_content 32)"
check "GnuTLS's SoftHSM2 signature verifies" quiet lc "$D" stranger sign hsm-ec ecdsa "$(rand_hex 32)"
finish

#!/bin/bash
# lurkd with a key held in an HSM: SoftHSM2, named by a pkcs11: URI and used
# through GnuTLS. The test client's signatures verify with the public key.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 8

if ! command -v softhsm2-util >/dev/null 2>&1; then
	echo "# softhsm2-util not found: install the Debian package softhsm2" >&2
	exit 1
fi

mkdir -p "$D/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$D" \
	>"$D/softhsm2.conf"
export SOFTHSM2_CONF="$D/softhsm2.conf"
check "a SoftHSM2 token" quiet softhsm2-util --init-token --free --label lurk-hsm --pin 1234 --so-pin 5678
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/hsm.p8" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$D/hsmrsa.p8" 2>/dev/null
check "EC key imported into the token" quiet softhsm2-util --import "$D/hsm.p8" --token lurk-hsm \
	--label hsm-ec --id 01 --pin 1234
check "RSA key imported into the token" quiet softhsm2-util --import "$D/hsmrsa.p8" --token lurk-hsm \
	--label hsm-rsa --id 02 --pin 1234

lurkd_setup "$D" || exit 1
for k in hsm hsmrsa; do
	openssl pkey -in "$D/$k.p8" -pubout -out "$D/$k.pub.pem" 2>/dev/null
	printf 'cn = "%s.lurk.test"\nexpiration_days = 30\ntls_www_server\nsigning_key\n' $k >"$D/$k.tmpl"
	certtool --generate-certificate --load-pubkey "$D/$k.pub.pem" \
		--load-ca-certificate "$D/pki/int.pem" --load-ca-privkey "$D/pki/int.key" \
		--template "$D/$k.tmpl" --outfile "$D/$k.pem" >/dev/null 2>&1
	cat "$D/$k.pem" "$D/pki/int.pem" >"$D/$k-chain.pem"
done
# The PIN comes from a password file, not from the configuration text.
printf '1234\n' >"$D/pin"
chmod 600 "$D/pin"
chmod 600 "$D/pin"
lurkd_write_conf "$D" "$(printf '[key hsm-ec]\nsource = pkcs11:token=lurk-hsm;object=hsm-ec;type=private\npassword-file = %s/pin\nchain = %s/hsm-chain.pem\n\n[key hsm-rsa]\nsource = pkcs11:token=lurk-hsm;object=hsm-rsa;type=private\npassword-file = %s/pin\nchain = %s/hsmrsa-chain.pem\n\n[client h]\npublic-key = %s\nkeys = hsm-ec hsm-rsa' "$D" "$D" "$D" "$D" "$(cat "$D/stranger.pub")")"
check "--check-config loads the HSM keys" quiet "$LURKD" --check-config "$D/lurkd.conf"
check "lurkd starts with HSM keys" lurkd_start "$D"
check "ECDSA P-256 from the HSM verifies" quiet lc "$D" stranger sign hsm-ec ecdsa "$(rand_hex 32)"
check "RSA PKCS#1 from the HSM verifies" quiet lc "$D" stranger sign hsm-rsa rsa-pkcs "$(digest_info 256)"
check "RSA-PSS from the HSM verifies" quiet lc "$D" stranger sign hsm-rsa rsa-pss "$(rand_hex 32)"
finish

#!/bin/bash
# Records what real TLS handshakes make lurkd sign: gnutls-serv serves keys
# through lurk-pkcs11.so, wrapped by OpenSC's pkcs11-spy so every C_SignInit
# (mechanism, PSS parameters) and C_Sign (data) is logged, and gnutls-cli
# connects with TLS 1.2 and 1.3 for each key type and signature scheme. Each
# signing input becomes a line of tests/fixtures/policy/allowed/captured-*.hex,
# which test-policy then checks are all allowed.
#
#   cd _build && top_srcdir=.. top_builddir=. bash ../tests/capture-fixtures.sh [OUTDIR]
#
# Run by hand when the consumers change (a new GnuTLS); the fixtures are
# committed. OUTDIR defaults to tests/fixtures/policy/allowed in the source tree.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
set -u
OUT=${1:-$top_srcdir/tests/fixtures/policy/allowed}
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
MODULE=$(cd "$top_builddir" && pwd)/.libs/lurk-pkcs11.so
SPY=$(ls /usr/lib/*/pkcs11-spy.so 2>/dev/null | head -1)
[ -n "$SPY" ] || { echo "capture: pkcs11-spy.so (package opensc-pkcs11) is needed" >&2; exit 1; }

lurkd_setup "$D" >/dev/null && lurkd_start "$D" >/dev/null || exit 1
printf '[module]\nclient-key = %s\n[server one]\naddress = unix:%s\npublic-key = %s\n' \
	"$D/a.key" "$D/lurkd.sock" "$(cat "$D/server.pub")" >"$D/module.conf"
export LURK_PKCS11_CONF="$D/module.conf"
PORT=$(lurkd_pick_port 7)

# spy_to_fixtures KEYTYPE < spy.log: one fixture line per C_Sign that signed.
spy_to_fixtures() {
	awk -v kt="$1" '
	function hash(s) { sub(/^CKM_/, "", s); return tolower(s) }
	function mgf(s) { sub(/^CKG_/, "", s); gsub(/_/, "-", s); return tolower(s) }
	/: C_SignInit$/ { mode = "init"; params = "-"; next }
	/: C_Sign$/ { mode = "sign"; data = ""; next }
	/^[0-9]+: / { mode = "" }
	mode == "init" && /pMechanism->type = / { mech = $4 }
	mode == "init" && /pParameter->hashAlg = / { h = hash($4) }
	mode == "init" && /pParameter->mgf = / { m = mgf($4) }
	mode == "init" && /pParameter->sLen = / { params = "pss:" h ":" m ":" $4 }
	mode == "sign" && /^    [0-9A-Fa-f]+  / {
		for (i = 2; i <= 17 && $i ~ /^[0-9A-Fa-f][0-9A-Fa-f]$/; i++) data = data tolower($i)
	}
	mode == "sign" && /pSignature\[\*pulSignatureLen\] [0-9a-f]+ \// { print kt, mech, params, data; mode = "" }
	'
}

# capture NAME KEY KEYTYPE PRIORITY: one handshake; its signing inputs to OUT/captured-NAME.hex.
capture() {
	_name=$1 _key=$2 _kt=$3 _prio=$4
	rm -f "$D/spy.log"
	PKCS11SPY=$MODULE PKCS11SPY_OUTPUT=$D/spy.log timeout 30 gnutls-serv --provider "$SPY" \
		--port "$PORT" --x509keyfile "pkcs11:token=lurk;object=$_key;type=private" \
		--x509certfile "pkcs11:token=lurk;object=$_key;type=cert" --echo >"$D/serv.log" 2>&1 &
	_srv=$!
	for _i in $(seq 1 100); do
		(echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
		sleep 0.1
	done
	_desc=$(echo | timeout 10 gnutls-cli --x509cafile "$D/pki/ca.pem" --port "$PORT" \
		--priority "$_prio" localhost 2>&1 | sed -n 's/^- Description: //p')
	kill "$_srv" 2>/dev/null
	wait "$_srv" 2>/dev/null
	if [ -z "$_desc" ]; then
		echo "capture: $_name: no handshake" >&2
		return 1
	fi
	{
		echo "# $_desc: gnutls-serv $(gnutls-serv --version 2>&1 | head -1 | sed 's/.* //'), key $_key through lurk-pkcs11.so"
		spy_to_fixtures "$_kt" <"$D/spy.log" | sort -u
	} >"$OUT/captured-$_name.hex"
	echo "capture: $_name: $_desc, $(grep -vc '^#' "$OUT/captured-$_name.hex") inputs"
}

T13="NORMAL:-VERS-ALL:+VERS-TLS1.3"
T12="NORMAL:-VERS-ALL:+VERS-TLS1.2"
capture tls13-rsa-pss-sha256 rsa2048 rsa "$T13:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA256"
capture tls13-rsa-pss-sha384 rsa3072 rsa "$T13:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA384"
capture tls13-ecdsa-p256 ec256 ec "$T13"
capture tls13-ecdsa-p384 ec384 ec "$T13:-SIGN-ALL:+SIGN-ECDSA-SECP384R1-SHA384"
capture tls13-ed25519-sha256 ed25519 ed25519 "$T13:-CIPHER-ALL:+AES-128-GCM"
capture tls13-ed25519-sha384 ed25519 ed25519 "$T13:-CIPHER-ALL:+AES-256-GCM"
capture tls12-rsa-pkcs1-sha256 rsa2048 rsa "$T12:-SIGN-ALL:+SIGN-RSA-SHA256"
capture tls12-rsa-pss-sha384 rsa2048 rsa "$T12:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA384"
capture tls12-ecdsa-p256 ec256 ec "$T12:-SIGN-ALL:+SIGN-ECDSA-SHA256"
capture tls12-ecdsa-p384 ec384 ec "$T12:-SIGN-ALL:+SIGN-ECDSA-SHA384"
capture tls12-ed25519-x25519 ed25519 ed25519 "$T12:-GROUP-ALL:+GROUP-X25519"
capture tls12-ed25519-p256 ed25519 ed25519 "$T12:-GROUP-ALL:+GROUP-SECP256R1"

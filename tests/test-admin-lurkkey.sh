#!/bin/bash
# lurk-admin lurk-key writes the LURK KEY file that names a key for lurk's
# OpenSSL provider (docs/provider.md): byte for byte the documented format
# (the same file as tests/provider-lib.sh's recipe), loaded by the provider
# and used by an unmodified openssl s_server for a verified handshake whose
# content reaches lurkd; bad arguments are refused with a reason.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
. "${top_srcdir:-.}/tests/provider-lib.sh"
make_tmpdir
D=$TEST_TMP
SERV=
trap '[ -n "$SERV" ] && kill $SERV 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 9

check "setup and start lurkd" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_setup '$D' >/dev/null && lurkd_start '$D' >/dev/null"
prov_setup "$D"

bad=
for k in $PROV_KEYS; do
	"$ADMIN" lurk-key --config "$D/client.conf" --key "$k" "$D/pki/$k.pem" >"$D/$k.admin" 2>"$D/err" &&
		cmp -s "$D/$k.admin" "$D/$k.lurk" || { bad="$bad $k"; sed 's/^/# /' "$D/err"; }
done
check "lurk-admin lurk-key writes the documented file for the six keys" test -z "$bad"

# A chain file: the first certificate is the key's.
"$ADMIN" lurk-key --config "$D/client.conf" --key ec256 "$D/pki/ec256-chain.pem" >"$D/chain.admin"
check "from a chain file it takes the first certificate" cmp -s "$D/chain.admin" "$D/ec256.lurk"

PORT=$(lurkd_pick_port 33)
export OPENSSL_CONF=$D/openssl.cnf
PROV_LOGS="$D/s_server.log"
$TOOL_ENV openssl s_server -key "$D/ec256.admin" -cert "$D/pki/ec256.pem" -cert_chain "$D/pki/int.pem" \
	-accept "127.0.0.1:$PORT" -rev >"$D/s_server.log" 2>&1 &
SERV=$!
prov_wait_port "$PORT" "$SERV" || sed 's/^/# /' "$D/s_server.log"
prov_hs "$D" "openssl s_server on lurk-admin's file, TLS 1.3" "$PORT" ec256 ECDSA CKM_ECDSA_SHA256 \
	'hello\nCLOSE\n' olleh -tls1_3
unset OPENSSL_CONF

# refused ARGS... EXIT REASON: lurk-admin lurk-key exits EXIT, saying REASON, printing no file.
refused() {
	_name=$1 _exit=$2 _why=$3
	shift 3
	"$ADMIN" lurk-key "$@" >"$D/out" 2>"$D/err"
	_rc=$?
	if [ $_rc -eq "$_exit" ] && grep -q "$_why" "$D/err" && [ ! -s "$D/out" ]; then
		ok "$_name"
	else
		not_ok "$_name (exit $_rc)"
		sed 's/^/# /' "$D/err"
	fi
}
refused "a relative configuration path is refused" 2 "absolute path" \
	--config client.conf --key ec256 "$D/pki/ec256.pem"
refused "a key name over 255 bytes is refused" 2 "1 to 255" \
	--config "$D/client.conf" --key "$(printf 'k%.0s' $(seq 1 256))" "$D/pki/ec256.pem"
refused "a file that is no certificate is refused" 1 "not a PEM or DER certificate" \
	--config "$D/client.conf" --key ec256 "$D/client.conf"
refused "a missing certificate file is refused" 1 "cannot read" \
	--config "$D/client.conf" --key ec256 "$D/none.pem"
refused "missing arguments are refused" 2 "are needed" --config "$D/client.conf" "$D/pki/ec256.pem"
finish

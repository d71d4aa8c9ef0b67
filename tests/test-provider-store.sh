#!/bin/bash
# lurk-provider.so's lurk: OSSL_STORE URI (docs/provider.md), with Debian's
# openssl loading the provider through OPENSSL_CONF only:
# - `openssl pkey -in 'lurk:NAME?config=...' -pubout` gives the certificate's
#   public key (RSA, P-256, Ed25519), fetched from lurkd's key list; a public
#   key expected (-pubin) comes too, a certificate expected (storeutl -certs)
#   finds nothing;
# - `openssl s_server -key 'lurk:NAME?config=...'` serves TLS 1.3 and 1.2
#   handshakes that s_client verifies against the demo CA, lurkd's audit log
#   showing the content mechanism over the whole content;
# - lurk:NAME alone takes its configuration from the provider's openssl.cnf
#   section (lurk-config), for pkey and s_server;
# - refused URIs and settings fail with the reason on stderr, no crash;
# - lurkd stopped or gone: "lurkd unreachable" within the client's
#   connect-timeout, no hang.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
. "${top_srcdir:-.}/tests/provider-lib.sh"
make_tmpdir
D=$TEST_TMP
SERV=
trap '[ -n "$SERV" ] && kill $SERV 2>/dev/null; [ -f "$D/lurkd.bgpid" ] && kill -CONT "$(cat "$D/lurkd.bgpid")" 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 31

PORT=$(lurkd_pick_port 41)
check "setup and start lurkd" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_setup '$D' >/dev/null && lurkd_start '$D' >/dev/null"
prov_setup "$D"
export OPENSSL_CONF=$D/openssl.cnf
C=$D/client.conf
# The same, with the URI's default configuration in the provider's section.
{ cat "$D/openssl.cnf"; echo "lurk-config = $C"; } >"$D/default.cnf"
PROV_LOGS="$D/s_server.log"

# same_key NAME KEY CMD...: CMD prints the public key of KEY's certificate.
same_key() {
	_name=$1 _key=$2
	shift 2
	_a=$("$@" 2>"$D/err")
	_b=$(plain_openssl x509 -in "$D/pki/$_key.pem" -pubkey -noout)
	if [ -n "$_a" ] && [ "$_a" = "$_b" ]; then
		ok "$_name"
	else
		not_ok "$_name"
		sed 's/^/# /' "$D/err" | head -8
	fi
}

# fails NAME PATTERN CMD...: CMD exits 1 (an error, not a signal, not the
# timeout) and its stderr matches PATTERN (grep -E).
fails() {
	_name=$1 _pat=$2
	shift 2
	"$@" >"$D/out" 2>"$D/err"
	_rc=$?
	if [ "$_rc" -ne 1 ]; then
		not_ok "$_name (exit status $_rc)"
		sed 's/^/# /' "$D/err" | head -8
	elif grep -qE "$_pat" "$D/err"; then
		ok "$_name: $(grep -m1 -oE "$_pat" "$D/err")"
	else
		not_ok "$_name"
		sed 's/^/# /' "$D/err" | head -8
	fi
}

for k in rsa2048 ec256 ed25519; do
	same_key "openssl pkey -in 'lurk:$k?config=...' -pubout gives the certificate's key" "$k" \
		$TOOL_ENV openssl pkey -in "lurk:$k?config=$C" -pubout
done
same_key "a public key expected (pkey -pubin): the same key" ec256 \
	$TOOL_ENV openssl pkey -pubin -in "lurk:ec256?config=$C" -pubout
# RFC 3986 percent-encoding: %65 is 'e', %2F is '/'.
same_key "a percent-encoded URI (lurk:%65c256?config=%2F...) names the same key" ec256 \
	$TOOL_ENV openssl pkey -in "lurk:%65c256?config=${C//\//%2F}" -pubout
check "a certificate expected (storeutl -certs): nothing found, no error" sh -c \
	"$TOOL_ENV openssl storeutl -certs 'lurk:ec256?config=$C' >'$D/out' 2>&1 && grep -q '^Total found: 0' '$D/out'"
same_key "lurk:NAME alone: the configuration from lurk-config in openssl.cnf" ed25519 \
	env OPENSSL_CONF="$D/default.cnf" $TOOL_ENV openssl pkey -in "lurk:ed25519" -pubout

# s_server URI CERT [OPENSSL_CONF]: openssl s_server with its key from URI,
# reversing lines (-rev).
s_server() {
	[ -n "$SERV" ] && kill "$SERV" 2>/dev/null && wait "$SERV" 2>/dev/null
	OPENSSL_CONF=${3:-$OPENSSL_CONF} $TOOL_ENV openssl s_server -rev -key "$1" -cert "$D/pki/$2.pem" -cert_chain "$D/pki/int.pem" \
		-accept "127.0.0.1:$PORT" >"$D/s_server.log" 2>&1 &
	SERV=$!
	prov_wait_port "$PORT" "$SERV" && return 0
	sed 's/^/# /' "$D/s_server.log"
	return 1
}

# hs NAME KEY PEER-SIGTYPE MECH S_CLIENT-ARGS...: a verified handshake signed by lurkd.
hs() {
	_name=$1 _key=$2 _sig=$3 _mech=$4
	shift 4
	prov_hs "$D" "$_name" "$PORT" "$_key" "$_sig" "$_mech" 'hello lurk\nCLOSE\n' "krul olleh" "$@"
}

check "s_server -key 'lurk:rsa2048?config=...' listens" s_server "lurk:rsa2048?config=$C" rsa2048
hs "lurk:rsa2048, TLS 1.3 (RSA-PSS)" rsa2048 RSA-PSS CKM_SHA256_RSA_PKCS_PSS -tls1_3
hs "lurk:rsa2048, TLS 1.2, PKCS#1 (RSA+SHA256)" rsa2048 RSA CKM_SHA256_RSA_PKCS -tls1_2 -sigalgs RSA+SHA256
check "s_server -key 'lurk:ec256?config=...' listens" s_server "lurk:ec256?config=$C" ec256
hs "lurk:ec256, TLS 1.3" ec256 ECDSA CKM_ECDSA_SHA256 -tls1_3
hs "lurk:ec256, TLS 1.2" ec256 ECDSA CKM_ECDSA_SHA256 -tls1_2 -sigalgs ECDSA+SHA256
check "s_server -key 'lurk:ed25519?config=...' listens" s_server "lurk:ed25519?config=$C" ed25519
hs "lurk:ed25519, TLS 1.3" ed25519 ed25519 CKM_EDDSA -tls1_3
hs "lurk:ed25519, TLS 1.2" ed25519 ed25519 CKM_EDDSA -tls1_2
check "s_server -key lurk:ec384 (lurk-config in openssl.cnf) listens" s_server "lurk:ec384" ec384 \
	"$D/default.cnf"
hs "s_server -key lurk:ec384 (lurk-config in openssl.cnf), TLS 1.3" ec384 ECDSA CKM_ECDSA_SHA384 -tls1_3
kill "$SERV" 2>/dev/null
wait "$SERV" 2>/dev/null
SERV=
check "no handshake signature reached lurkd as a bare hash: $(prov_bare_count "$D")" \
	test "$(prov_bare_count "$D")" -eq 0

# Refusals: exit status 1 with the reason, from the error queue, on stderr.
pkey() { $TOOL_ENV openssl pkey -in "$1" -pubout; }
fails "a relative config path" "config= must be an absolute path" pkey "lurk:ec256?config=client.conf"
fails "a key lurkd does not serve" "lurkd serves no key named 'nosuchkey' to the client of [^ ]*client.conf" \
	pkey "lurk:nosuchkey?config=$C"
fails "an unknown query parameter" "unknown query parameter 'pin' \(only config=\)" \
	pkey "lurk:ec256?config=$C&pin=1234"
fails "a name of 256 bytes" "the key name is longer than 255 bytes" \
	pkey "lurk:$(printf '%0256d' 0)?config=$C"
fails "lurk: alone" "names no key: lurk:NAME" pkey "lurk:"
fails "a percent sign not followed by two hex digits" "'%' must begin %XX" pkey "lurk:ec%2?config=$C"
fails "a raw '/' in the name (lurk://...)" "'/' must be written %2F" pkey "lurk://ec256?config=$C"
fails "no ?config= and no lurk-config" "lurk:ec256 names no client configuration" pkey "lurk:ec256"
sed "s|^lurk-config = .*|lurk-config = relative.conf|" "$D/default.cnf" >"$D/relative.cnf"
fails "lurk-config not an absolute path" "lurk-config in the provider's openssl.cnf section is not an absolute path" \
	env OPENSSL_CONF="$D/relative.cnf" $TOOL_ENV openssl pkey -in "lurk:ec256" -pubout

# lurkd stopped (SIGSTOP: the socket answers nothing), then gone. The cap
# (20 s) only bounds a hang; the client's connect-timeout is 3 s.
PID=$(cat "$D/lurkd.bgpid")
kill -STOP "$PID"
fails "lurkd stopped: unreachable within the connect-timeout" "lurkd unreachable.*no answer in time" \
	timeout 20 $TOOL_ENV openssl pkey -in "lurk:ec384?config=$C" -pubout
kill -CONT "$PID"
lurkd_stop "$D" >/dev/null 2>&1
fails "lurkd gone: unreachable" "lurkd unreachable.*is lurkd running" \
	timeout 20 $TOOL_ENV openssl pkey -in "lurk:ec384?config=$C" -pubout
finish

#!/bin/bash
# OpenSSL servers on lurk keys through OpenSSL's pkcs11 engine (libp11 0.4):
# openssl s_server and nginx with RSA and ECDSA keys from lurk, openssl
# s_client and curl verifying the chain. libp11 0.4 gives up on a token that
# holds an Ed25519 key, so the module shows two tokens
# (docs/consumers.md): lurk-web (RSA, EC) for the engine, lurk-ed (Ed25519).
# nginx loads the key in its master and signs in forked workers: the module's
# fork handling at work.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
SERV=
trap '[ -n "$SERV" ] && kill $SERV 2>/dev/null; [ -f "$D/nginx/nginx.pid" ] && kill $(cat "$D/nginx/nginx.pid") 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 12

MODULE=$(cd "$top_builddir" && pwd)/.libs/lurk-pkcs11.so
ENGINE=$(ls /usr/lib/*/engines-3/pkcs11.so 2>/dev/null | head -1)
PORT=$(lurkd_pick_port 21)

check "setup and start lurkd" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_setup '$D' >/dev/null && lurkd_start '$D' >/dev/null"
cat >"$D/module.conf" <<EOF
[module]
client-key = $D/a.key

[server one]
address = unix:$D/lurkd.sock
public-key = $(cat "$D/server.pub")

[token web]
label = lurk-web
key-types = rsa, ec

[token edwards]
label = lurk-ed
key-types = ed25519
EOF
export LURK_PKCS11_CONF="$D/module.conf"
# init = 1: nginx does not initialise the engine itself (s_server -engine does).
cat >"$D/openssl.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $MODULE
init = 1
EOF
out=$($TOOL_ENV pkcs11-tool --module "$MODULE" -L 2>&1)
check "the module shows the two tokens" sh -c 'echo "$0" | grep -q "token label *: lurk-web" && echo "$0" | grep -q "token label *: lurk-ed"' "$out"

# s_server KEY: openssl s_server with the key through the engine, in the background.
s_server() {
	[ -n "$SERV" ] && kill "$SERV" 2>/dev/null && wait "$SERV" 2>/dev/null
	OPENSSL_CONF=$D/openssl.cnf $TOOL_ENV openssl s_server -engine pkcs11 -keyform engine \
		-key "pkcs11:token=lurk-web;object=$1;type=private" -cert "$D/pki/$1.pem" \
		-cert_chain "$D/pki/int.pem" -accept "127.0.0.1:$PORT" -www >"$D/s_server.log" 2>&1 &
	SERV=$!
	for _i in $(seq 1 100); do
		grep -q "^ACCEPT" "$D/s_server.log" 2>/dev/null && return 0
		kill -0 "$SERV" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/# /' "$D/s_server.log"
	return 1
}

# s_client NAME VERSION-FLAG SIGNATURE: a verified handshake with that signature type.
s_client() {
	out=$(echo | timeout 20 openssl s_client "$2" -connect "127.0.0.1:$PORT" \
		-CAfile "$D/pki/ca.pem" -verify_return_error 2>&1)
	if echo "$out" | grep -q "Verify return code: 0 (ok)" &&
		echo "$out" | grep -q "Peer signature type: $3"; then
		ok "$1: $(echo "$out" | sed -n 's/^New, //p' | head -1)"
	else
		not_ok "$1"
		echo "$out" | grep -iE "error|verify|signature|^New" | head -10 | sed 's/^/# /'
		sed 's/^/# server: /' "$D/s_server.log" | tail -5
	fi
}

s_server ec256
s_client "openssl s_server, ECDSA P-256, TLS 1.3" -tls1_3 ECDSA
s_client "openssl s_server, ECDSA P-256, TLS 1.2" -tls1_2 ECDSA
s_server rsa2048
s_client "openssl s_server, RSA 2048, TLS 1.3 (RSA-PSS)" -tls1_3 RSA-PSS
s_client "openssl s_server, RSA 2048, TLS 1.2" -tls1_2 RSA
kill "$SERV" 2>/dev/null
wait "$SERV" 2>/dev/null
SERV=

# nginx, with its own prefix, logs and temp paths in $D.
N=$D/nginx
mkdir -p "$N/logs"
P1=$((PORT + 1))
P2=$((PORT + 2))
{
	[ "$(id -u)" -eq 0 ] && echo "user root;" # the workers reach lurkd's socket and key file
	cat <<EOF
worker_processes 2;
error_log $N/logs/error.log warn;
pid $N/nginx.pid;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $N/t1; proxy_temp_path $N/t2; fastcgi_temp_path $N/t3;
	uwsgi_temp_path $N/t4; scgi_temp_path $N/t5;
	server {
		listen 127.0.0.1:$P1 ssl;
		ssl_certificate $D/pki/ec256-chain.pem;
		ssl_certificate_key "engine:pkcs11:pkcs11:token=lurk-web;object=ec256;type=private";
		location / { return 200 "lurk ec256\n"; }
	}
	server {
		listen 127.0.0.1:$P2 ssl;
		ssl_certificate $D/pki/rsa2048-chain.pem;
		ssl_certificate_key "engine:pkcs11:pkcs11:token=lurk-web;object=rsa2048;type=private";
		location / { return 200 "lurk rsa2048\n"; }
	}
}
EOF
} >"$N/nginx.conf"
if OPENSSL_CONF=$D/openssl.cnf $TOOL_ENV nginx -p "$N" -c "$N/nginx.conf" -g "daemon on;" >"$N/start.log" 2>&1; then
	ok "nginx starts with both keys from lurk"
else
	not_ok "nginx starts with both keys from lurk"
	sed 's/^/# /' "$N/start.log" "$N/logs/error.log" 2>/dev/null
fi

# curls NAME PORT KEY: five separate HTTPS requests (five handshakes), all answered.
curls() {
	_good=0
	for _i in 1 2 3 4 5; do
		_body=$(timeout 20 curl -s --cacert "$D/pki/ca.pem" --resolve "$3.lurk.test:$2:127.0.0.1" \
			"https://$3.lurk.test:$2/" 2>&1)
		[ "$_body" = "lurk $3" ] && _good=$((_good + 1))
	done
	if [ $_good -eq 5 ]; then ok "$1"; else
		not_ok "$1 ($_good of 5)"
		tail -5 "$N/logs/error.log" 2>/dev/null | sed 's/^/# /'
	fi
}
curls "nginx + curl, ECDSA P-256: 5 handshakes in forked workers" "$P1" ec256
curls "nginx + curl, RSA 2048: 5 handshakes in forked workers" "$P2" rsa2048
timeout 20 curl -s --tls-max 1.2 --cacert "$D/pki/ca.pem" --resolve "ec256.lurk.test:$P1:127.0.0.1" \
	"https://ec256.lurk.test:$P1/" >"$D/tls12.out" 2>&1
check "nginx + curl, ECDSA P-256, TLS 1.2" grep -q "lurk ec256" "$D/tls12.out"
kill "$(cat "$N/nginx.pid")" 2>/dev/null
sleep 0.5

lurkd_stop "$D" >/dev/null 2>&1 # flushes the audit log
check "lurkd's audit log has these signatures by client a" sh -c \
	"[ \$(grep -c '\"client\":\"a\",\"key\":\"ec256\".*\"verdict\":\"allowed\"' '$D/audit.log') -ge 8 ] &&
	 [ \$(grep -c '\"client\":\"a\",\"key\":\"rsa2048\".*\"verdict\":\"allowed\"' '$D/audit.log') -ge 7 ]"
# What docs/policy.md's table says of the engine: it hands the module a bare
# hash (CKM_ECDSA over 32 bytes; CKM_RSA_PKCS over a DigestInfo or
# CKM_RSA_PKCS_PSS over a hash), never the handshake content.
check "the engine sent lurkd bare hashes only (CKM_ECDSA, CKM_RSA_PKCS[_PSS])" sh -c \
	"grep '\"client\":\"a\",\"key\":\"ec256\",\"op\":\"sign\"' '$D/audit.log' >'$D/ec.audit' &&
	 grep '\"client\":\"a\",\"key\":\"rsa2048\",\"op\":\"sign\"' '$D/audit.log' >'$D/rsa.audit' &&
	 [ -s '$D/ec.audit' ] && [ -s '$D/rsa.audit' ] &&
	 ! grep -v '\"mechanism\":\"CKM_ECDSA\",.*\"input_len\":32,' '$D/ec.audit' &&
	 ! grep -Ev '\"mechanism\":\"CKM_RSA_PKCS(_PSS)?\",.*\"input_len\":(32|51),' '$D/rsa.audit'"
finish

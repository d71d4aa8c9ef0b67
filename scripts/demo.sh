#!/bin/bash
# lurk's main job in one command: a TLS server whose private keys it never
# holds. Installs what is missing, builds lurk, makes a demo CA with RSA,
# ECDSA P-256 and Ed25519 server certificates, starts lurkd (loopback and a
# unix socket) holding the keys, registers lurk-pkcs11.so with p11-kit,
# starts a GnuTLS HTTPS server whose keys are pkcs11: URIs served by lurk
# (and nginx through OpenSSL's pkcs11 engine where that is installed),
# makes real TLS handshakes against it and shows what happened — then keeps
# serving until interrupted (--check stops after the checks).
#
# Everything it makes lives in ./demo; it listens on 127.0.0.1 only.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
check_only=0
[ "${1:-}" = "--check" ] && check_only=1

sh scripts/deps.sh
./autogen.sh >/dev/null 2>&1 || ./autogen.sh
mkdir -p _build/demo
(cd _build/demo && { [ -f Makefile ] || "$top/configure" -q; } &&
	make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null)

B="$top/_build/demo"
export top_srcdir="$top" top_builddir="$B"
. "$top/tests/lib-lurkd.sh"
D="$top/demo"
mkdir -p "$D"
chmod 711 "$D"
echo "lurk demo: everything lives in $D"
[ -f "$D/lurkd.conf" ] || lurkd_setup "$D" >/dev/null
lurkd_stop "$D" >/dev/null 2>&1 || true
lurkd_start "$D"
SERV=
NGINX_PID=
trap '[ -n "$SERV" ] && kill $SERV 2>/dev/null; [ -n "$NGINX_PID" ] && kill $NGINX_PID 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1' EXIT
echo "1. lurkd holds the keys (pid $(cat "$D/lurkd.pid")), on unix:$D/lurkd.sock and tcp:127.0.0.1:$(cat "$D/port")"

# The TLS server's side: the module, its file, its client key, and p11-kit's
# registration (a user config; p11-kit reads none for root, so as root the
# server runs as nobody).
U="$D/tls-server"
mkdir -p "$U/home/.config/pkcs11/modules"
cp "$B/.libs/lurk-pkcs11.so" "$U/lurk-pkcs11.so"
cp "$D/a.key" "$U/client.key"
cat >"$U/lurk-pkcs11.conf" <<EOF
[module]
client-key = $U/client.key

[server local]
address = tcp:127.0.0.1:$(cat "$D/port")
public-key = $(cat "$D/server.pub")

# OpenSSL's pkcs11 engine (libp11 0.4) cannot share a token with an Ed25519 key.
[token main]
label = lurk
key-types = rsa, ec

[token edwards]
label = lurk-ed25519
key-types = ed25519
EOF
sed "s|@MODULE@|$U/lurk-pkcs11.so|; s|@SYSCONF@|/etc|" "$top/pkcs11-conf/lurk.module.in" \
	>"$U/home/.config/pkcs11/modules/lurk.module"
RUN=
if [ "$(id -u)" -eq 0 ]; then
	chown -R 65534:65534 "$U"
	RUN="setpriv --reuid=65534 --regid=65534 --clear-groups --"
fi
chmod 600 "$U/client.key"
export HOME="$U/home" LURK_PKCS11_CONF="$U/lurk-pkcs11.conf"
unset XDG_CONFIG_HOME
echo "2. lurk-pkcs11.so registered with p11-kit: $U/home/.config/pkcs11/modules/lurk.module"
$RUN p11-kit list-modules 2>/dev/null | grep -A1 "^lurk:" | sed 's/^/     /'

PORT=8443
while (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
uri() { echo "pkcs11:token=$1;object=$2;type=$3"; }
$RUN "$B/tests/lurk-tls-serv" --port "$PORT" \
	--cert "$(uri lurk rsa2048 cert)" --key "$(uri lurk rsa2048 private)" \
	--cert "$(uri lurk ec256 cert)" --key "$(uri lurk ec256 private)" \
	--cert "$(uri lurk-ed25519 ed25519 cert)" --key "$(uri lurk-ed25519 ed25519 private)" \
	>"$D/tls-server.log" 2>&1 &
SERV=$!
for _i in $(seq 1 100); do
	grep -q "^listening" "$D/tls-server.log" 2>/dev/null && break
	kill -0 "$SERV" 2>/dev/null || { cat "$D/tls-server.log"; exit 1; }
	sleep 0.1
done
echo "3. a GnuTLS HTTPS server on 127.0.0.1:$PORT with keys $(uri lurk ec256 private) etc."
echo

# handshake LABEL PRIORITY: a verified handshake; what it used; lurkd's audit line.
handshake() {
	out=$(echo | timeout 20 gnutls-cli --x509cafile "$D/pki/ca.pem" --port "$PORT" \
		--priority "$2" localhost 2>&1) || true
	desc=$(echo "$out" | sed -n 's/^- Description: //p')
	subject=$(echo "$out" | sed -n "s/^ - subject \`\(.*\)', issuer.*/\1/p" | head -1)
	if [ -z "$desc" ] || ! echo "$out" | grep -q "The certificate is trusted"; then
		echo "   $1: FAILED"
		echo "$out" | tail -5 | sed 's/^/     /'
		return 1
	fi
	sleep 0.3 # the audit writer flushes each line
	echo "   $1"
	echo "     session:     $desc"
	echo "     certificate: $subject (chain verified against $D/pki/ca.pem)"
	echo "     lurkd audit: $(grep '"op":"sign"' "$D/audit.log" | tail -1 |
		sed 's/.*"client":"\([^"]*\)","key":"\([^"]*\)",.*"mechanism":"\([^"]*\)".*"input_len":\([0-9]*\),"verdict":"\([^"]*\)".*/client \1, key \2, \3 over \4 bytes: \5/')"
}
T13="NORMAL:-VERS-ALL:+VERS-TLS1.3"
echo "4. handshakes (gnutls-cli, verifying the chain):"
failed=0
handshake "TLS 1.3, ECDSA P-256" "$T13:-SIGN-ALL:+SIGN-ECDSA-SECP256R1-SHA256" || failed=1
handshake "TLS 1.3, RSA-PSS 2048" "$T13:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA256" || failed=1
handshake "TLS 1.3, Ed25519" "$T13:-SIGN-ALL:+SIGN-EDDSA-ED25519" || failed=1
handshake "TLS 1.2, ECDHE-RSA (PKCS#1)" "NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:+SIGN-RSA-SHA256" || failed=1

# nginx through OpenSSL's pkcs11 engine, where it is installed. The master
# loads the key (reading the module's file); the workers sign after fork.
ENGINE=$(ls /usr/lib/*/engines-3/pkcs11.so 2>/dev/null | head -1)
NGINX_PORT=
if [ -n "$ENGINE" ] && command -v nginx >/dev/null 2>&1; then
	N="$D/nginx"
	mkdir -p "$N/logs"
	NGINX_PORT=$((PORT + 1))
	while (echo >"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null; do NGINX_PORT=$((NGINX_PORT + 1)); done
	printf '%s\n' "openssl_conf = openssl_init" "[openssl_init]" "engines = engine_section" \
		"[engine_section]" "pkcs11 = pkcs11_section" "[pkcs11_section]" "engine_id = pkcs11" \
		"dynamic_path = $ENGINE" "MODULE_PATH = $U/lurk-pkcs11.so" "init = 1" >"$N/openssl.cnf"
	{
		[ "$(id -u)" -eq 0 ] && echo "user nobody nogroup;"
		echo "worker_processes 1; error_log $N/logs/error.log warn; pid $N/nginx.pid;"
		echo "events { worker_connections 64; }"
		echo "http { access_log off;"
		echo "  client_body_temp_path $N/t1; proxy_temp_path $N/t2; fastcgi_temp_path $N/t3;"
		echo "  uwsgi_temp_path $N/t4; scgi_temp_path $N/t5;"
		echo "  server { listen 127.0.0.1:$NGINX_PORT ssl;"
		echo "    ssl_certificate $D/pki/ec256-chain.pem;"
		echo "    ssl_certificate_key \"engine:pkcs11:pkcs11:token=lurk;object=ec256;type=private\";"
		echo "    location / { return 200 \"nginx, key held by lurk\\n\"; } } }"
	} >"$N/nginx.conf"
	if OPENSSL_CONF=$N/openssl.cnf nginx -p "$N" -c "$N/nginx.conf" -g "daemon on;" >"$N/start.log" 2>&1; then
		NGINX_PID=$(cat "$N/nginx.pid")
		body=$(curl -s --cacert "$D/pki/ca.pem" "https://localhost:$NGINX_PORT/" 2>&1)
		sleep 0.3
		echo "   nginx (OpenSSL pkcs11 engine), key ec256 from lurk, 127.0.0.1:$NGINX_PORT"
		echo "     curl:        $body"
		echo "     lurkd audit: $(grep '"op":"sign"' "$D/audit.log" | tail -1 |
			sed 's/.*"client":"\([^"]*\)","key":"\([^"]*\)",.*"mechanism":"\([^"]*\)".*"verdict":"\([^"]*\)".*/client \1, key \2, \3: \4/')"
		[ "$body" = "nginx, key held by lurk" ] || failed=1
	else
		echo "   nginx did not start:"
		cat "$N/start.log" "$N/logs/error.log" 2>/dev/null | tail -5 | sed 's/^/     /'
		failed=1
	fi
fi
echo

# The same key cannot be used to sign anything else.
echo "5. the same Ed25519 key asked to sign something that is not a handshake:"
printf 'transfer 1000 EUR to account 42' >"$D/not-a-handshake.txt"
if $RUN pkcs11-tool --module "$U/lurk-pkcs11.so" --token-label lurk-ed25519 \
	--sign -m EDDSA --id "$(pkcs11-tool --module "$B/.libs/lurk-pkcs11.so" --token-label lurk-ed25519 -O --type privkey 2>/dev/null | sed -n 's/^ *ID: *//p' | head -1)" \
	-i "$D/not-a-handshake.txt" -o "$D/sig.bin" >"$D/refused.out" 2>&1; then
	echo "   signed (unexpected!)"
	failed=1
else
	echo "   refused; lurkd says: $(grep 'refused sign' "$D/lurkd.log" | tail -1 | sed 's/.*mechanism //')"
fi
echo
if [ $failed -ne 0 ]; then
	echo "demo: something failed (logs: $D/lurkd.log, $D/tls-server.log)"
	exit 1
fi
if [ $check_only -eq 1 ]; then
	echo "demo check done."
	exit 0
fi
echo "lurk keeps serving. Connect with:"
echo "  curl --cacert $D/pki/ca.pem https://localhost:$PORT/"
[ -n "$NGINX_PID" ] && echo "  curl --cacert $D/pki/ca.pem https://localhost:$NGINX_PORT/    (nginx)"
echo "Ctrl-C stops it."
while kill -0 "$SERV" 2>/dev/null; do sleep 1; done

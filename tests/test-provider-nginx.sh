#!/bin/bash
# nginx (Debian's 1.22, no engine) with ssl_certificate_key pointing at LURK
# KEY files, lurk-provider.so loaded through OPENSSL_CONF in the environment
# that starts it (docs/provider.md). nginx decodes the keys in its master,
# where nothing reaches lurkd, and signs in two forked workers: each worker's
# first use drops the core's inherited state and connects on its own.
# curl verifies the demo chain; lurkd's audit log shows the content-carrying
# mechanisms and no bare hash.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
. "${top_srcdir:-.}/tests/provider-lib.sh"
make_tmpdir
D=$TEST_TMP
N=$D/nginx
trap '[ -f "$N/nginx.pid" ] && kill $(cat "$N/nginx.pid") 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 8

PORT=$(lurkd_pick_port 41)
check "setup and start lurkd" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_setup '$D' >/dev/null && lurkd_start '$D' >/dev/null"
prov_setup "$D"

mkdir -p "$N/logs"
P1=$PORT P2=$((PORT + 1)) P3=$((PORT + 2))
srv() { # PORT KEY
	cat <<EOF2
	server {
		listen 127.0.0.1:$1 ssl;
		ssl_protocols TLSv1.2 TLSv1.3; # 1.22's default has no TLS 1.3
		ssl_certificate $D/pki/$2-chain.pem;
		ssl_certificate_key $D/$2.lurk;
		location / { return 200 "lurk $2\n"; }
	}
EOF2
}
{
	[ "$(id -u)" -eq 0 ] && echo "user root;" # the workers reach lurkd's socket and key file
	cat <<EOF2
worker_processes 2;
error_log $N/logs/error.log warn;
pid $N/nginx.pid;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $N/t1; proxy_temp_path $N/t2; fastcgi_temp_path $N/t3;
	uwsgi_temp_path $N/t4; scgi_temp_path $N/t5;
EOF2
	srv "$P1" ec256
	srv "$P2" rsa2048
	srv "$P3" ed25519
	echo "}"
} >"$N/nginx.conf"

before=$(wc -l <"$D/audit.log")
if OPENSSL_CONF=$D/openssl.cnf $TOOL_ENV nginx -p "$N" -c "$N/nginx.conf" -g "daemon on;" >"$N/start.log" 2>&1; then
	ok "nginx starts with three LURK KEY files (OPENSSL_CONF, no engine)"
else
	not_ok "nginx starts with three LURK KEY files (OPENSSL_CONF, no engine)"
	sed 's/^/# /' "$N/start.log" "$N/logs/error.log" 2>/dev/null
fi
check "nginx -t and the master's key loading sent nothing to lurkd" test "$(wc -l <"$D/audit.log")" -eq "$before"

# curls NAME PORT KEY [CURL-ARGS]: five separate HTTPS requests (five handshakes), all answered.
curls() {
	_name=$1 _port=$2 _key=$3
	shift 3
	_good=0
	for _i in 1 2 3 4 5; do
		_body=$(timeout 20 curl -s "$@" --cacert "$D/pki/ca.pem" \
			--resolve "$_key.lurk.test:$_port:127.0.0.1" "https://$_key.lurk.test:$_port/" 2>&1)
		[ "$_body" = "lurk $_key" ] && _good=$((_good + 1))
	done
	if [ $_good -eq 5 ]; then ok "$_name"; else
		not_ok "$_name ($_good of 5)"
		tail -5 "$N/logs/error.log" 2>/dev/null | sed 's/^/# /'
	fi
}
curls "nginx + curl, ECDSA P-256, TLS 1.3: 5 handshakes in forked workers" "$P1" ec256 --tlsv1.3
curls "nginx + curl, RSA 2048, TLS 1.2: 5 handshakes in forked workers" "$P2" rsa2048 --tls-max 1.2
curls "nginx + curl, Ed25519, TLS 1.3: 5 handshakes in forked workers" "$P3" ed25519 --tlsv1.3

prov_wait_audit "$D" ec256 CKM_ECDSA_SHA256 5
prov_wait_audit "$D" rsa2048 CKM_SHA256_RSA_PKCS_PSS 5
prov_wait_audit "$D" ed25519 CKM_EDDSA 5
check "lurkd's audit log: 5 CKM_ECDSA_SHA256, 5 CKM_SHA256_RSA_PKCS_PSS, 5 CKM_EDDSA, all allowed" sh -c \
	"[ \$(grep -c '\"key\":\"ec256\",\"op\":\"sign\",\"mechanism\":\"CKM_ECDSA_SHA256\".*\"verdict\":\"allowed\"' '$D/audit.log') -ge 5 ] &&
	 [ \$(grep -c '\"key\":\"rsa2048\",\"op\":\"sign\",\"mechanism\":\"CKM_SHA256_RSA_PKCS_PSS\".*\"verdict\":\"allowed\"' '$D/audit.log') -ge 5 ] &&
	 [ \$(grep -c '\"key\":\"ed25519\",\"op\":\"sign\",\"mechanism\":\"CKM_EDDSA\".*\"verdict\":\"allowed\"' '$D/audit.log') -ge 5 ]"
bare=$(grep -cE '"op":"sign","mechanism":"(CKM_ECDSA|CKM_RSA_PKCS|CKM_RSA_PKCS_PSS)"' "$D/audit.log")
check "no bare-hash signature in lurkd's audit log: $bare" test "$bare" -eq 0
kill "$(cat "$N/nginx.pid")" 2>/dev/null
finish

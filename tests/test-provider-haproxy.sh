#!/bin/bash
# HAProxy (Debian's 2.6, unmodified) terminating TLS on loopback with LURK
# KEY files, lurk-provider.so loaded by HAProxy's own `ssl-provider`
# directives (with `default`, which naming any provider turns off), then by
# OPENSSL_CONF alone. HAProxy reads the key from the `crt` PEM itself or from
# `<crt>.key` beside it; both are used. It runs as master and worker (-W):
# the keys load in the master, where nothing reaches lurkd, and the worker
# signs. openssl s_client verifies the demo chain and gets HAProxy's own
# answer (`http-request return`), over TLS 1.3 and 1.2 with RSA-2048 (PSS in
# 1.3, PKCS#1 in 1.2), ECDSA P-256 and P-384 and Ed25519; lurkd's audit log
# shows the content-carrying mechanism of each and no bare hash (issue 16).
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
. "${top_srcdir:-.}/tests/provider-lib.sh"
make_tmpdir
D=$TEST_TMP
H=$D/haproxy
HP=
trap '[ -n "$HP" ] && kill $HP 2>/dev/null && wait $HP 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 15

PORT=$(lurkd_pick_port 51)
check "setup and start lurkd" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_setup '$D' >/dev/null && lurkd_start '$D' >/dev/null"
prov_setup "$D"
mkdir -p "$H"
PROV_LOGS="$H/haproxy.log"

# Certificates: rsa2048 and ed25519 in one PEM with their LURK KEY block,
# ec256 and ec384 with the key file beside the chain (<crt>.key).
for k in rsa2048 ed25519; do cat "$D/pki/$k-chain.pem" "$D/$k.lurk" >"$H/$k.pem"; done
for k in ec256 ec384; do cp "$D/pki/$k-chain.pem" "$H/$k.pem" && cp "$D/$k.lurk" "$H/$k.pem.key"; done

P_RSA=$PORT P_EC256=$((PORT + 1)) P_EC384=$((PORT + 2)) P_ED=$((PORT + 3))
# haproxy_conf GLOBAL-LINES: one frontend per key, each answering "lurk KEY".
haproxy_conf() {
	printf 'global\n%s\n' "$1"
	cat <<EOF2
defaults
	mode http
	timeout connect 5s
	timeout client 20s
	timeout server 20s
EOF2
	for fk in "rsa2048 $P_RSA" "ec256 $P_EC256" "ec384 $P_EC384" "ed25519 $P_ED"; do
		set -- $fk
		cat <<EOF2
frontend fe_$1
	bind 127.0.0.1:$2 ssl crt $H/$1.pem ssl-min-ver TLSv1.2
	http-request return status 200 content-type text/plain string "lurk $1"
EOF2
	done
}

# haproxy_start CONF [ENV...]: HAProxy in the foreground (-db), master and
# worker (-W), until all four ports listen.
haproxy_start() {
	_conf=$1
	shift
	env "$@" $TOOL_ENV haproxy -W -db -f "$_conf" >"$H/haproxy.log" 2>&1 &
	HP=$!
	for p in $P_RSA $P_EC256 $P_EC384 $P_ED; do prov_wait_port "$p" "$HP" || return 1; done
}
haproxy_stop() {
	[ -n "$HP" ] && kill "$HP" 2>/dev/null && wait "$HP" 2>/dev/null
	HP=
}

# ssl-provider: the provider by its file name in the modules folder (here the build's .libs).
haproxy_conf "$(printf '\tssl-provider-path %s\n\tssl-provider lurk-provider\n\tssl-provider default' \
	"$(dirname "$PROVIDER_SO")")" >"$H/provider.cfg"
before=$(wc -l <"$D/audit.log")
if haproxy_start "$H/provider.cfg" OPENSSL_CONF=/dev/null; then
	ok "haproxy -W starts with ssl-provider lurk-provider + default, four LURK KEY files (in the crt PEM, and as <crt>.key)"
else
	not_ok "haproxy starts with ssl-provider lurk-provider + default"
	sed 's/^/# /' "$H/haproxy.log"
fi
check "loading the keys sent nothing to lurkd" test "$(wc -l <"$D/audit.log")" -eq "$before"

REQ='GET / HTTP/1.0\r\nHost: lurk.test\r\n\r\n'
hs() { # NAME PORT KEY SIGTYPE MECH S_CLIENT-ARGS...
	_a=$1 _b=$2 _c=$3 _e=$4 _f=$5
	shift 5
	prov_hs "$D" "$_a" "$_b" "$_c" "$_e" "$_f" "$REQ" "lurk $_c" "$@"
}
hs "RSA 2048, TLS 1.3 (RSA-PSS)" $P_RSA rsa2048 RSA-PSS CKM_SHA256_RSA_PKCS_PSS -tls1_3
hs "RSA 2048, TLS 1.2, PKCS#1 (RSA+SHA256)" $P_RSA rsa2048 RSA CKM_SHA256_RSA_PKCS -tls1_2 -sigalgs RSA+SHA256
hs "ECDSA P-256 (crt.key), TLS 1.3" $P_EC256 ec256 ECDSA CKM_ECDSA_SHA256 -tls1_3
hs "ECDSA P-256 (crt.key), TLS 1.2" $P_EC256 ec256 ECDSA CKM_ECDSA_SHA256 -tls1_2 -sigalgs ECDSA+SHA256
hs "ECDSA P-384 (crt.key), TLS 1.3" $P_EC384 ec384 ECDSA CKM_ECDSA_SHA384 -tls1_3
hs "ECDSA P-384 (crt.key), TLS 1.2" $P_EC384 ec384 ECDSA CKM_ECDSA_SHA384 -tls1_2 -sigalgs ECDSA+SHA384
hs "Ed25519, TLS 1.3" $P_ED ed25519 ed25519 CKM_EDDSA -tls1_3
hs "Ed25519, TLS 1.2" $P_ED ed25519 ed25519 CKM_EDDSA -tls1_2
haproxy_stop

# OPENSSL_CONF alone, no ssl-provider line.
haproxy_conf "" >"$H/conf.cfg"
if haproxy_start "$H/conf.cfg" OPENSSL_CONF="$D/openssl.cnf"; then
	ok "haproxy -W starts with OPENSSL_CONF only"
else
	not_ok "haproxy starts with OPENSSL_CONF only"
	sed 's/^/# /' "$H/haproxy.log"
fi
hs "OPENSSL_CONF only: RSA 2048, TLS 1.2 (RSA-PSS)" $P_RSA rsa2048 RSA-PSS CKM_SHA256_RSA_PKCS_PSS -tls1_2
hs "OPENSSL_CONF only: ECDSA P-384, TLS 1.3" $P_EC384 ec384 ECDSA CKM_ECDSA_SHA384 -tls1_3
haproxy_stop

bare=$(prov_bare_count "$D")
check "no handshake signature reached lurkd as a bare hash: $bare" test "$bare" -eq 0
finish

# Helpers for the tests of lurk-provider.so (tests/test-provider-*.sh).
# Source after tests/lib.sh and tests/lib-lurkd.sh, once lurkd_setup ran.
#   prov_setup DIR        DIR/client.conf (client a over the unix socket),
#                         DIR/openssl.cnf (default + lurk), DIR/KEY.lurk for
#                         every key of lurkd's test set
#   prov_openssl_cnf FILE  just the openssl.cnf (default + lurk)
#   prov_key_file OUT CONF LABEL CERT   a LURK KEY file (docs/provider.md)
#   prov_audit_count DIR KEY MECH       audit lines of client $PROV_CLIENT
#                                       (default a), KEY, MECH
#   prov_wait_audit DIR KEY MECH N      waits (capped) until there are N
#   prov_wait_port PORT PID             waits (capped) until PORT listens
#   prov_hs DIR NAME PORT KEY SIG MECH REQ EXPECT ARGS...   a verified
#                                       s_client handshake signed by lurkd
#   prov_bare_count DIR                 bare-hash signatures in the audit log

# openssl without the provider (OPENSSL_CONF may name it: in a sanitizer
# build only $TOOL_ENV runs may load it).
plain_openssl() {
	OPENSSL_CONF=/dev/null openssl "$@"
}

PROVIDER_SO=$(cd "$top_builddir" && pwd)/.libs/lurk-provider.so
PROV_KEYS="rsa2048 rsa3072 ec256 ec384 ec521 ed25519"

prov_key_file() {
	_spki=$(plain_openssl x509 -in "$4" -pubkey -noout | plain_openssl pkey -pubin -outform DER |
		base64 -w0)
	printf 'lurk-key 1\nconfig %s\nkey %s\nspki %s\n' "$2" "$3" "$_spki" >"$1.body"
	{
		echo "-----BEGIN LURK KEY-----"
		base64 -w64 <"$1.body"
		echo "-----END LURK KEY-----"
	} >"$1"
}

# prov_openssl_cnf FILE: an openssl.cnf loading the default provider and lurk's.
prov_openssl_cnf() {
	cat >"$1" <<EOC
openssl_conf = openssl_init
config_diagnostics = 1
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
lurk = lurk_sect
[default_sect]
activate = 1
[lurk_sect]
module = $PROVIDER_SO
activate = 1
EOC
}

prov_setup() {
	cat >"$1/client.conf" <<EOC
[module]
client-key = $1/a.key

[server one]
address = unix:$1/lurkd.sock
public-key = $(cat "$1/server.pub")
EOC
	prov_openssl_cnf "$1/openssl.cnf"
	for _k in $PROV_KEYS; do
		prov_key_file "$1/$_k.lurk" "$1/client.conf" "$_k" "$1/pki/$_k.pem" || return 1
	done
}

prov_audit_count() {
	grep -c "\"client\":\"${PROV_CLIENT:-a}\",\"key\":\"$2\",\"op\":\"[a-z]*\",\"mechanism\":\"$3\"" \
		"$1/audit.log" 2>/dev/null || true
}

prov_wait_audit() {
	_end=$(($(date +%s) + 20))
	while [ "$(prov_audit_count "$1" "$2" "$3")" -lt "$4" ]; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.05
	done
}

# prov_wait_port PORT PID: waits (capped, 60 s: ASan on a busy machine) until
# something listens on 127.0.0.1:PORT; 1 if PID exits first or it never does.
prov_wait_port() {
	for _i in $(seq 1 1200); do
		(echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# prov_hs DIR NAME PORT KEY SIGTYPE MECH REQUEST EXPECT [S_CLIENT-ARGS...]:
# openssl s_client (without the provider) verifies the demo chain, sends
# REQUEST (printf format) and must read EXPECT back; the peer signature type
# is SIGTYPE (unless empty) and lurkd's audit log gets one more allowed line
# of MECH for KEY over more bytes than a hash (the whole content). On
# failure, the files in $PROV_LOGS are shown.
prov_hs() {
	_d=$1 _name=$2 _port=$3 _key=$4 _sig=$5 _mech=$6 _req=$7 _exp=$8
	shift 8
	_n=$(prov_audit_count "$_d" "$_key" "$_mech")
	# shellcheck disable=SC2059
	_out=$(printf "$_req" | OPENSSL_CONF=/dev/null timeout 20 openssl s_client -ign_eof \
		-connect "127.0.0.1:$_port" -CAfile "$_d/pki/ca.pem" -verify_return_error "$@" 2>&1)
	_why=
	echo "$_out" | grep -q "Verify return code: 0 (ok)" || _why="no verified handshake"
	[ -z "$_sig" ] || echo "$_out" | grep -q "Peer signature type: $_sig" || _why="$_why; not $_sig"
	echo "$_out" | grep -qF "$_exp" || _why="$_why; no '$_exp' back"
	_len=0
	if prov_wait_audit "$_d" "$_key" "$_mech" $((_n + 1)); then
		_line=$(grep "\"key\":\"$_key\",\"op\":\"sign\",\"mechanism\":\"$_mech\"" "$_d/audit.log" | tail -1)
		_len=$(echo "$_line" | sed 's/.*"input_len":\([0-9]*\).*/\1/')
		echo "$_line" | grep -q '"verdict":"allowed"' || _why="$_why; $_mech not allowed"
		[ "$_len" -gt 64 ] || _why="$_why; $_mech over $_len bytes"
	else
		_why="$_why; no $_mech in the audit log"
	fi
	if [ -z "$_why" ]; then
		ok "$_name: $(echo "$_out" | sed -n 's/^New, //p' | head -1), $_mech over $_len bytes"
		return 0
	fi
	not_ok "$_name:$_why"
	echo "$_out" | grep -iE "error|verify|signature|^New" | head -10 | sed 's/^/# /'
	for _f in $PROV_LOGS; do tail -5 "$_f" 2>/dev/null | sed "s|^|# $(basename "$_f"): |"; done
	tail -2 "$_d/audit.log" | sed 's/^/# audit: /'
	return 1
}

# prov_bare_count DIR: how many signatures in lurkd's audit log went as a bare hash.
prov_bare_count() {
	grep -cE '"op":"sign","mechanism":"(CKM_ECDSA|CKM_RSA_PKCS|CKM_RSA_PKCS_PSS)"' "$1/audit.log" || true
}

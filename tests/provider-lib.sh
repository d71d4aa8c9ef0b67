# Helpers for the tests of lurk-provider.so (tests/test-provider-*.sh).
# Source after tests/lib.sh and tests/lib-lurkd.sh, once lurkd_setup ran.
#   prov_setup DIR        DIR/client.conf (client a over the unix socket),
#                         DIR/openssl.cnf (default + lurk), DIR/KEY.lurk for
#                         every key of lurkd's test set
#   prov_key_file OUT CONF LABEL CERT   a LURK KEY file (docs/provider.md)
#   prov_audit_count DIR KEY MECH       audit lines of client a, KEY, MECH
#   prov_wait_audit DIR KEY MECH N      waits (capped) until there are N

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

prov_setup() {
	cat >"$1/client.conf" <<EOC
[module]
client-key = $1/a.key

[server one]
address = unix:$1/lurkd.sock
public-key = $(cat "$1/server.pub")
EOC
	cat >"$1/openssl.cnf" <<EOC
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
	for _k in $PROV_KEYS; do
		prov_key_file "$1/$_k.lurk" "$1/client.conf" "$_k" "$1/pki/$_k.pem" || return 1
	done
}

prov_audit_count() {
	grep -c "\"client\":\"a\",\"key\":\"$2\",\"op\":\"[a-z]*\",\"mechanism\":\"$3\"" \
		"$1/audit.log" 2>/dev/null || true
}

prov_wait_audit() {
	_end=$(($(date +%s) + 20))
	while [ "$(prov_audit_count "$1" "$2" "$3")" -lt "$4" ]; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.05
	done
}

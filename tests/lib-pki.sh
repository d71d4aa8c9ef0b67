# Builds a demo PKI with certtool: a root CA, an intermediate CA, and server
# keys with certificate chains (leaf, intermediate) for each key type.
#
#   make_pki DIR              creates DIR/ca.pem, DIR/int.pem and for each
#                             NAME in rsa2048 rsa3072 ec256 ec384 ec521 ed25519:
#                             DIR/NAME.key (PKCS#8 PEM), DIR/NAME.pem (leaf),
#                             DIR/NAME-chain.pem (leaf + intermediate)
#   make_key_cert DIR NAME [--rsa-decrypt] TYPE-ARGS...   one more key/chain
#
# Leaf certificates have keyEncipherment only with --rsa-decrypt: for the
# RSA keys lurkd.conf gives rsa-decrypt = yes (rsa2048 in lib-lurkd.sh). A
# certificate without it keeps GnuTLS from choosing TLS RSA key exchange,
# which lurkd would refuse for that key only once the handshake is under way.

_pki_template() {
	# $1 file, $2 cn, $3 "ca", "leaf" or "leaf-decrypt" (keyEncipherment too)
	{
		echo "cn = \"$2\""
		echo "organization = \"lurk demo\""
		echo "expiration_days = 30"
		if [ "$3" = ca ]; then
			echo "ca"
			echo "cert_signing_key"
			echo "crl_signing_key"
		else
			echo "dns_name = \"localhost\""
			echo "dns_name = \"$2\""
			echo "ip_address = \"127.0.0.1\""
			echo "tls_www_server"
			echo "signing_key"
			if [ "$3" = leaf-decrypt ]; then echo "encryption_key"; fi
		fi
	} >"$1"
}

make_key_cert() {
	_dir=$1
	_name=$2
	_kind=leaf
	shift 2
	if [ "$1" = --rsa-decrypt ]; then
		_kind=leaf-decrypt
		shift
	fi
	certtool --generate-privkey --pkcs8 --empty-password "$@" \
		--outfile "$_dir/$_name.key" >/dev/null 2>&1 || return 1
	_pki_template "$_dir/$_name.tmpl" "$_name.lurk.test" $_kind
	certtool --generate-certificate --load-privkey "$_dir/$_name.key" \
		--load-ca-certificate "$_dir/int.pem" --load-ca-privkey "$_dir/int.key" \
		--template "$_dir/$_name.tmpl" --outfile "$_dir/$_name.pem" >/dev/null 2>&1 || return 1
	cat "$_dir/$_name.pem" "$_dir/int.pem" >"$_dir/$_name-chain.pem"
	chmod 600 "$_dir/$_name.key"
}

make_pki() {
	_dir=$1
	mkdir -p "$_dir"
	if [ -f "$_dir/.done" ]; then return 0; fi
	certtool --generate-privkey --key-type ecdsa --curve secp256r1 \
		--outfile "$_dir/ca.key" >/dev/null 2>&1 || return 1
	_pki_template "$_dir/ca.tmpl" "lurk demo root CA" ca
	certtool --generate-self-signed --load-privkey "$_dir/ca.key" --template "$_dir/ca.tmpl" \
		--outfile "$_dir/ca.pem" >/dev/null 2>&1 || return 1
	certtool --generate-privkey --key-type ecdsa --curve secp256r1 \
		--outfile "$_dir/int.key" >/dev/null 2>&1 || return 1
	_pki_template "$_dir/int.tmpl" "lurk demo intermediate CA" ca
	certtool --generate-certificate --load-privkey "$_dir/int.key" \
		--load-ca-certificate "$_dir/ca.pem" --load-ca-privkey "$_dir/ca.key" \
		--template "$_dir/int.tmpl" --outfile "$_dir/int.pem" >/dev/null 2>&1 || return 1
	# rsa2048 is the key lib-lurkd.sh gives rsa-decrypt = yes.
	make_key_cert "$_dir" rsa2048 --rsa-decrypt --key-type rsa --bits 2048 || return 1
	make_key_cert "$_dir" rsa3072 --key-type rsa --bits 3072 || return 1
	make_key_cert "$_dir" ec256 --key-type ecdsa --curve secp256r1 || return 1
	make_key_cert "$_dir" ec384 --key-type ecdsa --curve secp384r1 || return 1
	make_key_cert "$_dir" ec521 --key-type ecdsa --curve secp521r1 || return 1
	make_key_cert "$_dir" ed25519 --key-type ed25519 || return 1
	touch "$_dir/.done"
}

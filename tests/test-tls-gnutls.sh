#!/bin/bash
# Real TLS handshakes on remote keys: gnutls-serv with --x509keyfile and
# --x509certfile set to lurk pkcs11: URIs, gnutls-cli verifying the chain
# (leaf and intermediate, both served from the token) against the demo CA.
# TLS 1.3 with RSA-PSS, ECDSA P-256 and P-384, Ed25519; TLS 1.2 with
# ECDHE-RSA (PKCS#1) and ECDHE-ECDSA; the RSA key exchange refused by default
# and served where a key allows it; require-content refusing GnuTLS's
# hash-only signatures; and the same handshake through p11-kit's module
# registration (no --provider) as an unprivileged user.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
SERV=
trap '[ -n "$SERV" ] && kill $SERV 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 14

MODULE=$(cd "$top_builddir" && pwd)/.libs/lurk-pkcs11.so
PORT=$(lurkd_pick_port 11)

check "setup and start lurkd" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_setup '$D' >/dev/null && lurkd_start '$D' >/dev/null"
printf '[module]\nclient-key = %s\n\n[server one]\naddress = unix:%s\npublic-key = %s\n' \
	"$D/a.key" "$D/lurkd.sock" "$(cat "$D/server.pub")" >"$D/module.conf"
export LURK_PKCS11_CONF="$D/module.conf"

# serve KEY: gnutls-serv with KEY from the lurk token, in the background
# (as $RUNNER when set).
RUNNER=
serve() {
	_k=$1
	stop_serv
	$RUNNER $TOOL_ENV gnutls-serv ${PROVIDER:+--provider "$PROVIDER"} --port "$PORT" \
		--x509keyfile "pkcs11:token=lurk;object=$_k;type=private" \
		--x509certfile "pkcs11:token=lurk;object=$_k;type=cert" --echo >"$D/serv.log" 2>&1 &
	SERV=$!
	for _i in $(seq 1 100); do
		(echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		kill -0 "$SERV" 2>/dev/null || break
		sleep 0.1
	done
	diag "gnutls-serv did not start:"
	sed 's/^/# /' "$D/serv.log"
	return 1
}

stop_serv() {
	if [ -n "$SERV" ]; then
		kill "$SERV" 2>/dev/null
		wait "$SERV" 2>/dev/null
		SERV=
	fi
}

# handshake PRIORITY: a verified handshake; the session description in $desc.
handshake() {
	out=$(echo | timeout 20 gnutls-cli --x509cafile "$D/pki/ca.pem" --port "$PORT" \
		--priority "$1" --print-cert localhost 2>&1)
	desc=$(echo "$out" | sed -n 's/^- Description: //p')
	echo "$out" | grep -q "^- Handshake was completed" &&
		echo "$out" | grep -q "The certificate is trusted"
}

# tls NAME KEY PRIORITY DESCRIPTION-PATTERN: the handshake, its scheme, a chain of two.
tls() {
	if serve "$2" && handshake "$3" && echo "$desc" | grep -q -- "$4" &&
		[ "$(echo "$out" | grep -c 'BEGIN CERTIFICATE')" -eq 2 ]; then
		ok "$1: $desc"
	else
		not_ok "$1"
		diag "desc=$desc"
		echo "$out" | grep -v "^ \|^[A-Za-z0-9+/=]*$" | head -20 | sed 's/^/# /'
		tail -5 "$D/serv.log" | sed 's/^/# /'
	fi
}

T13="NORMAL:-VERS-ALL:+VERS-TLS1.3"
T12="NORMAL:-VERS-ALL:+VERS-TLS1.2"
PROVIDER=$MODULE
tls "TLS 1.3 + RSA-PSS" rsa2048 "$T13" "(TLS1.3-X.509)-.*-(RSA-PSS-RSAE-SHA256)"
tls "TLS 1.3 + ECDSA P-256" ec256 "$T13" "(TLS1.3-X.509)-.*-(ECDSA-SECP256R1-SHA256)"
tls "TLS 1.3 + ECDSA P-384" ec384 "$T13" "(TLS1.3-X.509)-.*-(ECDSA-SECP384R1-SHA384)"
tls "TLS 1.3 + Ed25519" ed25519 "$T13" "(TLS1.3-X.509)-.*-(EdDSA-Ed25519)"
tls "TLS 1.2 + ECDHE-RSA (PKCS#1)" rsa2048 "$T12:-SIGN-ALL:+SIGN-RSA-SHA256" \
	"(TLS1.2-X.509)-(ECDHE-.*)-(RSA-SHA256)"
tls "TLS 1.2 + ECDHE-ECDSA" ec256 "$T12" "(TLS1.2-X.509)-(ECDHE-.*)-(ECDSA-SHA256)"

# The RSA key exchange: rsa2048 allows it (rsa-decrypt = yes), rsa3072 has the default.
tls "TLS 1.2 RSA key exchange where the key allows it" rsa2048 "$T12:-KX-ALL:+RSA" \
	"(TLS1.2-X.509)-(RSA)-"
serve rsa3072
if handshake "$T12:-KX-ALL:+RSA"; then not_ok "TLS 1.2 RSA key exchange fails by default"; else ok "TLS 1.2 RSA key exchange fails by default"; fi
# rsa3072's certificate has no keyEncipherment (lib-pki.sh gives it to rsa-decrypt
# keys only), so GnuTLS does not choose RSA key exchange: lurkd is never asked.
check "... before lurkd is asked (no keyEncipherment in rsa3072's certificate)" \
	sh -c '! grep -q "refused decrypt: .* key rsa3072" "$1"' _ "$D/lurkd.log"

# require-content on ec256: GnuTLS sends ECDSA hashes only, so its handshakes are refused.
sed -i 's|^chain = \(.*\)/ec256-chain.pem$|&\nrequire-content = yes|' "$D/lurkd.conf"
reloads=$(grep -c "configuration reloaded" "$D/lurkd.log")
kill -HUP "$(cat "$D/lurkd.pid")"
for _i in $(seq 1 100); do # until lurkd says it has the new file (slow under sanitizers)
	[ "$(grep -c "configuration reloaded" "$D/lurkd.log")" -gt "$reloads" ] && break
	sleep 0.1
done
serve ec256
if handshake "$T13"; then not_ok "with require-content, an ECDSA handshake is refused"; else ok "with require-content, an ECDSA handshake is refused"; fi
check "lurkd logs the reason" \
	grep -q "refused sign: .* key ec256 mechanism CKM_ECDSA: key requires whole content" "$D/lurkd.log"
tls "an Ed25519 handshake still works (the content is checked)" ed25519 "$T13" "EdDSA-Ed25519"
stop_serv

# Through p11-kit's registration: no --provider, as a user whose config names the module.
U=$D/user
mkdir -p "$U/home/.config/pkcs11/modules"
cp "$MODULE" "$U/lurk-pkcs11.so"
cp "$D/a.key" "$U/client.key"
printf '[module]\nclient-key = %s\n\n[server one]\naddress = tcp:127.0.0.1:%s\npublic-key = %s\n' \
	"$U/client.key" "$(cat "$D/port")" "$(cat "$D/server.pub")" >"$U/lurk-pkcs11.conf"
sed "s|@MODULE@|$U/lurk-pkcs11.so|; s|@SYSCONF@|/etc|" "$top_srcdir/pkcs11-conf/lurk.module.in" \
	>"$U/home/.config/pkcs11/modules/lurk.module"
chmod 755 "$D"
if [ "$(id -u)" -eq 0 ]; then
	chown -R 65534:65534 "$U"
	RUNNER="setpriv --reuid=65534 --regid=65534 --clear-groups --"
fi
chmod 600 "$U/client.key"
PROVIDER=
export HOME=$U/home LURK_PKCS11_CONF=$U/lurk-pkcs11.conf
tls "TLS 1.3 + ECDSA P-384 through p11-kit's registration, unprivileged" \
	ec384 "$T13" "ECDSA-SECP384R1-SHA384"
stop_serv
finish

#!/bin/sh
# lurk-pkcs11.so driven by the real tools against a real lurkd: p11tool
# (tokens, objects, mechanisms, certificate export, login, --test-sign),
# pkcs11-tool (sign with every key type, each signature verified by openssl
# with the certificate's public key; refusals of non-handshake input, with
# lurkd's log line; RSA decryption; threads and fork).
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
# --test-fork is counted only where this opensc has it
if $TOOL_ENV pkcs11-tool --help 2>&1 | grep -q -- --test-fork; then HAS_FORK=1; else HAS_FORK=0; fi
plan $((29 + HAS_FORK))

MODULE=$(cd "${top_builddir:-.}" && pwd)/.libs/lurk-pkcs11.so
KEYS="rsa2048 rsa3072 ec256 ec384 ec521 ed25519"
LIMIT="timeout 20 $TOOL_ENV" # no tool may hang the test

# pkcs11-spy (OpenSC) logs each call's return value: pkcs11-tool 0.23 names
# CKR_FUNCTION_REJECTED neither in its messages nor for C_Sign, which it
# retries as C_SignUpdate when C_Sign fails.
SPY=
for f in /usr/lib/*/pkcs11-spy.so /usr/lib*/pkcs11-spy.so /usr/local/lib/pkcs11-spy.so; do
	if [ -f "$f" ]; then SPY=$f; break; fi
done

# diag_file FILE: a file's first 40 lines as TAP comments.
diag_file() {
	sed -n '1,40s/^/# /p' "$1"
}

# report NAME STATUS [FILE]: ok if STATUS is 0, else not ok and FILE as comments.
report() {
	if [ "$2" -eq 0 ]; then
		ok "$1"
	else
		not_ok "$1"
		[ -n "$3" ] && [ -f "$3" ] && diag_file "$3"
	fi
}

p11() { $LIMIT p11tool --provider "$MODULE" "$@"; }
ptool() { $LIMIT pkcs11-tool --module "$MODULE" "$@"; }

# key_id NAME: hex CKA_ID of the private key labelled NAME. (pkcs11-tool
# 0.23 picks the key for --sign/--decrypt by --id only, never by --label.)
key_id() {
	awk -v l="$1" '$1 == "label:" { f = ($2 == l) } f && $1 == "ID:" { print $2; exit }' "$D/privkeys.txt"
}

# --- lurkd and the module's configuration -----------------------------------
# Client p has a PIN-sealed key (PIN 2468) and may use ec256 only.
pin_client() {
	echo 2468 >"$D/pin" && chmod 600 "$D/pin" &&
		"$ADMIN" genkey --pin-file "$D/pin" "$D/p.key" >"$D/p.pub" &&
		printf '\n[client p]\npublic-key = %s\nkeys = ec256\n' "$(cat "$D/p.pub")" >>"$D/lurkd.conf"
}
# lurkd_start returns when the socket is there; lurkd answers once it says so.
lurkd_ready() {
	for _i in $(seq 1 200); do
		grep -q "lurkd ready" "$D/lurkd.log" && return 0
		sleep 0.05
	done
	return 1
}
if lurkd_setup "$D" >"$D/setup.log" 2>&1 && pin_client >>"$D/setup.log" 2>&1 &&
	lurkd_start "$D" 2>>"$D/setup.log"; then
	ok "setup and start lurkd"
	lurkd_ready || diag "lurkd has not said it is ready after 10 s"
else
	not_ok "setup and start lurkd"
	diag_file "$D/setup.log"
	exit 1
fi
cat >"$D/lurk-pkcs11.conf" <<EOF
[module]
client-key = $D/a.key
[server one]
address = unix:$D/lurkd.sock
public-key = $(cat "$D/server.pub")
EOF
sed "s|client-key = .*|client-key = $D/p.key|" "$D/lurk-pkcs11.conf" >"$D/pin.conf"
LURK_PKCS11_CONF=$D/lurk-pkcs11.conf
export LURK_PKCS11_CONF
# A plain client key: the token has no PIN and needs no login, and a login
# the tools make anyway asks for none (a protected authentication path).
unset GNUTLS_PIN GNUTLS_SO_PIN
for k in $KEYS; do openssl x509 -pubkey -noout -in "$D/pki/$k.pem" >"$D/$k.pub"; done

# The thread tests run in the background: pkcs11-tool sleeps a fixed 30 s
# when its test thread outlives the main one, which -L alone always lets it
# do; -O gives the main thread work concurrent with the test thread's.
for t in ILGISLT0 INGISLT0; do
	(ptool --test-threads $t -L -O >"$D/threads-$t.out" 2>&1; echo $? >"$D/threads-$t.rc") &
	echo $! >"$D/threads-$t.pid"
done

# --- p11tool -----------------------------------------------------------------
p11 --list-tokens >"$D/tokens.out" 2>&1
grep -q "Label: lurk$" "$D/tokens.out"
report "p11tool --list-tokens shows the token 'lurk'" $? "$D/tokens.out"

p11 --list-all pkcs11:token=lurk >"$D/all.out" 2>&1
missing=
for k in $KEYS; do
	for t in private public cert; do
		grep -q "URL: pkcs11:.*;object=$k;type=$t\$" "$D/all.out" || missing="$missing $k/$t"
	done
done
[ -z "$missing" ]
report "p11tool --list-all: private key, public key, certificate for each key" $? "$D/all.out"
[ -n "$missing" ] && diag "missing:$missing"

p11 --list-mechanisms pkcs11:token=lurk >"$D/mechs.out" 2>&1
for m in CKM_ECDSA CKM_RSA_PKCS_PSS CKM_EDDSA; do
	grep -q "\] $m " "$D/mechs.out" || break
done
report "p11tool --list-mechanisms: CKM_ECDSA, CKM_RSA_PKCS_PSS, CKM_EDDSA" $? "$D/mechs.out"

p11 --export "pkcs11:token=lurk;object=ec256;type=cert" >"$D/export.pem" 2>"$D/export.err"
a=$(openssl x509 -in "$D/export.pem" -outform DER 2>>"$D/export.err" | sha256sum)
b=$(openssl x509 -in "$D/pki/ec256.pem" -outform DER | sha256sum)
[ "$a" = "$b" ]
report "p11tool --export of ec256's certificate equals the PKI's" $? "$D/export.err"

p11 --list-privkeys --login pkcs11:token=lurk </dev/null >"$D/privs.out" 2>&1
n=$(grep -c "URL: pkcs11:.*type=private" "$D/privs.out")
[ "$n" -eq 6 ]
report "p11tool --list-privkeys --login, no PIN given, lists 6 private keys ($n)" $? "$D/privs.out"

# test_sign KEY [OPTIONS]: p11tool signs "Test data to sign" and verifies it.
test_sign() {
	_k=$1
	shift
	p11 --test-sign "pkcs11:token=lurk;object=$_k;type=private" "$@" >"$D/ts.out" 2>&1 &&
		grep -q "Verifying against public key in the token... ok" "$D/ts.out"
	report "p11tool --test-sign $_k${*:+ $*}" $? "$D/ts.out"
}
test_sign rsa2048
test_sign rsa2048 --sign-params RSA-PSS
test_sign ec256
test_sign ec384
test_sign ed25519 --hash SHA512

# --- pkcs11-tool ---------------------------------------------------------------
ptool -L -O -M >"$D/lom.out" 2>&1
report "pkcs11-tool -L -O -M" $? "$D/lom.out"
ptool -O --type privkey >"$D/privkeys.txt" 2>/dev/null
ptool --login -O --type privkey </dev/null >"$D/login.out" 2>&1 &&
	[ "$(grep -c "^Private Key Object" "$D/login.out")" -eq 6 ] && ! grep -q "enter User PIN" "$D/login.out"
report "pkcs11-tool --login, no PIN given, lists 6 private keys" $? "$D/login.out"

# A PIN-sealed client key before login: the mechanism functions take no
# session and need no login; they give what the token's key types can use.
LURK_PKCS11_CONF=$D/pin.conf ptool -M >"$D/pin-mechs.out" 2>&1 &&
	grep -q "^  ECDSA," "$D/pin-mechs.out" && grep -q "^  RSA-PKCS-PSS," "$D/pin-mechs.out" &&
	grep -q "^  EDDSA," "$D/pin-mechs.out"
report "pkcs11-tool -M with a PIN-sealed key, before login" $? "$D/pin-mechs.out"
LURK_PKCS11_CONF=$D/pin.conf p11 --list-mechanisms pkcs11:token=lurk >"$D/pin-mechs2.out" 2>&1 &&
	grep -q "\] CKM_ECDSA " "$D/pin-mechs2.out"
report "p11tool --list-mechanisms with a PIN-sealed key, before login" $? "$D/pin-mechs2.out"
LURK_PKCS11_CONF=$D/pin.conf LURK_TEST_MODE=pin LURK_TEST_PIN=2468 LURK_TEST_MODULE=$MODULE \
	$LIMIT "${top_builddir:-.}/tests/test-module-p11" >"$D/pin-p11.out" 2>&1
report "PIN-sealed key: every possible mechanism before login, the key's after" $? "$D/pin-p11.out"

# sign NAME KEY MECH IN OUT [pkcs11-tool options]: status of pkcs11-tool
# (NAME, unused, lets refused pass its own arguments on).
sign() {
	_id=$(key_id "$2")
	_sm=$3 _si=$4 _so=$5
	shift 5
	$LIMIT pkcs11-tool --module "${P11_MODULE:-$MODULE}" --sign --id "${_id:-none}" \
		-m "$_sm" -i "$_si" -o "$_so" "$@" >"$D/sign.out" 2>&1
}

# sign_verify NAME KEY MECH IN [pkcs11-tool options] -- VERIFY-CMD...
sign_verify() {
	_n=$1 _k=$2 _m=$3 _in=$4
	shift 4
	_opts=
	while [ "$1" != -- ]; do _opts="$_opts $1"; shift; done
	shift
	rm -f "$D/sig"
	# shellcheck disable=SC2086
	if sign "$_n" "$_k" "$_m" "$_in" "$D/sig" $_opts; then
		"$@" >>"$D/sign.out" 2>&1
		report "$_n" $? "$D/sign.out"
	else
		report "$_n" 1 "$D/sign.out"
	fi
}

# refused NAME KEY MECH IN: pkcs11-tool fails, C_Sign gave CKR_FUNCTION_REJECTED
# (0x200), and lurkd logged a refusal for that key and mechanism.
refused() {
	_before=$(wc -l <"$D/lurkd.log")
	rm -f "$D/rets"
	if [ -n "$SPY" ]; then
		rm -f "$D/spy.log"
		PKCS11SPY=$MODULE PKCS11SPY_OUTPUT=$D/spy.log P11_MODULE=$SPY \
			sign "$@" "$D/sig"
		_rc=$?
		# the return value of each C_Sign* call, one "C_Sign 512" a line
		awk '/^[0-9]+: C_/ { f = $2 } /^Returned:/ { print f, $2 }' "$D/spy.log" >"$D/rets"
		grep -q "^C_Sign\(Final\)\? 512$" "$D/rets"
	else
		sign "$@" "$D/sig"
		_rc=$?
		# without the spy: pkcs11-tool's message, or the module's own line
		grep -q "CKR_FUNCTION_REJECTED\|(0x200)\|refused by usage policy" "$D/sign.out"
	fi
	_rej=$?
	[ "$_rc" -ne 0 ] && [ "$_rej" -eq 0 ]
	report "$1: refused with CKR_FUNCTION_REJECTED" $? "$D/sign.out"
	[ -f "$D/rets" ] && [ "$_rej" -ne 0 ] && diag "returns: $(grep '^C_Sign' "$D/rets" | tr '\n' ' ')"
	tail -n +$((_before + 1)) "$D/lurkd.log" >"$D/log.new"
	grep "refused sign: .* key $2 mechanism CKM_$(echo "$3" | tr - _): not a TLS handshake" \
		"$D/log.new" >/dev/null
	report "$1: lurkd logs the refusal" $? "$D/log.new"
}

head -c 32 /dev/urandom >"$D/h32"
head -c 48 /dev/urandom >"$D/h48"
head -c 100 /dev/urandom >"$D/r100"
digest_info 256 | xxd -r -p >"$D/di"
tls13_content 32 | xxd -r -p >"$D/tls13"

sign_verify "pkcs11-tool ECDSA ec256, 32-byte hash, verified" ec256 ECDSA "$D/h32" \
	--signature-format openssl -- \
	openssl pkeyutl -verify -pubin -inkey "$D/ec256.pub" -in "$D/h32" -sigfile "$D/sig"
sign_verify "pkcs11-tool ECDSA ec384, 48-byte hash, verified" ec384 ECDSA "$D/h48" \
	--signature-format openssl -- \
	openssl pkeyutl -verify -pubin -inkey "$D/ec384.pub" -in "$D/h48" -sigfile "$D/sig"
sign_verify "pkcs11-tool RSA-PKCS rsa2048, SHA-256 DigestInfo, verified" rsa2048 RSA-PKCS "$D/di" -- \
	openssl pkeyutl -verify -pubin -inkey "$D/rsa2048.pub" -in "$D/di" -sigfile "$D/sig"
sign_verify "pkcs11-tool RSA-PKCS-PSS rsa2048, SHA-256, salt 32, verified" rsa2048 RSA-PKCS-PSS "$D/h32" \
	--hash-algorithm SHA256 --mgf MGF1-SHA256 --salt-len 32 -- \
	openssl pkeyutl -verify -pubin -inkey "$D/rsa2048.pub" -in "$D/h32" -sigfile "$D/sig" \
	-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -pkeyopt digest:sha256
sign_verify "pkcs11-tool EDDSA ed25519, TLS 1.3 content, verified" ed25519 EDDSA "$D/tls13" -- \
	openssl pkeyutl -verify -pubin -inkey "$D/ed25519.pub" -rawin -in "$D/tls13" -sigfile "$D/sig"
refused "pkcs11-tool EDDSA ed25519, 100 random bytes" ed25519 EDDSA "$D/r100"
sign_verify "pkcs11-tool ECDSA-SHA256 ec256, TLS 1.3 content, verified" ec256 ECDSA-SHA256 "$D/tls13" \
	--signature-format openssl -- \
	openssl dgst -sha256 -verify "$D/ec256.pub" -signature "$D/sig" "$D/tls13"
refused "pkcs11-tool ECDSA-SHA256 ec256, 100 random bytes" ec256 ECDSA-SHA256 "$D/r100"

# RSA key exchange: a TLS 1.2 premaster secret, encrypted to rsa2048.
{ printf '\003\003'; head -c 46 /dev/urandom; } >"$D/pms"
openssl pkeyutl -encrypt -pubin -inkey "$D/rsa2048.pub" -in "$D/pms" -out "$D/pms.ct"
ptool --decrypt -m RSA-PKCS --id "$(key_id rsa2048)" -i "$D/pms.ct" -o "$D/pms.out" >"$D/dec.out" 2>&1 &&
	cmp "$D/pms" "$D/pms.out" >>"$D/dec.out" 2>&1
report "pkcs11-tool --decrypt RSA-PKCS rsa2048 returns the premaster secret" $? "$D/dec.out"

# --- threads and fork --------------------------------------------------------
for t in ILGISLT0 INGISLT0; do
	wait "$(cat "$D/threads-$t.pid")"
	[ "$(cat "$D/threads-$t.rc")" = 0 ] &&
		grep -q "all threads have ended with CKR_OK" "$D/threads-$t.out"
	report "pkcs11-tool --test-threads $t -L -O" $? "$D/threads-$t.out"
done

if [ "$HAS_FORK" = 1 ]; then
	ptool --test-fork >"$D/fork.out" 2>&1
	report "pkcs11-tool --test-fork" $? "$D/fork.out"
else
	diag "this pkcs11-tool has no --test-fork: that check is left out"
fi

finish

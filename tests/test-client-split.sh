#!/bin/bash
# The client core with a split key (issue 18, docs/split-keys.md "The
# client's side"): two lurkd hold one share each of an Ed25519 and an
# RSA-2048 key; lurk-client -c (the core, as the module and the provider use
# it) lists each once as a signing key, signs with FROST and with the RSA
# partials, and every signature verifies with the original public key. The
# commitment cache makes a signature one FROST_SIGN per server; a restarted
# server's forgotten commitments cost one retry; a server down fails the
# signature within the timeout; the configuration's share rules are enforced.
# The provider signs with the split key through the same core.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D1=$TEST_TMP/s1
D2=$TEST_TMP/s2
trap 'lurkd_stop "$D1"; lurkd_stop "$D2"; rm -rf "$TEST_TMP"' EXIT
plan 31

lurkd_setup "$D1" || {
	echo "Bail out! lurkd_setup failed"
	exit 1
}
mkdir -p "$D2"
ln -s "$D1/pki" "$D2/pki"
"$ADMIN" genkey "$D2/server.key" >"$D2/server.pub"
"$ADMIN" genkey "$D1/c.key" >"$D1/c.pub"
for f in a.key a.pub b.key b.pub c.key c.pub; do cp -p "$D1/$f" "$D2/$f"; done
lurkd_pick_port 2 >"$D2/port"

openssl genpkey -algorithm ed25519 -out "$TEST_TMP/ed.key" 2>/dev/null
openssl pkey -in "$TEST_TMP/ed.key" -pubout -out "$TEST_TMP/ed.pub" 2>/dev/null
openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out "$TEST_TMP/rsa.key" 2>/dev/null
openssl pkey -in "$TEST_TMP/rsa.key" -pubout -out "$TEST_TMP/rsa.pub" 2>/dev/null
"$ADMIN" split "$TEST_TMP/ed.key" "$D1/ed.share" "$D2/ed.share" >/dev/null 2>&1
"$ADMIN" split "$TEST_TMP/rsa.key" "$D1/rsa.share" "$D2/rsa.share" >/dev/null 2>&1
check "two keys split" test -s "$D1/ed.share" -a -s "$D2/rsa.share"

for d in "$D1" "$D2"; do
	lurkd_write_conf "$d" "
[key sed]
share = $d/ed.share

[key srsa]
share = $d/rsa.share

[client c]
public-key = $(cat "$D1/c.pub")
keys = sed srsa ed25519"
done
lurkd_start "$D1" || echo "Bail out! lurkd 1 did not start"
lurkd_start "$D2" || echo "Bail out! lurkd 2 did not start"

# The core's file: a whole-key server (lurkd 1 also holds ed25519 whole) and
# the two share holders.
module_conf() {
	cat >"$TEST_TMP/core.conf" <<EOC
[module]
client-key = $D1/c.key
timeout = ${1:-4000}
connect-timeout = 2000

[server whole]
address = unix:$D1/lurkd.sock
public-key = $(cat "$D1/server.pub")

[server owner]
address = unix:$D1/lurkd.sock
public-key = $(cat "$D1/server.pub")
share = 1

[server cdn]
address = tcp:127.0.0.1:$(cat "$D2/port")
public-key = $(cat "$D2/server.pub")
share = 2
EOC
}
module_conf
core() {
	"$LURK_CLIENT" -c "$TEST_TMP/core.conf" "$@"
}
hex2bin() {
	tr a-f A-F | tr -d '\n' | basenc --base16 -d
}
# verify PUB HEXMSG HEXSIG [pkeyutl options]
verify() {
	_p=$1 _m=$2 _s=$3
	shift 3
	echo "$_m" | hex2bin >"$TEST_TMP/m.bin"
	echo "$_s" | hex2bin >"$TEST_TMP/s.bin"
	openssl pkeyutl -verify -pubin -inkey "$_p" "$@" -in "$TEST_TMP/m.bin" \
		-sigfile "$TEST_TMP/s.bin" >/dev/null 2>&1
}

core list >"$TEST_TMP/list" 2>"$TEST_TMP/list.err"
check "the core lists the split Ed25519 key once, as a signing key (SIGN|SHARE1|SHARE2)" \
	test "$(grep -c '^sed type=3 bits=255 flags=0x19 ' "$TEST_TMP/list")" = 1
check "... and the split RSA key, with its two mechanisms" \
	test "$(grep -c '^srsa type=1 bits=2048 flags=0x19 mechs=2 ' "$TEST_TMP/list")" = 1
check "... beside the whole key" grep -q '^ed25519 type=3 .*flags=0x1 ' "$TEST_TMP/list"

msg=$(tls13_content 32)
sig=$(core sign sed eddsa "$msg" 2>"$TEST_TMP/e1")
check "a FROST signature through the core" test -n "$sig"
check "openssl verifies it with the original Ed25519 key" verify "$TEST_TMP/ed.pub" "$msg" "$sig" -rawin
c1=$(grep -c '"op":"frost-commit"' "$D1/audit.log")
s1=$(grep -c '"op":"frost-sign".*"verdict":"allowed"' "$D1/audit.log")
s2=$(grep -c '"op":"frost-sign".*"verdict":"allowed"' "$D2/audit.log")
check "both servers' audit logs have the frost-sign ($s1, $s2)" test "$s1" = 1 -a "$s2" = 1

# Each process starts with no commitment: one FROST_COMMIT per server, then
# in one process every signature is one FROST_SIGN per server. lurk-client
# is one process per signature, so count the commits it makes: one each.
for i in 1 2 3; do core sign sed eddsa "$(tls13_content 48)" >/dev/null 2>&1; done
c1b=$(grep -c '"op":"frost-commit"' "$D1/audit.log")
check "one FROST_COMMIT per process and server ($c1 then $c1b)" test "$c1" = 1 -a "$c1b" = 4

jwt=$(printf 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0' | od -An -tx1 | tr -d ' \n')
check_fails "a JWT is not signed: the servers' policy refuses it" \
	sh -c "\"$LURK_CLIENT\" -c \"$TEST_TMP/core.conf\" sign sed eddsa $jwt 2>\"$TEST_TMP/jwt.err\""
check "the refusal names the server and share" \
	grep -q "lurkd refused frost-sign (share [12], server [a-z]*) with key sed" "$TEST_TMP/jwt.err"

di=$(digest_info 256)
sig=$(core sign srsa rsa-pkcs "$di" 2>"$TEST_TMP/e2")
check "an RSA PKCS#1 v1.5 signature combined from the two partials" test -n "$sig"
openssl pkey -in "$TEST_TMP/rsa.key" -pubout >/dev/null 2>&1
echo "$di" | hex2bin >"$TEST_TMP/di.bin"
openssl pkeyutl -sign -inkey "$TEST_TMP/rsa.key" -in "$TEST_TMP/di.bin" \
	-pkeyopt rsa_padding_mode:pkcs1 2>/dev/null | od -An -tx1 | tr -d ' \n' >"$TEST_TMP/ossl.hex"
check "it is byte for byte OpenSSL's signature with the whole key" \
	test "$sig" = "$(cat "$TEST_TMP/ossl.hex")"
h=$(head -c 50 /dev/urandom | sha256sum | cut -c1-64)
sig=$(core sign srsa rsa-pss "$h" 2>"$TEST_TMP/e3")
check "an RSA-PSS signature (the core's encoding, checked by both servers)" \
	verify "$TEST_TMP/rsa.pub" "$h" "$sig" -pkeyopt rsa_padding_mode:pss \
	-pkeyopt rsa_pss_saltlen:32 -pkeyopt digest:sha256
p1=$(grep -c '"op":"rsa-partial".*"verdict":"allowed"' "$D1/audit.log")
p2=$(grep -c '"op":"rsa-partial".*"verdict":"allowed"' "$D2/audit.log")
check "both audit logs have the rsa-partials ($p1, $p2)" test "$p1" = 2 -a "$p2" = 2
check_fails "a SHA-1 DigestInfo is refused" core sign srsa rsa-pkcs "3021300906052b0e03021a05000414$(rand_hex 20)"
check_fails "decryption with a split key is not offered" core decrypt srsa "$(rand_hex 256)"

# The OpenSSL provider signs through the same core: a lurk: URI names the
# split key (its public key is the original's), and openssl pkeyutl signs
# with it.
. "${top_srcdir:-.}/tests/provider-lib.sh"
prov_openssl_cnf "$TEST_TMP/openssl.cnf"
openssl_conf = openssl_init
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
URI="lurk:sed?config=$TEST_TMP/core.conf"
check "the provider opens lurk:sed: the original Ed25519 public key" sh -c \
	"OPENSSL_CONF='$TEST_TMP/openssl.cnf' $TOOL_ENV openssl pkey -in '$URI' -pubout | cmp -s - '$TEST_TMP/ed.pub'"
msg=$(tls13_content 32)
echo "$msg" | hex2bin >"$TEST_TMP/cv.bin"
OPENSSL_CONF=$TEST_TMP/openssl.cnf $TOOL_ENV openssl pkeyutl -sign -rawin -inkey "$URI" \
	-in "$TEST_TMP/cv.bin" -out "$TEST_TMP/cv.sig" 2>"$TEST_TMP/pkeyutl.err"
check "openssl pkeyutl signs with it through the provider; the signature verifies" \
	plain_openssl pkeyutl -verify -pubin -inkey "$TEST_TMP/ed.pub" -rawin -in "$TEST_TMP/cv.bin" \
	-sigfile "$TEST_TMP/cv.sig"

# In one process the second signature uses a cached commitment: one
# FROST_COMMIT per server for two signatures, each one FROST_SIGN per server.
for d in "$D1" "$D2"; do grep -c '"op":"frost-commit"' "$d/audit.log" >"$d/c0"; done
core sign2 sed eddsa "$(tls13_content 32)" "$(tls13_content 32)" >"$TEST_TMP/cache.out" 2>&1
c1=$(($(grep -c '"op":"frost-commit"' "$D1/audit.log") - $(cat "$D1/c0")))
c2=$(($(grep -c '"op":"frost-commit"' "$D2/audit.log") - $(cat "$D2/c0")))
check "two signatures in one process: one FROST_COMMIT per server ($c1, $c2), both signed" \
	sh -c "test $c1 = 1 -a $c2 = 1 && grep -q '^sig2 [0-9a-f]\{128\}' '$TEST_TMP/cache.out'"

# A restart of server 2 loses its commitments: in one process (sign twice
# with a restart between), the second signature retries once and succeeds.
LURK_CLIENT_HOLD_FILE=$TEST_TMP/go
export LURK_CLIENT_HOLD_FILE
msg=$(tls13_content 32)
msg2=$(tls13_content 32)
LURK_CLIENT_LOG=info core sign2 sed eddsa "$msg" "$msg2" >"$TEST_TMP/two.out" 2>"$TEST_TMP/two.err" &
cpid=$!
for i in $(seq 1 600); do grep -q '^held' "$TEST_TMP/two.out" 2>/dev/null && break; kill -0 $cpid 2>/dev/null || break; sleep 0.05; done
lurkd_stop "$D2"
lurkd_start "$D2" || echo "Bail out! lurkd 2 did not restart"
touch "$TEST_TMP/go"
wait $cpid
rc=$?
unset LURK_CLIENT_HOLD_FILE
sig2=$(sed -n 's/^sig2 //p' "$TEST_TMP/two.out")
check "after server 2 restarted, the next signature in the same process succeeds ($rc)" \
	verify "$TEST_TMP/ed.pub" "$msg2" "$sig2" -rawin
check "... after one retry with fresh commitments" \
	grep -q "no longer knows our commitment" "$TEST_TMP/two.err"

# One server down: no signature, within the timeout, and no fallback.
lurkd_stop "$D2"
module_conf 3000
t0=$(date +%s)
check_fails "server 2 stopped: the Ed25519 signature fails" core sign sed eddsa "$(tls13_content 32)"
check_fails "... and the RSA one" core sign srsa rsa-pkcs "$(digest_info 256)"
t1=$(date +%s)
check "both failed within the timeout (3 s each, $((t1 - t0)) s for both, bound 16 s)" test $((t1 - t0)) -le 16
check "the whole key still signs with server 2 down" \
	sh -c "test -n \"\$(\"$LURK_CLIENT\" -c \"$TEST_TMP/core.conf\" sign ed25519 eddsa $(tls13_content 32) 2>/dev/null)\""

# The configuration's rules.
bad_conf() {
	sed "$1" "$TEST_TMP/core.conf" >"$TEST_TMP/bad.conf"
	"$LURK_CLIENT" -c "$TEST_TMP/bad.conf" list >"$TEST_TMP/bad.out" 2>&1
}
check_fails "two servers with share = 2 are refused (no replicas of a share)" \
	bad_conf 's/^share = 1/share = 2/'
check "... saying why" grep -q 'both have share = 2: a share is held by one server' "$TEST_TMP/bad.out"
check_fails "share = 1 without share = 2 is refused" bad_conf '/^share = 2/d'
check "... saying why" grep -q 'has share = 1 but no server has share = 2' "$TEST_TMP/bad.out"
check_fails "share = 3 is refused" bad_conf 's/^share = 2/share = 3/'
check "... saying why" grep -q 'share must be 1 or 2' "$TEST_TMP/bad.out"
lurkd_stop "$D1"
finish

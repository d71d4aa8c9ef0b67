#!/bin/bash
# Two lurkd, each with one share of an Ed25519 key (issue 18,
# docs/split-keys.md "What lurkd serves"): the key is listed at each as its
# share, with the whole public key; tests/split-client commits and signs at
# both over a TLS 1.3 CertificateVerify input, and the aggregate verifies
# with openssl against the original public key; both audit logs show the
# ops. One server's z alone does not verify; a reused, an unknown and a
# spent handle are refused; a list whose own entry is another commitment is
# refused; a JWT is refused by the policy; a plain SIGN and DECRYPT on a
# share are refused; lurkd.conf refuses a share with rsa-decrypt, with a
# source too, and a group-readable share file.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
SPLIT_CLIENT="${top_builddir:-.}/tests/split-client"
make_tmpdir
D1=$TEST_TMP/s1
D2=$TEST_TMP/s2
PRIVSEP=0
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then PRIVSEP=1; fi
plan $((49 + PRIVSEP))

lurkd_setup "$D1" || {
	echo "Bail out! lurkd_setup failed"
	exit 1
}
# Server 2: its own Noise key and port, the same PKI files and clients.
mkdir -p "$D2"
ln -s "$D1/pki" "$D2/pki"
"$ADMIN" genkey "$D2/server.key" >"$D2/server.pub"
"$ADMIN" genkey "$D1/c.key" >"$D1/c.pub"
for f in a.key a.pub b.key b.pub c.key c.pub; do cp -p "$D1/$f" "$D2/$f"; done
lurkd_pick_port 2 >"$D2/port"

# A key of its own: lurkd refuses two entries of one key (checked at the end).
openssl genpkey -algorithm ed25519 -out "$TEST_TMP/split.key" 2>/dev/null
"$ADMIN" split "$TEST_TMP/split.key" "$D1/split.share" "$D2/split.share" >/dev/null 2>&1
check "lurk-admin split wrote share 1 and share 2" test -s "$D1/split.share" -a -s "$D2/split.share"
openssl pkey -in "$TEST_TMP/split.key" -pubout -out "$TEST_TMP/pub.pem" 2>/dev/null
openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out "$TEST_TMP/rsplit.key" 2>/dev/null
"$ADMIN" split "$TEST_TMP/rsplit.key" "$D1/rsplit.share" "$D2/rsplit.share" >/dev/null 2>&1
check "... and of an RSA-2048 key" test -s "$D1/rsplit.share" -a -s "$D2/rsplit.share"
openssl pkey -in "$TEST_TMP/rsplit.key" -pubout -out "$TEST_TMP/rpub.pem" 2>/dev/null

split_conf() {
	# $1 dir, $2 extra lines in [key split]
	lurkd_write_conf "$1" "
[key split]
share = $1/split.share
tls-versions = 1.3
$2

[key rsplit]
share = $1/rsplit.share

[client c]
public-key = $(cat "$D1/c.pub")
keys = split rsplit ed25519"
}
split_conf "$D1" ""
split_conf "$D2" ""
# Server 1 serves metrics: the split-key ops are counted under their own operations.
MPORT=$(lurkd_pick_port 3)
sed -i "/^workers = 2/a metrics-listen = tcp:127.0.0.1:$MPORT" "$D1/lurkd.conf"
# Server 2 is privilege separated when the test runs as root (CI does): the
# root parent reads the share files and hands them to the serving process.
if [ "$PRIVSEP" = 1 ]; then
	sed -i "s/^workers = 2$/workers = 2\nuser = nobody/" "$D2/lurkd.conf"
	chmod 711 "$TEST_TMP" # nobody may pass through to s2 (its files stay root-owned 0600)
else
	diag "not root: lurkd 2 runs without privilege separation"
fi
lurkd_start "$D1" || echo "Bail out! lurkd 1 did not start"
lurkd_start "$D2" || echo "Bail out! lurkd 2 did not start"
if [ "$PRIVSEP" = 1 ]; then
	check "lurkd 2 serves as nobody, its shares read by the root parent" \
		grep -q "serving as user nobody" "$D2/lurkd.log"
fi

# LIST: the share, flags SHARE1 (0x08) or SHARE2 (0x10), type 3 (Ed25519), one mechanism, no chain.
lc "$D1" c list >"$TEST_TMP/list1" 2>&1
lc "$D2" c list >"$TEST_TMP/list2" 2>&1
check "lurkd 1 lists the key as share 1, without SIGN" \
	grep -q "^split type=3 bits=255 flags=0x8 mechs=1 certs=0 " "$TEST_TMP/list1"
check "lurkd 2 lists the key as share 2, without SIGN" \
	grep -q "^split type=3 bits=255 flags=0x10 mechs=1 certs=0 " "$TEST_TMP/list2"
id1=$(sed -n 's/^split .* id=//p' "$TEST_TMP/list1")
id2=$(sed -n 's/^split .* id=//p' "$TEST_TMP/list2")
id0=$(openssl pkey -pubin -in "$TEST_TMP/pub.pem" -outform DER | sha256sum | cut -c1-40)
check "both list the key under one id" test -n "$id1" -a "$id1" = "$id2"
# The whole key's SPKI: the id is its hash, as for any key (CKA_ID).
check "the id is the whole public key's, as for an unsplit key" test "$id1" = "$id0"

sc() {
	"$SPLIT_CLIENT" "unix:$D1/lurkd.sock" "$(cat "$D1/server.pub")" \
		"unix:$D2/lurkd.sock" "$(cat "$D2/server.pub")" "$D1/c.key" "$@"
}
hex2bin() {
	tr a-f A-F | tr -d '\n' | basenc --base16 -d
}
# verify HEXMSG HEXSIG: openssl's Ed25519 verify with the original public key.
verify() {
	echo "$1" | hex2bin >"$TEST_TMP/m.bin"
	echo "$2" | hex2bin >"$TEST_TMP/s.bin"
	openssl pkeyutl -verify -pubin -inkey "$TEST_TMP/pub.pem" -rawin \
		-in "$TEST_TMP/m.bin" -sigfile "$TEST_TMP/s.bin" >/dev/null 2>&1
}

msg=$(tls13_content 32)
if sc sign split "$msg" >"$TEST_TMP/sign.out" 2>"$TEST_TMP/sign.err"; then
	ok "a FROST signature over a TLS 1.3 CertificateVerify input, from both servers"
else
	not_ok "a FROST signature over a TLS 1.3 CertificateVerify input, from both servers"
	sed 's/^/# /' "$TEST_TMP/sign.err"
fi
sig=$(sed -n 's/^sig //p' "$TEST_TMP/sign.out")
alone=$(sed -n 's/^alone //p' "$TEST_TMP/sign.out")
check "openssl verifies it with the original public key" verify "$msg" "$sig"
check_fails "server 1's z alone does not verify" eval 'test -z "$alone" || verify "$msg" "$alone"'
check_fails "nor the signature for another message" eval 'test -z "$sig" || verify "$(tls13_content 32)" "$sig"' 
msg48=$(tls13_content 48)
sc sign split "$msg48" >"$TEST_TMP/sign48.out" 2>&1
check "a SHA-384 transcript hash (146-byte content) signs and verifies" \
	verify "$msg48" "$(sed -n 's/^sig //p' "$TEST_TMP/sign48.out")"

for d in "$D1" "$D2"; do
	n=$(grep '"op":"frost-sign"' "$d/audit.log" | grep -c '"verdict":"allowed"')
	c=$(grep '"op":"frost-commit"' "$d/audit.log" | grep -c '"verdict":"allowed"')
	check "$(basename "$d")'s audit log has both frost-sign and frost-commit records" \
		test "$n" -ge 2 -a "$c" -ge 2
done

curl -sS --max-time 10 -f "http://127.0.0.1:$MPORT/metrics" -o "$TEST_TMP/metrics" 2>/dev/null
# mcount FILE KEY OP MECH VERDICT: that lurkd_operations_total sample, or 0 when absent.
mcount() {
	_v=$(sed -n "s/^lurkd_operations_total{key=\"$2\",client=\"c\",operation=\"$3\",mechanism=\"$4\",verdict=\"$5\"} //p" "$1")
	echo "${_v:-0}"
}
# Two signatures and their two FROST_COMMITs at server 1, each under its own operation.
n=$(mcount "$TEST_TMP/metrics" split frost-sign CKM_EDDSA allowed)
check "lurkd 1's metrics count the two FROST_SIGNs as operation=frost-sign (2: $n)" test "$n" = 2
n=$(mcount "$TEST_TMP/metrics" split frost-commit CKM_EDDSA allowed)
check "... and the two FROST_COMMITs as operation=frost-commit (2: $n)" test "$n" = 2
n=$(mcount "$TEST_TMP/metrics" split sign CKM_EDDSA allowed)
check "... and none of them as operation=sign (0: $n)" test "$n" = 0
check "... with a frost-sign latency histogram for the share (count 2)" \
	grep -q '^lurkd_operation_duration_seconds_count{key="split",operation="frost-sign"} 2$' \
	"$TEST_TMP/metrics"
check "... and no split-key histogram for a key that made none" eval \
	'! grep -q "^lurkd_operation_duration_seconds_count{key=\"ed25519\",operation=\"frost-" "$TEST_TMP/metrics"'

# A reload keeps the commitment table: commitments issued before it still sign.
rm -f "$TEST_TMP/go"
msg=$(tls13_content 32)
sc held "$TEST_TMP/go" split "$msg" >"$TEST_TMP/held.out" 2>&1 &
held_pid=$!
for _i in $(seq 1 3000); do grep -q committed "$TEST_TMP/held.out" && break; sleep 0.02; done
lurkd_reload "$D1"
lurkd_reload "$D2"
touch "$TEST_TMP/go"
wait "$held_pid"
check "commitments issued before a reload of both servers still sign after it" \
	verify "$msg" "$(sed -n 's/^sig //p' "$TEST_TMP/held.out")"
check "... after a real reload" grep -q "configuration reloaded" "$D1/lurkd.log"

# refused NAME WANT CMD...: CMD exits 0 (the driver saw the refusal) and prints WANT.
refused() {
	_n=$1
	_w=$2
	shift 2
	if "$@" >"$TEST_TMP/r.out" 2>&1 && grep -q "$_w" "$TEST_TMP/r.out"; then
		ok "$_n"
	else
		not_ok "$_n"
		sed 's/^/# /' "$TEST_TMP/r.out"
	fi
}
refused "a reused handle is refused as unknown (NOT_FOUND, reason 1)" \
	"refused no such key 1: unknown or used commitment handle" sc reuse split "$(tls13_content 32)"
refused "a handle never issued is refused" \
	"refused no such key 1: unknown or used commitment handle" sc unknown split "$(tls13_content 32)"
refused "a list whose own entry is another commitment is refused" \
	"is not its commitment" sc foreign split "$(tls13_content 32)"
check "... and spent the handle" grep -q "refused no such key 1" "$TEST_TMP/r.out"
refused "a list with an invalid point (the identity as the other signer's E) is refused" \
	"invalid commitment point" sc badpoint split "$(tls13_content 32)"
check "the audit log names the reasons" \
	grep -q '"op":"frost-sign".*"verdict":"refused".*unknown or used commitment handle' \
	"$D1/audit.log"

curl -sS --max-time 10 -f "http://127.0.0.1:$MPORT/metrics" -o "$TEST_TMP/metrics2" 2>/dev/null
check "spent and unknown handles count as refused operations, not as 'no such key'" eval \
	'grep -q "^lurkd_refusals_total{reason=\"no_such_key\"} 0$" "$TEST_TMP/metrics2" &&
	grep -qE "^lurkd_operations_total\{key=\"split\",client=\"c\",operation=\"frost-sign\",mechanism=\"CKM_EDDSA\",verdict=\"refused\"\} [1-9]" "$TEST_TMP/metrics2"'

jwt=$(printf 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0' | od -An -tx1 | tr -d ' \n')
sc sign split "$jwt" >"$TEST_TMP/jwt.out" 2>&1
rc=$?
check "a JWT is refused by the policy: no signature" \
	test "$rc" = 2 -a -z "$(sed -n 's/^sig //p' "$TEST_TMP/jwt.out")"
check "... the answer is a POLICY refusal" grep -q "sign at server 1: refused by usage policy" "$TEST_TMP/jwt.out"
check "... in the audit log" grep -q '"op":"frost-sign".*"verdict":"refused".*TLS' "$D1/audit.log"
sc sign split "$(rand_hex 64)" >/dev/null 2>&1
check "64 random bytes (not TLS 1.3 content; key limited to TLS 1.3) are refused" test $? = 2

# RSA: RSA_PARTIAL at both, combined by split-client (lurk_rsa_combine), verified by openssl.
check "lurkd 2 lists the RSA share as share 2 (RSA, 2048 bits, PKCS#1 and PSS)" \
	grep -q "^rsplit type=1 bits=2048 flags=0x10 mechs=2 certs=0 " "$TEST_TMP/list2"
di=$(digest_info 256)
sc rsa-pkcs1 rsplit "$di" >"$TEST_TMP/rsa.out" 2>&1
# rverify HASHHEX SIGHEX [pkeyopt...]: openssl verifies with the original RSA public key.
rverify() {
	echo "$1" | hex2bin >"$TEST_TMP/h.bin"
	echo "$2" | hex2bin >"$TEST_TMP/rs.bin"
	_h=$1
	_s=$2
	shift 2
	test -n "$_h" -a -n "$_s" && openssl pkeyutl -verify -pubin -inkey "$TEST_TMP/rpub.pem" \
		-in "$TEST_TMP/h.bin" -sigfile "$TEST_TMP/rs.bin" -pkeyopt digest:sha256 "$@" \
		>/dev/null 2>&1
}
check "a PKCS#1 v1.5 signature from the two partials verifies in openssl" \
	rverify "${di: -64}" "$(sed -n 's/^sig //p' "$TEST_TMP/rsa.out")"
check_fails "server 1's partial alone does not" \
	rverify "${di: -64}" "$(sed -n 's/^alone //p' "$TEST_TMP/rsa.out")"
mh=$(rand_hex 32)
sc rsa-pss rsplit "$mh" >"$TEST_TMP/pss.out" 2>&1
check "a PSS signature (the client's encoding, checked by both servers) verifies" \
	rverify "$mh" "$(sed -n 's/^sig //p' "$TEST_TMP/pss.out")" \
	-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32
refused "a PSS encoding of another hash is refused" \
	"refused protocol error 0: the encoded message is not EMSA-PSS of the hash" \
	sc rsa-pss-other rsplit "$(rand_hex 32)"
sha1di="3021300906052b0e03021a05000414$(rand_hex 20)"
sc rsa-pkcs1 rsplit "$sha1di" >"$TEST_TMP/sha1.out" 2>&1
check "a SHA-1 DigestInfo is refused by the policy" \
	grep -q "partial at server 1: refused by usage policy" "$TEST_TMP/sha1.out"
check "the audit logs have the rsa-partial records" eval \
	'grep -q "\"op\":\"rsa-partial\".*\"verdict\":\"allowed\"" "$D1/audit.log" &&
	grep -q "\"op\":\"rsa-partial\".*\"verdict\":\"allowed\"" "$D2/audit.log"'
curl -sS --max-time 10 -f "http://127.0.0.1:$MPORT/metrics" -o "$TEST_TMP/metrics3" 2>/dev/null
n=$(mcount "$TEST_TMP/metrics3" rsplit rsa-partial CKM_RSA_PKCS allowed)
check "lurkd 1 counts the PKCS#1 v1.5 RSA_PARTIAL as operation=rsa-partial (1: $n)" test "$n" = 1
n=$(mcount "$TEST_TMP/metrics3" rsplit rsa-partial CKM_RSA_PKCS_PSS allowed)
check "... and the PSS one (1: $n)" test "$n" = 1
n=$(mcount "$TEST_TMP/metrics3" rsplit rsa-partial CKM_RSA_PKCS refused)
check "... and the SHA-1 DigestInfo as a refused rsa-partial (1: $n)" test "$n" = 1
lc "$D1" c sign rsplit rsa-pkcs "$(digest_info 256)" >"$TEST_TMP/rplain.out" 2>&1
check "a plain SIGN on an RSA share is refused" grep -q "never signs alone" "$TEST_TMP/rplain.out"

lc "$D1" c sign split eddsa "$msg" >"$TEST_TMP/plain.out" 2>&1
rc=$?
check "a plain SIGN on a share is refused" test "$rc" = 2
check "... saying a share never signs alone" grep -q "never signs alone" "$TEST_TMP/plain.out"
lc "$D1" c sign ed25519 eddsa "$msg" >/dev/null 2>&1
check "the unsplit key beside it still signs" test $? = 0

lurkd_stop "$D1"
lurkd_stop "$D2"

# Configuration refusals, through lurkd --check-config.
conf_refused() {
	# $1 name, $2 expected text
	if "$LURKD" --check-config "$D1/lurkd.conf" >"$TEST_TMP/t.out" 2>&1; then
		not_ok "$1"
	elif grep -q "$2" "$TEST_TMP/t.out"; then
		ok "$1"
	else
		not_ok "$1"
		sed 's/^/# /' "$TEST_TMP/t.out"
	fi
}
split_conf "$D1" "rsa-decrypt = yes"
conf_refused "rsa-decrypt = yes on a share is refused" "a share takes no password-file, chain or rsa-decrypt"
split_conf "$D1" "source = $D1/pki/ed25519.key"
conf_refused "a key with both source and share is refused" "has both 'source' and 'share'"
# A share of a key lurkd also has whole (the lib's [key ed25519]): one key twice.
"$ADMIN" split "$D1/pki/ed25519.key" "$D1/dup.share" "$TEST_TMP/dup2.share" >/dev/null 2>&1
split_conf "$D1" ""
sed -i "s|^share = .*|share = $D1/dup.share|" "$D1/lurkd.conf"
conf_refused "a share of a key also configured whole is refused" "is the same key as 'ed25519'"
split_conf "$D1" ""
chmod 640 "$D1/split.share"
conf_refused "a group-readable share file is refused" "cannot read share"
finish

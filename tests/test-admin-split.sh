#!/bin/bash
# lurk-admin split and split-check (issue 18, docs/split-keys.md "Share
# files"): an Ed25519 and an RSA-2048 key split into two 0600 share files
# that sign together and belong to their certificate; shares of another
# key, of another split, two copies of share 1, a changed secret byte,
# truncated, extended or overlong files are refused with a reason; an ECDSA
# key is refused as out of scope; nothing is overwritten without -f.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-pki.sh"
ADMIN="${top_builddir:-.}/lurk-admin"
make_tmpdir
D=$TEST_TMP
P=$D/pki
plan 30

make_pki "$P" || {
	echo "Bail out! make_pki failed"
	exit 1
}

# split_ok NAME KEY OUT1 OUT2: split succeeds and prints the guidance.
split_ok() {
	if "$ADMIN" split "$2" "$3" "$4" >"$D/out" 2>"$D/err" && grep -q "shred -u $2" "$D/out" &&
		grep -q "held the whole key" "$D/out"; then
		ok "$1"
	else
		not_ok "$1"
		sed 's/^/# /' "$D/out" "$D/err"
	fi
}
split_ok "an Ed25519 key (PKCS#8) is split" "$P/ed25519.key" "$D/e1" "$D/e2"
split_ok "an RSA-2048 key (PKCS#8) is split" "$P/rsa2048.key" "$D/r1" "$D/r2"
openssl pkey -passin pass: -in "$P/rsa2048.key" -traditional -out "$D/rsa2048-pkcs1.key"
check "openssl wrote a PKCS#1 key" grep -q "BEGIN RSA PRIVATE KEY" "$D/rsa2048-pkcs1.key"
split_ok "the same RSA key in PKCS#1 is split again" "$D/rsa2048-pkcs1.key" "$D/q1" "$D/q2"
modes=$(stat -c %a "$D/e1" "$D/e2" "$D/r1" "$D/r2" | sort -u)
check "share files have mode 0600" test "$modes" = 600

# checked NAME WANT-EXIT REASON ARGS...: split-check exits WANT-EXIT, saying REASON.
checked() {
	_name=$1 _want=$2 _why=$3
	shift 3
	"$ADMIN" split-check "$@" >"$D/out" 2>"$D/err"
	_rc=$?
	if [ $_rc -eq "$_want" ] && grep -q -- "$_why" "$D/out" "$D/err"; then
		ok "$_name"
	else
		not_ok "$_name (exit $_rc)"
		sed 's/^/# /' "$D/out" "$D/err"
	fi
}
checked "Ed25519 shares and their certificate check" 0 "^ok: .*Ed25519.*certificate" \
	"$D/e1" "$D/e2" "$P/ed25519.pem"
checked "RSA shares, either order, and a chain whose first certificate is theirs" 0 \
	"^ok: $D/r1 and $D/r2 are shares 1 and 2 of one RSA key" "$D/r2" "$D/r1" "$P/rsa2048-chain.pem"
openssl x509 -in "$P/rsa2048.pem" -outform DER -out "$D/rsa2048.der"
checked "a DER certificate is read" 0 "^ok: " "$D/q1" "$D/q2" "$D/rsa2048.der"
checked "Ed25519 shares fail with another key's certificate" 1 "not the shares' key" \
	"$D/e1" "$D/e2" "$P/rsa2048.pem"
checked "RSA shares fail with another RSA key's certificate" 1 "not the shares' key" \
	"$D/r1" "$D/r2" "$P/rsa3072.pem"
checked "RSA shares of two splits of one key do not combine" 1 "do not make a signature" \
	"$D/r1" "$D/q2"
"$ADMIN" split "$P/ed25519.key" "$D/f1" "$D/f2" >/dev/null
checked "Ed25519 shares of two splits of one key are refused" 1 "different splits" \
	"$D/e1" "$D/f2"
cp -p "$D/e1" "$D/e1copy"
checked "two copies of share 1 are refused" 1 "both files are share 1" "$D/e1" "$D/e1copy"
checked "shares of two keys are refused" 1 "different keys" "$D/e1" "$D/r2"

# body FILE: the decoded text of a share file. rewrap OUT: the PEM of stdin.
body() {
	sed '1d;$d' "$1" | base64 -d
}
rewrap() {
	{
		echo "-----BEGIN LURK KEY SHARE-----"
		base64 -w 64
		echo "-----END LURK KEY SHARE-----"
	} >"$1"
	chmod 600 "$1"
}
# One base64 character of the secret changed (the 5th: inside, no padding bits).
flip='/^share /{c=substr($2,5,1); $2=substr($2,1,4) (c=="A"?"B":"A") substr($2,6)} {print}'
body "$D/e2" | awk "$flip" | rewrap "$D/e2x"
checked "an Ed25519 share with a changed secret byte fails" 1 "does not match its public share" \
	"$D/e1" "$D/e2x"
body "$D/r1" | awk "$flip" | rewrap "$D/r1x"
checked "an RSA share with a changed secret byte fails" 1 "do not make a signature" \
	"$D/r1x" "$D/r2"
body "$D/e1" | rewrap "$D/e1same"
checked "the test's re-encoding alone is accepted" 0 "^ok: " "$D/e1same" "$D/e2"

head -n 3 "$D/e1" >"$D/e1t"
chmod 600 "$D/e1t"
checked "a truncated file is refused" 1 "truncated" "$D/e1t" "$D/e2"
{
	body "$D/e1"
	echo "extra 1"
} | rewrap "$D/e1e"
checked "a file with an extra line is refused" 1 "nothing may follow the share line" \
	"$D/e1e" "$D/e2"
{ sed -n 1p "$D/e1" && sed '1d;$d' "$D/e1" | tr -d '\n' && echo && sed -n '$p' "$D/e1"; } >"$D/e1w"
chmod 600 "$D/e1w"
checked "a PEM line over 64 characters is refused" 1 "longer than 64" "$D/e1w" "$D/e2"
body "$D/r1" | sed "s/^share .*/share $(head -c 1600 /dev/zero | tr '\0' A)/" | rewrap "$D/r1l"
checked "an overlong body line is refused" 1 "longer than its longest" "$D/r1l" "$D/r2"
body "$D/e1" | sed 's/^index 1$/index 3/' | rewrap "$D/e1i"
checked "an index other than 1 or 2 is refused" 1 "'index 1' or 'index 2'" "$D/e1i" "$D/e2"
cp -p "$D/e1" "$D/e1g"
chmod 640 "$D/e1g"
checked "a share file readable by its group is refused" 1 "chmod 600" "$D/e1g" "$D/e2"

"$ADMIN" split "$P/ec256.key" "$D/c1" "$D/c2" >"$D/out" 2>"$D/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "two-party ECDSA is out of scope" "$D/err" && [ ! -e "$D/c1" ] &&
	[ ! -e "$D/c2" ]; then
	ok "an ECDSA key is refused as out of scope, writing nothing"
else
	not_ok "an ECDSA key is refused as out of scope, writing nothing (exit $rc)"
	sed 's/^/# /' "$D/err"
fi

cp -p "$D/r1" "$D/r1.before"
"$ADMIN" split "$P/ed25519.key" "$D/new1" "$D/r1" >"$D/out" 2>"$D/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "file exists (use -f" "$D/err" && cmp -s "$D/r1" "$D/r1.before" &&
	[ ! -e "$D/new1" ]; then
	ok "an existing share file is not overwritten without -f, and nothing is written"
else
	not_ok "an existing share file is not overwritten without -f (exit $rc)"
	sed 's/^/# /' "$D/err"
fi
"$ADMIN" split -f "$P/ed25519.key" "$D/new1" "$D/r1" >"$D/out"
check "with -f it is replaced" test $? -eq 0
checked "and the replacement checks" 0 "^ok: .*Ed25519" "$D/new1" "$D/r1" "$P/ed25519.pem"
check_fails "a key that is no private key is refused" "$ADMIN" split "$P/ed25519.pem" \
	"$D/x1" "$D/x2"
"$ADMIN" split-check "$D/e1" >"$D/out" 2>"$D/err"
check "split-check with one share is a usage error (exit 2)" test $? -eq 2
check "--help lists split and split-check" sh -c \
	"'$ADMIN' --help | grep -q 'lurk-admin split \[-f\]' && '$ADMIN' --help | grep -q 'split-check SHARE1'"
finish

#!/bin/bash
# lurkd key sources: PKCS#1, SEC1, encrypted PKCS#8 (password file) and
# Ed448 PEM keys; RSA under 2048 bits refused; and the daemon's hardening
# (no core dumps, not dumpable, privilege drop to a configured user).
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
n=17
[ -n "${LURK_TOOL_PRELOAD:-}" ] && n=16 # sanitizer builds: no mlock check (below)
plan $n

lurkd_setup "$D" || exit 1

# cert_for NAME: a leaf certificate and chain for DIR/NAME.key's public key.
cert_for() {
	openssl pkey -in "$D/$1.key" -pubout -out "$D/$1.pub.pem" -passin pass:s3cret 2>/dev/null
	printf 'cn = "%s.lurk.test"\nexpiration_days = 30\ntls_www_server\nsigning_key\n' "$1" \
		>"$D/$1.tmpl"
	certtool --generate-certificate --load-pubkey "$D/$1.pub.pem" \
		--load-ca-certificate "$D/pki/int.pem" --load-ca-privkey "$D/pki/int.key" \
		--template "$D/$1.tmpl" --outfile "$D/$1.pem" >/dev/null 2>&1
	cat "$D/$1.pem" "$D/pki/int.pem" >"$D/$1-chain.pem"
}

openssl genrsa -traditional -out "$D/pkcs1.key" 2048 2>/dev/null
openssl ecparam -genkey -name secp384r1 -noout -out "$D/sec1.key" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
	openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:s3cret -out "$D/enc.key" 2>/dev/null
openssl genpkey -algorithm ED448 -out "$D/ed448.key" 2>/dev/null
openssl genrsa -out "$D/small.key" 1024 2>/dev/null
check "PKCS#1 key is in PKCS#1 form" grep -q "BEGIN RSA PRIVATE KEY" "$D/pkcs1.key"
check "SEC1 key is in SEC1 form" grep -q "BEGIN EC PRIVATE KEY" "$D/sec1.key"
check "encrypted key is encrypted PKCS#8" grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$D/enc.key"
for k in pkcs1 sec1 enc ed448 small; do cert_for $k; done
printf 's3cret\n' >"$D/enc.pass"
chmod 600 "$D"/*.key "$D/enc.pass"

keys=""
for k in pkcs1 sec1 enc ed448; do
	keys="$keys$(printf '\n[key %s]\nsource = %s/%s.key\nchain = %s/%s-chain.pem\n' $k "$D" $k "$D" $k)"
	[ $k = enc ] && keys="$keys$(printf '\npassword-file = %s/enc.pass\n' "$D")"
done
run_as=""
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then run_as=nobody; fi
lurkd_write_conf "$D" "$keys
[client forms]
public-key = $(cat "$D/stranger.pub")
keys = pkcs1 sec1 enc ed448"
if [ -n "$run_as" ]; then sed -i "s/^workers = 2$/workers = 2\nuser = $run_as/" "$D/lurkd.conf"; fi

export LURK_DEBUG=keys # the static key's address, for the check below
check "lurkd starts with PKCS#1, SEC1, encrypted PKCS#8 and Ed448 keys" lurkd_start "$D"
unset LURK_DEBUG
check "RSA PKCS#1-form key signs" quiet lc "$D" stranger sign pkcs1 rsa-pkcs "$(digest_info 256)"
check "SEC1 P-384 key signs" quiet lc "$D" stranger sign sec1 ecdsa "$(rand_hex 48)"
check "encrypted PKCS#8 key signs" quiet lc "$D" stranger sign enc ecdsa "$(rand_hex 32)"
check "Ed448 key signs TLS 1.3 content" quiet lc "$D" stranger sign ed448 eddsa "$(tls13_content 64)"

pid=$(cat "$D/lurkd.pid")
check "no core dumps (RLIMIT_CORE 0)" sh -c "grep -q '^Max core file size *0 *0' /proc/$pid/limits"
if [ -n "$run_as" ]; then
	# Privilege separation: the pid file names the root parent, which reads
	# files; its one child serves as the configured user.
	child=$(pgrep -P "$pid" | head -1)
	check "the serving process runs as $run_as, the file-reading parent as root" test \
		"$(awk '/^Uid:/ {print $2}' /proc/"$child"/status)" = "$(id -u $run_as)" -a \
		"$(awk '/^Uid:/ {print $2}' /proc/"$pid"/status)" = 0
	check "the serving process has no core dumps either" \
		sh -c "grep -q '^Max core file size *0 *0' /proc/$child/limits"
	# The static key sits in sodium_malloc memory made read-only, between
	# two no-access guard pages, and locked in RAM.
	addr=$(sed -n "s/^lurkd\[$child\]: debug: .*static key in guarded memory at 0x\([0-9a-f]*\), read-only$/\1/p" "$D/lurkd.log" | tail -1)
	maps=""
	if [ -n "$addr" ]; then
		x=$((16#$addr))
		prev=""
		found=""
		while read -r range perm _; do
			if [ -n "$found" ]; then maps="$found $perm"; break; fi
			lo=$((16#${range%-*}))
			hi=$((16#${range#*-}))
			if [ "$x" -ge "$lo" ] && [ "$x" -lt "$hi" ]; then found="$prev $perm"; fi
			prev=$perm
		done <"/proc/$child/maps"
	fi
	check "the static key's page is read-only between guard pages ($maps)" test "$maps" = "---p r--p ---p"
	# Locked in RAM (mlock). AddressSanitizer's mlock interceptor does
	# nothing, so the sanitizer build has no such check (see the plan).
	lck=$(awk '/^VmLck/ {print $2}' /proc/$child/status)
	if [ -z "${LURK_TOOL_PRELOAD:-}" ]; then
		check "... and locked in RAM (VmLck: $lck kB)" test "$lck" -gt 0
	fi
else
	ok "privileges dropped # SKIP not root"
	ok "no core dumps # SKIP not root"
	ok "guarded key # SKIP not root"
	[ -z "${LURK_TOOL_PRELOAD:-}" ] && ok "locked key # SKIP not root"
fi
lurkd_stop "$D"

# An RSA key under 2048 bits is refused with the file and line.
cp "$D/lurkd.conf" "$D/small.conf"
printf '\n[key small]\nsource = %s/small.key\nchain = %s/small-chain.pem\n' "$D" "$D" >>"$D/small.conf"
quiet "$LURKD" --check-config "$D/small.conf"
check "RSA-1024 refused" test $? -ne 0
"$LURKD" --check-config "$D/small.conf" >"$D/small.out" 2>&1
check "... naming file, line and reason" grep -q "small.conf:[0-9]*: key 'small': RSA keys must be 2048" "$D/small.out"

# Key files and password files others can read are refused.
cp "$D/pki/ec256.key" "$D/open.key"
chmod 644 "$D/open.key" "$D/enc.pass"
printf '\n[key open]\nsource = %s/open.key\nchain = %s/pki/ec256-chain.pem\n' "$D" "$D" >>"$D/lurkd.conf"
sed -i '/^\[key ec256\]$/,/^chain/d' "$D/lurkd.conf"
sed -i 's/^keys = rsa2048 rsa3072 ec256 /keys = rsa2048 rsa3072 /' "$D/lurkd.conf"
"$LURKD" --check-config "$D/lurkd.conf" >"$D/open.out" 2>&1
check "a PEM key others can read is refused" \
	grep -q "key 'open': cannot read $D/open.key: file is accessible by group or others" "$D/open.out"
check "a password file others can read is refused" \
	grep -q "cannot read password-file $D/enc.pass: file is accessible by group or others" "$D/open.out"
finish

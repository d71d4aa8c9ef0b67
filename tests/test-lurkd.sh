#!/bin/bash
# lurkd end to end: a real daemon on a unix socket and TCP loopback, keys of
# every type, the test client signing with each mechanism (each signature
# verified with the key's public key), RSA decryption, client isolation,
# reload, bad input, 1,000 concurrent connections, and shutdown.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 57

check "setup: PKI, Noise keys and lurkd.conf" lurkd_setup "$D"
check "--check-config accepts the configuration" quiet "$LURKD" --check-config "$D/lurkd.conf"

# --check-config names file, line and problem.
bad_conf() { # $1 name, $2 text to append, $3 expected message
	cp "$D/lurkd.conf" "$D/bad.conf"
	printf '%s\n' "$2" >>"$D/bad.conf"
	out=$("$LURKD" --check-config "$D/bad.conf" 2>&1)
	rc=$?
	line=$(grep -n . "$D/bad.conf" | tail -1 | cut -d: -f1)
	if [ $rc -ne 0 ] && echo "$out" | grep -q "$D/bad.conf:[0-9]*: .*$3"; then
		ok "--check-config refuses $1"
	else
		not_ok "--check-config refuses $1"
		diag "rc=$rc out=$out"
	fi
}
bad_conf "an unknown key in a client" "$(printf '[client c]\npublic-key = %s\nkeys = nosuch' "$(cat "$D/stranger.pub")")" "unknown key 'nosuch'"
bad_conf "a certificate that does not match" "$(printf '[key wrong]\nsource = %s\nchain = %s' "$D/pki/ec256.key" "$D/pki/ec384-chain.pem")" "key 'wrong'"
bad_conf "an unreadable key" "$(printf '[key gone]\nsource = %s\nchain = %s' "$D/pki/nope.key" "$D/pki/ec384-chain.pem")" "key 'gone'"
bad_conf "a malformed line" "this is not a setting" "expected 'key = value'"
bad_conf "an unknown setting" "$(printf '[client d]\nfavourite-colour = blue')" "unknown setting 'favourite-colour'"

# Every problem in one run, each with its line.
cp "$D/lurkd.conf" "$D/multi.conf"
printf '[client x]\nfavourite-colour = blue\nkeys = nosuch\n[key y]\nsource = %s/pki/nope.key\nchain = %s/pki/ec256-chain.pem\n' "$D" "$D" >>"$D/multi.conf"
sed -i "s|^workers = 2$|workers = 2\nuser = no-such-user-here\nlisten = unix:$D/port/x/lurkd.sock|" "$D/multi.conf"
out=$("$LURKD" --check-config "$D/multi.conf" 2>&1)
n=$(echo "$out" | grep -c "^lurkd: $D/multi.conf:[0-9]*: ")
check "--check-config reports all six problems, one line each ($n)" test "$n" -eq 6
check "... the unknown setting" eval 'echo "$out" | grep -q "unknown setting .favourite-colour."'
check "... the user that does not exist" eval 'echo "$out" | grep -q "user .no-such-user-here. does not exist"'
check "... the socket directory that cannot be made" eval 'echo "$out" | grep -q "listen unix:$D/port/x/lurkd.sock: directory"'
check "... the missing key file" eval 'echo "$out" | grep -q "key .y.: cannot read .*nope.key: no such file"'
check "... the unknown key of a client" eval 'echo "$out" | grep -q "names unknown key .nosuch."'
check "... and the missing public key" eval 'echo "$out" | grep -q "client .x. needs a .public-key."'

check "lurkd starts" lurkd_start "$D"
check "ping over the unix socket" lc_q "$D" a ping
check "ping over TCP loopback" lc_tcp_q "$D" a ping
list_a=$(lc "$D" a list)
check "client a lists its 6 keys" test "$(echo "$list_a" | wc -l)" -eq 6
list_b=$(lc "$D" b list)
check "client b lists only ec384" test "$list_b" != "" -a "$(echo "$list_b" | cut -d' ' -f1)" = ec384

# Every key type and mechanism; lurk-client verifies each signature (exit 3 if not).
sign_ok() { # $1 key, $2 mech, $3 hex
	if lc "$D" a sign "$1" "$2" "$3" >/dev/null 2>"$D/err"; then
		ok "sign $1 $2 (${#3} hex) verifies"
	else
		not_ok "sign $1 $2 (${#3} hex) verifies"
		diag "$(cat "$D/err")"
	fi
}
for k in rsa2048 rsa3072; do
	sign_ok $k rsa-pkcs "$(digest_info 256)"
	sign_ok $k rsa-pkcs "$(digest_info 384)"
	sign_ok $k rsa-pss "$(rand_hex 32)"
	sign_ok $k rsa-pss "$(rand_hex 64)"
done
sign_ok rsa2048 rsa-pkcs "$(digest_info 512)"
sign_ok rsa2048 sha256-rsa-pss "$(tls13_content 32)"
sign_ok ec256 ecdsa "$(rand_hex 32)"
sign_ok ec384 ecdsa "$(rand_hex 48)"
sign_ok ec521 ecdsa "$(rand_hex 64)"
sign_ok ec256 ecdsa-sha256 "$(tls13_content 32)"
sign_ok ed25519 eddsa "$(tls13_content 48)"

# RSA key-exchange decryption: encrypt a premaster secret with the public key.
pms=$(printf '0303'; rand_hex 46)
openssl x509 -in "$D/pki/rsa2048.pem" -pubkey -noout >"$D/rsa.pub"
printf '%s' "$pms" | xxd -r -p >"$D/pms.bin"
openssl pkeyutl -encrypt -pubin -inkey "$D/rsa.pub" -pkeyopt rsa_padding_mode:pkcs1 \
	-in "$D/pms.bin" -out "$D/pms.ct"
got=$(lc "$D" a decrypt rsa2048 "$(xxd -p "$D/pms.ct" | tr -d '\n')")
check "RSA decryption returns the premaster secret" test "$got" = "$pms"
openssl x509 -in "$D/pki/rsa3072.pem" -pubkey -noout >"$D/rsa3072.pub"
openssl pkeyutl -encrypt -pubin -inkey "$D/rsa3072.pub" -pkeyopt rsa_padding_mode:pkcs1 \
	-in "$D/pms.bin" -out "$D/pms3072.ct"
lc "$D" a decrypt rsa3072 "$(xxd -p "$D/pms3072.ct" | tr -d '\n')" >/dev/null 2>"$D/err"
check "decryption refused where rsa-decrypt is off" test $? -eq 2

# Clients are isolated, strangers refused.
lc "$D" stranger ping >/dev/null 2>&1
check "an unknown client key is refused" test $? -ne 0
check "lurkd logs the unknown key's fingerprint" grep -q "unknown client key $("$ADMIN" fingerprint "$(cat "$D/stranger.pub")")" "$D/lurkd.log"
lc "$D" b sign ec256 ecdsa "$(rand_hex 32)" >/dev/null 2>&1
check "client b cannot use client a's key" test $? -eq 2
lc "$D" a raw-op 99 >/dev/null 2>"$D/err"
check "an unknown operation gets an error response" grep -q "unknown operation" "$D/err"

# Bad input closes that connection only.
for kind in bytes zero-frame giant-frame bad-msg1; do
	check "junk ($kind) closes the connection" lc_q "$D" a junk $kind
done
# A flood of junk handshakes and unknown clients: a few log lines each, not one per connection.
# At most 5 lines of each kind per 10 s window (one more window for an
# earlier line): the bound follows the time the flood took on this machine.
t0=$(date +%s)
for i in $(seq 1 60); do lc_q "$D" a junk bad-msg1; lc_q "$D" stranger ping; done
windows=$((($(date +%s) - t0) / 10 + 2))
hs=$(lurkd_log_count "$D" "handshake from .* refused")
uk=$(lurkd_log_count "$D" "unknown client key [0-9a-f]+ from")
check "60 junk handshakes in $windows windows: at most $((5 * windows)) log lines ($hs)" \
	test "$hs" -ge 1 -a "$hs" -le $((5 * windows)) -a "$hs" -lt 60
check "60 unknown-client attempts: at most $((5 * windows)) log lines ($uk)" \
	test "$uk" -ge 1 -a "$uk" -le $((5 * windows)) -a "$uk" -lt 60
check "lurkd still serves after bad input" lc_q "$D" a ping

# 1,000 connections open at once, each making a request.
out=$(lc "$D" a connections 1000 ec256 2>&1)
check "1,000 concurrent connections are all served" test "$(echo "$out" | tail -1)" = "connections=1000 served=1000 failed=0"

# Reload: a broken file is refused and the old configuration keeps serving.
cp "$D/lurkd.conf" "$D/lurkd.conf.good"
echo "[broken" >>"$D/lurkd.conf"
lurkd_reload "$D"
check "a broken reload is refused with a log line" grep -q "reload refused" "$D/lurkd.log"
check "the old configuration keeps serving" lc_q "$D" b ping

# Reload removing client b closes b's live connection.
sed '/^\[client b\]/,$d' "$D/lurkd.conf.good" >"$D/lurkd.conf.no-b"
lurkd_hold_reload "$D" lc b "$D/lurkd.conf.no-b"
check "reload removing a client closes its live connection" grep -q "second ping: failed" "$D/hold.out"
lc "$D" b ping >/dev/null 2>&1
check "the removed client can no longer connect" test $? -ne 0
check "the remaining client is still served" lc_q "$D" a ping

# The audit log: one JSON line per operation.
check "audit lines name client, key, op and verdict" \
	grep -q '"client":"a","key":"ec256","op":"sign","mechanism":"CKM_ECDSA".*"verdict":"allowed"' "$D/audit.log"
check "refusals are audited too" grep -q '"verdict":"refused"' "$D/audit.log"

check "SIGTERM stops lurkd cleanly" lurkd_stop "$D"
check "the unix socket is removed" test ! -e "$D/lurkd.sock"
finish

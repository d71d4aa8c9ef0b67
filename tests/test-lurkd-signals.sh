#!/bin/bash
# lurkd under a storm of SIGHUPs: 200 in bursts of 20, arriving while a slow
# reload (a key under 1,000,000 PBKDF2 rounds) is running and while 8 clients
# sign without pause. lurkd must stay up, serve every request, and end with
# the last configuration written in force. As root it runs privilege
# separated (user = nobody, root-only key files), so every reload goes through
# the parent that reads files and the child that serves.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'touch "$D/stop"; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 9

lurkd_setup "$D" || exit 1
"$ADMIN" genkey "$D/c.key" >"$D/c.pub" || exit 1
"$ADMIN" genkey "$D/d.key" >"$D/d.pub" || exit 1
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
	openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 1000000 -passout pass:s3cret \
		-out "$D/slow.key" 2>/dev/null
openssl pkey -in "$D/slow.key" -passin pass:s3cret -pubout -out "$D/slow.pub.pem" 2>/dev/null
printf 'cn = "slow.lurk.test"\nexpiration_days = 30\ntls_www_server\nsigning_key\n' >"$D/slow.tmpl"
certtool --generate-certificate --load-pubkey "$D/slow.pub.pem" \
	--load-ca-certificate "$D/pki/int.pem" --load-ca-privkey "$D/pki/int.key" \
	--template "$D/slow.tmpl" --outfile "$D/slow-chain.pem" >/dev/null 2>&1
printf 's3cret\n' >"$D/slow.pass"
chmod 600 "$D/slow.key" "$D/slow.pass" "$D"/*.key

user=""
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then user="user = nobody"; fi
# variant KEYS-OF-C [EXTRA]: the configuration with client c holding KEYS-OF-C.
variant() {
	lurkd_write_conf "$D" "
[key slow]
source = $D/slow.key
password-file = $D/slow.pass
chain = $D/slow-chain.pem

[client c]
public-key = $(cat "$D/c.pub")
keys = $1
$2"
	if [ -n "$user" ]; then sed -i "s/^workers = 2$/workers = 2\n$user/" "$D/lurkd.conf"; fi
}
variant ec256
check "lurkd starts${user:+ (privilege separated: $user)}" lurkd_start "$D"
pid=$(cat "$D/lurkd.pid")

# Eight clients sign until told to stop.
for i in 1 2 3 4 5 6 7 8; do
	lc "$D" a load "$D/stop" ec256 >"$D/load.$i" 2>&1 &
	echo $! >>"$D/loaders"
done

# 10 bursts of 20 SIGHUPs; the configuration changes between bursts. Each
# burst waits only until one more reload has finished, so the next burst
# lands on a reload in flight.
sent=0
for burst in $(seq 1 10); do
	if [ $((burst % 2)) -eq 0 ]; then variant ec384; else variant ec256; fi
	n=$(lurkd_log_count "$D" "$LURKD_RELOADED")
	for j in $(seq 1 20); do kill -HUP "$pid" && sent=$((sent + 1)); done
	lurkd_wait_log "$D" "$LURKD_RELOADED" $((n + 1)) 120 || break
done
check "200 SIGHUPs sent in bursts ($sent)" test "$sent" -eq 200
check "lurkd is still running" kill -0 "$pid"

# The last configuration: c holds ec521 and a fourth client exists.
variant ec521 "
[client d]
public-key = $(cat "$D/d.pub")
keys = ec256"
kill -HUP "$pid"
check "the last configuration is loaded" lurkd_wait_log "$D" "configuration reloaded .*: 7 keys, 4 clients" 1 120
check "no reload was refused" test "$(lurkd_log_count "$D" "reload refused")" -eq 0

touch "$D/stop"
total=0
bad=0
for p in $(cat "$D/loaders"); do wait "$p" || bad=$((bad + 1)); done
for i in 1 2 3 4 5 6 7 8; do
	s=$(sed -n 's/^signed=\([0-9]*\) failed=0$/\1/p' "$D/load.$i")
	if [ -z "$s" ] || [ "$s" -eq 0 ]; then bad=$((bad + 1)); diag "loader $i: $(cat "$D/load.$i")"; fi
	total=$((total + ${s:-0}))
done
check "8 clients signed throughout with no failure ($total signatures)" test "$bad" -eq 0
check "client c now holds ec521 alone" test "$(lc "$D" c list | cut -d' ' -f1)" = ec521
check "client d, added last, is served" lc_q "$D" d ping
reloads=$(lurkd_log_count "$D" "configuration reloaded")
diag "reloads completed: $reloads for $sent SIGHUPs"
check "SIGTERM stops lurkd cleanly after the storm" lurkd_stop "$D"
finish

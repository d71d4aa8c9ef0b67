#!/bin/bash
# lurkd's Prometheus metrics (metrics-listen): scraped with curl over TCP
# loopback and a unix socket, during and after a known set of requests
# (allowed, refused by policy, by the key list, by a rate limit), each count
# checked against what was done; the output validated by promtool; a reload
# moves the generation and keeps the counts; a non-loopback address is
# refused at --check-config; only GET /metrics is served. lurk-admin status
# shows the same numbers.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'kill "$load_pid" 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 51

lurkd_setup "$D" || exit 1
MPORT=$(lurkd_pick_port 2)
# Client b: one signature a second after a burst of three.
sed -i "s/^keys = ec384$/keys = ec384\nrate-limit = 1\nrate-burst = 3/" "$D/lurkd.conf"

# --check-config: a metrics address off loopback needs metrics-allow-remote.
cp "$D/lurkd.conf" "$D/remote.conf"
sed -i "/^workers = 2/a metrics-listen = tcp:0.0.0.0:$MPORT" "$D/remote.conf"
out=$("$LURKD" --check-config "$D/remote.conf" 2>&1)
check "a non-loopback metrics-listen is refused at --check-config" test $? -ne 0
check "... saying why and what allows it ($out)" \
	grep -q "metrics-listen: 0.0.0.0 is not a loopback address.*metrics-allow-remote = yes" <<<"$out"
sed -i "/^metrics-listen/a metrics-allow-remote = yes" "$D/remote.conf"
check "... and accepted with metrics-allow-remote = yes" quiet "$LURKD" --check-config "$D/remote.conf"

sed -i "/^workers = 2/a metrics-listen = tcp:127.0.0.1:$MPORT" "$D/lurkd.conf"
URL="http://127.0.0.1:$MPORT/metrics"
t_start=$(date +%s)
check "lurkd starts with metrics on 127.0.0.1:$MPORT" lurkd_start "$D"

# scrape OUT [CURL ARGS]: GET the metrics into OUT.
scrape() {
	_o=$1
	shift
	curl -sS --max-time 10 -f "${@:-$URL}" -o "$_o"
}
# val FILE SERIES: the value of the series (name and labels, exactly), 0 if absent.
val() {
	_v=$(awk -v s="$2 " 'index($0, s) == 1 { print $NF; exit }' "$1")
	echo "${_v:-0}"
}
# is FILE SERIES N: the series has value N.
is() {
	_got=$(val "$1" "$2")
	[ "$_got" = "$3" ] || {
		diag "$2 = $_got, expected $3"
		return 1
	}
}
ops() { # client key verdict [operation mechanism]
	echo "lurkd_operations_total{key=\"$2\",client=\"$1\",operation=\"${4:-sign}\",mechanism=\"${5:-CKM_ECDSA}\",verdict=\"$3\"}"
}

scrape "$D/m0"
check "the first scrape is served" test -s "$D/m0"
check "build_info carries the version" grep -q '^lurkd_build_info{version="0.1.0"} 1$' "$D/m0"
check "generation 0 at start" is "$D/m0" lurkd_config_generation 0
check "promtool accepts it" quiet promtool check metrics <"$D/m0"

# The requests: 6 connections, 5 of them authenticated.
burst_a=$(lc "$D" a burst 5 ec256)
lc_q "$D" a sign ec256 ecdsa "$(rand_hex 33)" # a hash length TLS never uses
rc1=$?
lc_q "$D" a sign ec256 ecdsa "$(rand_hex 33)"
rc2=$?
lc_q "$D" b sign ec256 ecdsa "$(rand_hex 32)" # not one of b's keys
rc3=$?
burst_b=$(lc "$D" b burst 8 ec384)
lc_q "$D" stranger ping
rc4=$?
diag "a: $burst_a; b: $burst_b; exits $rc1 $rc2 $rc3 $rc4"
b_ok=$(sed -n 's/^allowed=\([0-9]*\) .*/\1/p' <<<"$burst_b")
b_no=$(sed -n 's/.*refused=\([0-9]*\)$/\1/p' <<<"$burst_b")
check "the requests went as planned" test "$burst_a" = "allowed=5 refused=0" -a "$rc1$rc2$rc3" = 222 \
	-a "$rc4" -ne 0 -a "$((b_ok + b_no))" = 8 -a "${b_no:-0}" -ge 1

scrape "$D/m1"
check "a's allowed ECDSA signatures with ec256: 5" is "$D/m1" "$(ops a ec256 allowed)" 5
check "a's refused ones: 2" is "$D/m1" "$(ops a ec256 refused)" 2
check "refused by policy: hash_length 2" is "$D/m1" 'lurkd_refusals_total{reason="hash_length"}' 2
check "b asking for a key not its own: key \"\", refused 1" is "$D/m1" "$(ops b '' refused)" 1
check "... reason no_such_key 1" is "$D/m1" 'lurkd_refusals_total{reason="no_such_key"}' 1
check "b's ec384 signatures allowed: $b_ok" is "$D/m1" "$(ops b ec384 allowed)" "$b_ok"
check "... refused by its rate limit: $b_no" is "$D/m1" "$(ops b ec384 refused)" "$b_no"
check "refusals client_rate_limit: $b_no" is "$D/m1" 'lurkd_refusals_total{reason="client_rate_limit"}' "$b_no"
check "rate_limited client: $b_no, key: 0" \
	eval 'is "$D/m1" "lurkd_rate_limited_total{scope=\"client\"}" "$b_no" && is "$D/m1" "lurkd_rate_limited_total{scope=\"key\"}" 0'
check "latency histogram of ec256 sign counts its 7 requests" \
	is "$D/m1" 'lurkd_operation_duration_seconds_count{key="ec256",operation="sign"}' 7
check "... and its +Inf bucket is that count" \
	is "$D/m1" 'lurkd_operation_duration_seconds_bucket{key="ec256",operation="sign",le="+Inf"}' 7
check "connections accepted: 6" is "$D/m1" 'lurkd_connections_total{result="accepted"}' 6
check "handshakes accepted: 5" is "$D/m1" 'lurkd_handshakes_total{result="accepted"}' 5
check "handshakes refused, unknown client: 1" is "$D/m1" 'lurkd_handshakes_total{result="unknown_client"}' 1
audit_lines=$(wc -l <"$D/audit.log")
check "audit batches written hold the $audit_lines records (count >= 1, depth 0)" \
	eval '[ "$(val "$D/m1" lurkd_audit_write_seconds_count)" -ge 1 ] && is "$D/m1" lurkd_audit_queue_depth 0'
check "promtool accepts the scrape" quiet promtool check metrics <"$D/m1"

# During signing: a load on ec384 from a; scrapes see its count grow.
lc "$D" a load "$D/stop" ec384 >"$D/load.out" 2>&1 &
load_pid=$!
seen=0
for _i in $(seq 1 1500); do
	scrape "$D/md" || break
	seen=$(val "$D/md" "$(ops a ec384 allowed)")
	[ "$seen" -gt 0 ] && break
	sleep 0.02
done
check "a scrape during signing sees signatures ($seen)" test "$seen" -gt 0
check "promtool accepts a scrape taken under load" quiet promtool check metrics <"$D/md"
for _i in $(seq 1 1500); do
	scrape "$D/md2" || break
	[ "$(val "$D/md2" "$(ops a ec384 allowed)")" -gt "$seen" ] && break
	sleep 0.02
done
check "... and a later one more" test "$(val "$D/md2" "$(ops a ec384 allowed)")" -gt "$seen"
touch "$D/stop"
wait "$load_pid"
signed=$(sed -n 's/^signed=\([0-9]*\) failed=0$/\1/p' "$D/load.out")
scrape "$D/m2"
check "after the load: the count is what the client signed (${signed:-?})" \
	is "$D/m2" "$(ops a ec384 allowed)" "${signed:-none}"

check "POST /metrics: 405" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")" = 405
check "GET /other: 404" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")" = 404

# lurk-admin status: the same numbers on one screen.
"$ADMIN" status --metrics "$URL" >"$D/status" 2>&1
check "lurk-admin status reads the endpoint" test $? -eq 0
diag "$(head -30 "$D/status")"
check "... version and generation" grep -q "^lurkd 0.1.0, configuration generation 0" "$D/status"
check "... key ec256: 5 allowed, 2 refused" grep -Eq "^ +ec256 +5 +2 " "$D/status"
check "... client b: $b_ok allowed, $((b_no + 1)) refused" grep -Eq "^ +b +$b_ok +$((b_no + 1)) " "$D/status"
check "... the top refusal reason is b's rate limit or hash_length" \
	grep -Eq "^ +($b_no +client_rate_limit|2 +hash_length)$" "$D/status"
check_fails "lurk-admin status fails on a dead endpoint" quiet "$ADMIN" status --metrics "http://127.0.0.1:1/metrics"

# Reload: the generation moves, counts are kept; a refused reload is counted.
lurkd_reload "$D"
scrape "$D/m3"
check "a reload: generation 1, reloads ok 1" \
	eval 'is "$D/m3" lurkd_config_generation 1 && is "$D/m3" "lurkd_reloads_total{result=\"ok\"}" 1'
check "... a's counts kept across it" is "$D/m3" "$(ops a ec256 allowed)" 5
t_now=$(date +%s)
loaded=$(val "$D/m3" lurkd_config_loaded_timestamp_seconds)
check "... loaded timestamp within the test ($loaded)" test "$loaded" -ge "$t_start" -a "$loaded" -le "$t_now"
cp "$D/lurkd.conf" "$D/good.conf"
echo "this is not a setting" >>"$D/lurkd.conf"
lurkd_reload "$D"
scrape "$D/m4"
check "a refused reload: failed 1, generation still 1" \
	eval 'is "$D/m4" "lurkd_reloads_total{result=\"failed\"}" 1 && is "$D/m4" lurkd_config_generation 1'
cp "$D/good.conf" "$D/lurkd.conf"
check "lurkd stops" lurkd_stop "$D"

# A unix socket.
sed -i "s#^metrics-listen = .*#metrics-listen = unix:$D/run/metrics.sock#" "$D/lurkd.conf"
check "lurkd starts with metrics on a unix socket" lurkd_start "$D"
lc_q "$D" a burst 2 ec256
scrape "$D/mu" --unix-socket "$D/run/metrics.sock" http://localhost/metrics
check "curl --unix-socket: a's 2 signatures of this run" is "$D/mu" "$(ops a ec256 allowed)" 2
check "lurk-admin status reads a unix socket" \
	eval '"$ADMIN" status --metrics "unix:$D/run/metrics.sock" | grep -Eq "^ +ec256 +2 +0 "'
lurkd_stop "$D"
check "lurkd removes the metrics socket at exit" test ! -e "$D/run/metrics.sock"

# Privilege separated: the serving child (nobody) counts and serves; the root parent removes the socket.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	chmod 711 "$D"
	sed -i "s/^workers = 2\$/workers = 2\nuser = nobody/" "$D/lurkd.conf"
	check "privilege separated: lurkd starts with metrics on a unix socket" lurkd_start "$D"
	check "... the socket belongs to the serving user" test "$(stat -c %U "$D/run/metrics.sock")" = nobody
	lc_q "$D" a burst 3 ec256
	lurkd_reload "$D"
	scrape "$D/mp" --unix-socket "$D/run/metrics.sock" http://localhost/metrics
	check "... the serving process's 3 signatures are counted" is "$D/mp" "$(ops a ec256 allowed)" 3
	check "... and its reload: generation 1, reloads ok 1" \
		eval 'is "$D/mp" lurkd_config_generation 1 && is "$D/mp" "lurkd_reloads_total{result=\"ok\"}" 1'
	lurkd_stop "$D"
	check "... the parent removes the socket at exit" test ! -e "$D/run/metrics.sock"
else
	for i in 1 2 3 4 5; do ok "# SKIP privilege separation: needs root and a user nobody"; done
fi
finish

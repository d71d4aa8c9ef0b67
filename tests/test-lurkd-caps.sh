#!/bin/bash
# lurkd under hostile load (docs/architecture.md, "what gives first"):
#   a. max-connections-per-source: the (cap+1)th connection from 127.0.0.2
#      gets BUSY while 127.0.0.1 is served; unix peers count per uid;
#   b. max-connections-per-client: the (cap+1)th authenticated connection of
#      client a gets BUSY while client b is served;
#   c. at max-connections = 50, with 48 idle unauthenticated connections and
#      2 authenticated ones, a new client signs at once: the oldest idle one
#      gives up its place; with 50 authenticated ones it is refused;
#   d. authenticated connections stalled mid-frame beyond frame-memory are
#      closed, oldest first, and lurkd's memory stays under a bound computed
#      from the settings, then goes back down;
#   e. a unix socket's missing folder belongs to `user` and its group.
# Floods come from tests/lurk-flood; every wait is on state (its output, the
# log), bounded in time.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
FLOOD="${top_builddir:-.}/tests/lurk-flood"
make_tmpdir
D=$TEST_TMP
FLOODS=""
stop_floods() {
	for _p in $FLOODS; do kill "$_p" 2>/dev/null; done
	for _p in $FLOODS; do wait "$_p" 2>/dev/null; done
	FLOODS=""
}
trap 'stop_floods; lurkd_stop "$D" >/dev/null 2>&1; lurkd_stop "$D/e" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 34

lurkd_setup "$D" >/dev/null || exit 1
cp "$D/lurkd.conf" "$D/lurkd.conf.base"
PORT=$(cat "$D/port")
TCP="tcp:127.0.0.1:$PORT"
SPUB=$(cat "$D/server.pub")

# with SETTINGS...: lurkd.conf is the base one with these [server] lines added.
with() {
	_extra=$(printf '%s\\n' "$@")
	sed "s/^workers = 2\$/workers = 2\\n${_extra%\\n}/" "$D/lurkd.conf.base" >"$D/lurkd.conf"
}

# start: lurkd_start; on another port if this one was taken meanwhile (the
# floods' and other tests' clients take ephemeral ports from the same range).
start() {
	for _try in 1 2 3; do
		_seen=$(lurkd_log_count "$D" "Address already in use")
		lurkd_start "$D" && return 0
		[ "$(lurkd_log_count "$D" "Address already in use")" -gt "$_seen" ] || return 1
		_new=$(lurkd_pick_port $((10 + _try)))
		sed -i "s/:$PORT\$/:$_new/" "$D/lurkd.conf.base" "$D/lurkd.conf"
		echo "$_new" >"$D/port"
		PORT=$_new
		TCP="tcp:127.0.0.1:$PORT"
	done
	return 1
}

# flood NAME ARGS...: lurk-flood in the background, its output in $D/NAME.out.
flood() {
	_n=$1
	shift
	"$FLOOD" -t 90 "$@" >"$D/$_n.out" 2>&1 </dev/null &
	FLOODS="$FLOODS $!"
}

# wait_line FILE REGEX [SECONDS]: until a line of FILE matches (grep -E).
wait_line() {
	_end=$(($(date +%s) + ${3:-60}))
	until grep -qE "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.05
	done
}

# last_held NAME: how many connections that flood holds now.
last_held() {
	grep -E '^(done )?held ' "$D/$1.out" | tail -1 | awk '{ print $(NF - 4) }'
}

# fails CMD...: CMD exits non-zero (its output discarded).
fails() {
	! "$@" >/dev/null 2>&1
}

# Sanitizer builds: ASan's allocator holds freed memory in quarantine, so
# RSS says nothing of lurkd's own use there.
SANITIZED=${LURK_TOOL_PRELOAD:-}

# kB of lurkd's VmRSS or VmHWM.
mem_kb() {
	awk -v k="$1:" '$1 == k { print $2 }' "/proc/$(cat "$D/lurkd.pid")/status"
}

# --- a. max-connections-per-source -------------------------------------------------------
with "max-connections-per-source = 4" "handshake-timeout = 60"
check "a: lurkd starts with max-connections-per-source = 4" start
flood a1 -b 127.0.0.2 idle "$TCP" 5
wait_line "$D/a1.out" '^held 4 refused 1 closed 0$' 60
check "a: the 5th connection from 127.0.0.2 gets a BUSY refusal ($(tail -1 "$D/a1.out"))" \
	grep -qE '^held 4 refused 1 closed 0$' "$D/a1.out"
check "a: lurkd says why, naming the source" lurkd_wait_log "$D" \
	"connection from 127\\.0\\.0\\.2 refused: max-connections-per-source \\(4\\) reached" 1 30
check "a: a client from 127.0.0.1 is served meanwhile" lc_tcp_q "$D" a ping
check "a: ... and 127.0.0.2 still holds its 4 ($(last_held a1))" test "$(last_held a1)" = 4
flood a2 idle "unix:$D/lurkd.sock" 4
wait_line "$D/a2.out" '^held 4 refused 0 closed 0$' 60
check "a: unix peers count per uid: with 4 held, this uid is refused" fails lc "$D" a ping
check "a: ... as its uid" lurkd_wait_log "$D" \
	"connection from uid $(id -u) refused: max-connections-per-source" 1 30
stop_floods
lurkd_stop "$D"

# --- b. max-connections-per-client -------------------------------------------------------
with "max-connections-per-client = 3" "handshake-timeout = 60"
check "b: lurkd starts with max-connections-per-client = 3" start
flood b1 stall "$TCP" "$SPUB" "$D/a.key" 3 0
wait_line "$D/b1.out" '^open ' 60
check "b: client a holds 3 authenticated connections ($(head -1 "$D/b1.out"))" \
	grep -qx 'open 3 refused 0 failed 0' "$D/b1.out"
lc_tcp "$D" a ping >"$D/b.a.out" 2>&1
rc=$?
check "b: a 4th connection of client a is refused (rc $rc)" test $rc -ne 0
check "b: lurkd says why, naming the client" lurkd_wait_log "$D" \
	"client a refused from 127\\.0\\.0\\.1:[0-9]+: max-connections-per-client \\(3\\) reached" 1 30
check "b: client b is served meanwhile" lc_tcp_q "$D" b ping
flood b2 stall "$TCP" "$SPUB" "$D/a.key" 2 0
wait_line "$D/b2.out" '^open ' 60
check "b: the refusal is a BUSY refusal frame ($(head -1 "$D/b2.out"))" \
	grep -qx 'open 0 refused 2 failed 0' "$D/b2.out"
stop_floods
lurkd_stop "$D"

# --- c. max-connections: unauthenticated connections give way --------------------------
with "max-connections = 50" "handshake-timeout = 60"
check "c: lurkd starts with max-connections = 50" start
flood c1 stall "$TCP" "$SPUB" "$D/a.key" 2 0
wait_line "$D/c1.out" '^open ' 60
flood c2 idle "$TCP" 48
wait_line "$D/c2.out" '^open ' 60
check "c: 2 authenticated and 48 idle connections fill lurkd ($(head -1 "$D/c1.out"); $(head -1 "$D/c2.out"))" \
	test "$(head -1 "$D/c1.out")" = "open 2 refused 0 failed 0" -a \
	"$(head -1 "$D/c2.out")" = "open 48 refused 0 failed 0"
t0=$(date +%s%N)
lc_tcp "$D" b sign ec384 ecdsa "$(rand_hex 48)" >"$D/c.sign" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
# handshake-timeout is 60 s: a client served at all was served by an eviction.
check "c: a new client signs at once (rc $rc, $ms ms; lurk-client's bound is 5 s)" test $rc -eq 0
check "c: lurkd closed the oldest idle connection for it" lurkd_wait_log "$D" \
	"max-connections \\(50\\) reached: closed the oldest connection still in its handshake" 1 30
wait_line "$D/c2.out" '^held 47 refused 1 closed 0$' 30
check "c: the idle connection was told BUSY ($(tail -1 "$D/c2.out"))" \
	grep -qx 'held 47 refused 1 closed 0' "$D/c2.out"
check "c: the authenticated ones stay ($(last_held c1))" test "$(last_held c1)" = 2
stop_floods
lurkd_stop "$D"
check "c: lurkd restarts" start
flood c3 stall "$TCP" "$SPUB" "$D/a.key" 50 0
wait_line "$D/c3.out" '^open ' 60
lc_tcp "$D" b ping >/dev/null 2>&1
rc=$?
check "c: with 50 authenticated connections ($(head -1 "$D/c3.out")) a newcomer is refused (rc $rc)" \
	test "$(head -1 "$D/c3.out")" = "open 50 refused 0 failed 0" -a $rc -ne 0
check "c: ... and no authenticated one was closed for it" lurkd_wait_log "$D" \
	"connection refused: max-connections \\(50\\) reached, every connection authenticated" 1 30
stop_floods
lurkd_stop "$D"

# --- d. frame-memory ---------------------------------------------------------------------
# 600 authenticated connections, each 65,000 bytes into a 65,535-byte frame:
# 38 MB unbounded. frame-memory = 4 holds 64 of them (64 KB buffers); the
# frame-timeout of 600 s leaves the closing to the budget.
N=600
FM=4
with "frame-memory = $FM" "frame-timeout = 600" "handshake-timeout = 60" \
	"max-connections-per-source = 2000" "max-connections-per-client = 2000"
check "d: lurkd starts with frame-memory = $FM" start
lc_tcp_q "$D" a ping
rss0=$(mem_kb VmRSS)
hwm0=$(mem_kb VmHWM)
flood d1 stall "$TCP" "$SPUB" "$D/a.key" $N 65000
wait_line "$D/d1.out" '^open ' 90
check "d: $N stalled connections opened ($(head -1 "$D/d1.out"))" \
	grep -qE "^open $N refused 0 failed 0$" "$D/d1.out"
check "d: lurkd closes them, oldest partial request first" lurkd_wait_log "$D" \
	"frame-memory \\($FM MB\\) full: [0-9]+ connections? closed, oldest partial request first" 1 30
# Closes reach the flood soon after; 64 buffers fit.
fits=$((FM * 1024 / 64))
end=$(($(date +%s) + 30))
while [ "$(last_held d1)" -gt $fits ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
check "d: at most $fits stalled connections are left ($(last_held d1))" \
	test "$(last_held d1)" -le $fits
check "d: lurkd still serves" lc_tcp_q "$D" b ping
# The bound: the budget, one request being read per worker (a 64 KB frame
# and a 1 MB reassembly), 8 KB per connection (struct, Noise session,
# socket bookkeeping), 8 MB for the allocator: ~19 MB over the start here,
# against 38 MB for the buffers alone without the budget.
hwm=$(mem_kb VmHWM)
bound=$((hwm0 + FM * 1024 + 2 * (64 + 1024) + N * 8 + 8192))
if [ -n "$SANITIZED" ]; then
	ok "# SKIP d: peak RSS ${hwm} kB (a sanitizer build)"
else
	check "d: lurkd's peak RSS ${hwm} kB is under ${bound} kB (${hwm0} kB before)" \
		test "$hwm" -lt "$bound"
fi
stop_floods
# Memory goes back once they are gone (worker 0 trims once a second).
if [ -n "$SANITIZED" ]; then
	ok "# SKIP d: RSS after the flood (a sanitizer build)"
else
	end=$(($(date +%s) + 30))
	while [ "$(mem_kb VmRSS)" -gt $((rss0 + 8192)) ] && [ "$(date +%s)" -lt "$end" ]; do
		sleep 0.2
	done
	check "d: after the flood lurkd's RSS is back to $(mem_kb VmRSS) kB (under $((rss0 + 8192)))" \
		test "$(mem_kb VmRSS)" -le $((rss0 + 8192))
fi
lurkd_stop "$D"

# --- e. a unix socket's folder, started as root with user = nobody ----------------------
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -p "$D/e"
	lurkd_pick_port 3 >"$D/e/port"
	sed -e "s|$D/lurkd.sock|$D/e/lurkd.sock|; s|:$PORT\$|:$(cat "$D/e/port")|" \
		-e "s|$D/audit.log|$D/e/audit.log|" \
		-e "s|^workers = 2\$|workers = 2\\nuser = nobody\\nlisten = unix:$D/e/run/sub/lurkd.sock|" \
		"$D/lurkd.conf.base" >"$D/e/lurkd.conf"
	owner="nobody:$(id -gn nobody)"
	# The serving process checks the socket folders too: nobody must get through $D.
	chmod 711 "$D"
	out=$("$LURKD" --check-config "$D/e/lurkd.conf" 2>&1)
	check "e: --check-config says the folder will be made, and whose it will be" \
		eval 'echo "$out" | grep -qF "unix socket $D/e/run/sub/lurkd.sock: mode 0660, owner $owner; lurkd will create $D/e/run/sub (mode 0750, owner $owner), and the missing folders above it from $D/e/run"'
	check "e: lurkd starts as root with user = nobody" lurkd_start "$D/e"
	check "e: the folder it made is $owner, mode 750 ($(stat -c '%U:%G %a' "$D/e/run/sub"))" \
		test "$(stat -c '%U:%G %a' "$D/e/run/sub")" = "$owner 750" -a \
		"$(stat -c '%U:%G %a' "$D/e/run")" = "$owner 750"
	check "e: so is the socket, mode 660 ($(stat -c '%U:%G %a' "$D/e/run/sub/lurkd.sock"))" \
		test "$(stat -c '%U:%G %a' "$D/e/run/sub/lurkd.sock")" = "$owner 660"
	check "e: a client reaches lurkd through it" quiet "$LURK_CLIENT" \
		-a "unix:$D/e/run/sub/lurkd.sock" -s "$SPUB" -k "$D/a.key" ping
	lurkd_stop "$D/e"
else
	for i in 1 2 3 4 5; do ok "# SKIP e: needs root and a user nobody"; done
fi
finish

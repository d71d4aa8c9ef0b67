#!/bin/bash
# lurkd's sd_notify messages (server/notify.c) as a service manager sees them:
# tests/notify-recv listens on the datagram socket NOTIFY_SOCKET names and
# writes each message as a line. In each mode (one process; as root, privilege
# separated with user = nobody):
#   - READY=1 with MAINPID= (the pid lurkd writes, its main process) comes once
#     lurkd serves: the moment it arrives, a signature over its socket works;
#   - SIGHUP gives RELOADING=1 then READY=1, also when the new file is refused;
#   - SIGTERM gives STOPPING=1.
# Then: an abstract socket name ('@...'), and a NOTIFY_SOCKET nobody listens
# on (logged, lurkd serves anyway). Every wait is on a line appearing, bounded.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
RECV="${top_builddir:-.}/tests/notify-recv"
make_tmpdir
D=$TEST_TMP
RECV_PID=""
stop_recv() {
	[ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null && wait "$RECV_PID" 2>/dev/null
	RECV_PID=""
}
trap 'stop_recv; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 24

lurkd_setup "$D" >/dev/null 2>&1 || exit 1
cp "$D/lurkd.conf" "$D/good.conf"

# start_recv NAME: a receiver on NAME writing to $D/notify.out.
start_recv() {
	rm -f "$D/notify.out" "$D/notify.out.ready"
	"$RECV" "$1" "$D/notify.out" 600 &
	RECV_PID=$!
	for _i in $(seq 1 1000); do
		[ -f "$D/notify.out.ready" ] && return 0
		kill -0 "$RECV_PID" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}
# count REGEX: lines of notify.out matching.
count() {
	grep -cE "$1" "$D/notify.out" 2>/dev/null || true
}
# wait_msg REGEX N: until N lines match (60 s at most).
wait_msg() {
	_end=$(($(date +%s) + 60))
	while [ "$(count "$1")" -lt "$2" ]; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.01
	done
}
# Line numbers of the messages, in the order they came.
line_of() { # REGEX N: the line number of the Nth match
	grep -nE "$1" "$D/notify.out" | sed -n "${2}p" | cut -d: -f1
}

# run_mode LABEL N: the whole sequence with the current lurkd.conf; N reloads
# logged by its end (the log is shared by the modes).
run_mode() {
	_m=$1
	start_recv "$D/notify.sock" || {
		not_ok "$_m: the receiver listens"
		return
	}
	rm -f "$D/lurkd.sock" "$D/lurkd.pid"
	NOTIFY_SOCKET="$D/notify.sock" "$LURKD" -c "$D/lurkd.conf" --pid-file "$D/lurkd.pid" \
		2>>"$D/lurkd.log" &
	echo $! >"$D/lurkd.bgpid"
	if wait_msg '^READY=1' 1; then
		# At once, before anything else: lurkd must already serve.
		if lc_q "$D" a sign ec256 ecdsa "$(rand_hex 32)"; then
			ok "$_m: READY=1 arrives, and lurkd serves when it does"
		else
			not_ok "$_m: READY=1 arrives, and lurkd serves when it does"
		fi
	else
		not_ok "$_m: READY=1 arrives, and lurkd serves when it does"
		sed 's/^/# /' "$D/lurkd.log"
	fi
	_main=$(sed -n 's/.*MAINPID=\([0-9]*\).*/\1/p' "$D/notify.out" | head -1)
	check "$_m: MAINPID= is the started process, the one the pid file names ($_main)" \
		sh -c "test -n '$_main' && test '$_main' = '$(cat "$D/lurkd.bgpid")' &&
			test '$_main' = '$(cat "$D/lurkd.pid" 2>/dev/null)'"
	check "$_m: STATUS= says it serves" grep -q '^READY=1 | MAINPID=[0-9]* | STATUS=serving$' \
		"$D/notify.out"

	kill -HUP "$(cat "$D/lurkd.bgpid")"
	if wait_msg '^READY=1' 2 && wait_msg '^RELOADING=1' 1; then
		check "$_m: SIGHUP gives RELOADING=1 (with MONOTONIC_USEC=) then READY=1" \
			sh -c "test $(line_of '^RELOADING=1 \| MONOTONIC_USEC=[0-9]+' 1) -lt $(line_of '^READY=1' 2)"
	else
		not_ok "$_m: SIGHUP gives RELOADING=1 (with MONOTONIC_USEC=) then READY=1"
	fi
	check "$_m: the reload was done" lurkd_wait_log "$D" "configuration reloaded" "$2"

	# A refused file: the service manager still hears READY=1 after RELOADING=1.
	printf 'this is not a setting\n' >>"$D/lurkd.conf"
	kill -HUP "$(cat "$D/lurkd.bgpid")"
	if wait_msg '^READY=1' 3 && wait_msg '^RELOADING=1' 2; then
		check "$_m: a refused reload still ends with READY=1 after RELOADING=1" \
			sh -c "test $(line_of '^RELOADING=1' 2) -lt $(line_of '^READY=1' 3)"
	else
		not_ok "$_m: a refused reload still ends with READY=1 after RELOADING=1"
	fi
	check "$_m: lurkd still serves" lc_q "$D" a sign ec256 ecdsa "$(rand_hex 32)"
	cp "$D/good.conf" "$D/lurkd.conf"

	check "$_m: SIGTERM stops lurkd" lurkd_stop "$D"
	check "$_m: SIGTERM gave STOPPING=1" wait_msg '^STOPPING=1' 1
	stop_recv
}

run_mode "one process" 1
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	sed -i 's/^workers = 2$/workers = 2\nuser = nobody/' "$D/lurkd.conf"
	cp "$D/lurkd.conf" "$D/good.conf"
	run_mode "privilege separated" 2
else
	for i in 1 2 3 4 5 6 7 8 9; do ok "# SKIP privilege separated: needs root and a user nobody"; done
fi
cp "$D/good.conf" "$D/lurkd.conf"
sed -i '/^user = nobody$/d' "$D/lurkd.conf"

# An abstract name.
start_recv "@lurk-notify-test-$$" || not_ok "the abstract receiver listens"
NOTIFY_SOCKET="@lurk-notify-test-$$" lurkd_start "$D" >/dev/null 2>&1
check "an abstract NOTIFY_SOCKET (@name) gets READY=1" wait_msg '^READY=1' 1
lurkd_stop "$D" >/dev/null 2>&1
check "and STOPPING=1 at SIGTERM" wait_msg '^STOPPING=1' 1
stop_recv

# Nobody listening: logged, not fatal.
n=$(lurkd_log_count "$D" "notify: cannot reach the service manager")
start_unheard() { NOTIFY_SOCKET="$D/nobody.sock" lurkd_start "$D"; }
check "with nobody at NOTIFY_SOCKET lurkd starts" start_unheard
check "and serves" lc_q "$D" a sign ec256 ecdsa "$(rand_hex 32)"
check "and logs that it could not notify" \
	test "$(lurkd_log_count "$D" "notify: cannot reach the service manager")" -gt "$n"
check "and stops at SIGTERM" lurkd_stop "$D"
finish

# Shared by the fault drills (tests/drills/drill-*.sh): a scratch folder,
# replicas of lurkd, the module's file, lurk-drill, bounded waits, figures
# and bars. Every process started here is recorded and killed at exit
# (SIGCONT first: a stopped process cannot act on SIGTERM).
#
#   drill_init NAME                 scratch folder $D, traps, a header line
#   drill_pki                       CA and the ec256 key in $D/pki (once per drill)
#   drill_replica NAME IP [TEXT]    $D/NAME: a static key, a port on IP, NAME/lurkd.conf
#                                   (client a allowed ec256; TEXT appended)
#   drill_start NAME [ulimit -n]    lurkd in the background; waits for socket and pid file
#   drill_stop NAME                 SIGTERM (SIGCONT first), waits, SIGKILL if it must
#   drill_kill9 NAME                SIGKILL, waits, removes the socket and pid file it left
#   drill_module_conf FILE NAME...  the module's file for client a, one [server] per NAME
#   drill_bg NAME CMD...            CMD in the background, output in $D/NAME.out/.err
#   drill_wait_bg NAME SECONDS      waits for it (bounded); 1 if it was still running
#   wait_for SECONDS CMD...         polls CMD every 50 ms, at most SECONDS; 1 on timeout
#   field FILE WORD KEY             KEY's value on the last line of FILE starting with WORD
#   figure TEXT                     prints one figure
#   bar TEXT CMD...                 asserts: "pass: TEXT" or "FAIL: TEXT"
#   drill_end                       exit status: 0 if every bar passed

. "${top_srcdir:-.}/tests/lib-pki.sh"

LURKD="${top_builddir:-.}/lurkd"
ADMIN="${top_builddir:-.}/lurk-admin"
LURK_DRILL="${top_builddir:-.}/tests/drills/lurk-drill"
LURK_FLOOD="${LURK_FLOOD:-${top_builddir:-.}/tests/lurk-flood}"
MODULE="$(cd "${top_builddir:-.}" && pwd)/.libs/lurk-pkcs11.so"
DRILL_FAILED=0
DRILL_BARS=0

now_ms() {
	date +%s%3N
}

# A process's start time (clock ticks since boot), which tells it from a
# later process that got the same id.
_proc_start() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# The processes we started, "PID START" a line, in $D/pids.
_drill_track() {
	echo "$1 $(_proc_start "$1")" >>"$D/pids"
}

# The tracked processes that are still the ones we started.
_drill_ours() {
	while read -r _p _s; do
		[ -n "$_s" ] && [ "$(_proc_start "$_p")" = "$_s" ] && echo "$_p"
	done <"$D/pids"
}

drill_cleanup() {
	_rc=$?
	trap - EXIT INT TERM
	if [ -f "$D/pids" ]; then
		_ours=$(_drill_ours)
		for _p in $_ours; do
			kill -CONT "$_p" 2>/dev/null
			kill -TERM "$_p" 2>/dev/null
		done
		for _p in $_ours; do
			for _i in $(seq 1 40); do
				_drill_gone "$_p" && break
				sleep 0.05
			done
			[ "$(_proc_start "$_p")" = "$(awk -v p="$_p" '$1 == p { print $2 }' "$D/pids" | tail -1)" ] &&
				kill -KILL "$_p" 2>/dev/null
			wait "$_p" 2>/dev/null
		done
	fi
	if [ -n "${DRILL_KEEP:-}" ]; then
		echo "# scratch folder kept: $D"
	else
		rm -rf "$D"
	fi
	exit $_rc
}

drill_init() {
	DRILL_NAME=$1
	D=$(mktemp -d "${TMPDIR:-/tmp}/lurk-drill.XXXXXX") || exit 1
	: >"$D/pids"
	trap drill_cleanup EXIT
	trap 'exit 130' INT TERM
	DRILL_T0=$(now_ms)
	echo "== $DRILL_NAME"
}

figure() {
	echo "   figure: $*"
}

bar() {
	_text=$1
	shift
	DRILL_BARS=$((DRILL_BARS + 1))
	if "$@"; then
		echo "   pass: $_text"
	else
		echo "   FAIL: $_text"
		DRILL_FAILED=$((DRILL_FAILED + 1))
	fi
}

drill_end() {
	echo "   ($DRILL_BARS bars, $DRILL_FAILED failed, $((($(now_ms) - DRILL_T0) / 1000)) s)"
	[ "$DRILL_FAILED" -eq 0 ]
}

# wait_for SECONDS CMD...: bounded polling for a state.
wait_for() {
	_end=$(($(now_ms) + $1 * 1000))
	shift
	while ! "$@"; do
		[ "$(now_ms)" -ge "$_end" ] && return 1
		sleep 0.05
	done
	return 0
}

# field FILE WORD KEY
field() {
	awk -v w="$2" -v k="$3" '$1 == w { for (i = 2; i <= NF; i++) { n = index($i, "=");
		if (substr($i, 1, n - 1) == k) v = substr($i, n + 1) } } END { print v }' "$1" 2>/dev/null
}

# A free TCP port on IP (best effort: from a range keyed by our pid).
drill_pick_port() {
	_p=$((21000 + ($$ * 13 + $2 * 101) % 28000))
	while (echo >"/dev/tcp/$1/$_p") 2>/dev/null || [ -e "$D/port.$_p" ]; do _p=$((_p + 1)); done
	: >"$D/port.$_p"
	echo "$_p"
}

# The PKI and client keys every replica of a drill shares.
drill_pki() {
	_dir=$D/pki
	mkdir -p "$_dir"
	certtool --generate-privkey --key-type ecdsa --curve secp256r1 \
		--outfile "$_dir/ca.key" >/dev/null 2>&1 || return 1
	_pki_template "$_dir/ca.tmpl" "lurk drill root CA" ca
	certtool --generate-self-signed --load-privkey "$_dir/ca.key" --template "$_dir/ca.tmpl" \
		--outfile "$_dir/int.pem" >/dev/null 2>&1 || return 1
	cp "$_dir/ca.key" "$_dir/int.key"
	make_key_cert "$_dir" ec256 --key-type ecdsa --curve secp256r1 || return 1
	"$ADMIN" genkey "$D/a.key" >"$D/a.pub" || return 1
}

# drill_replica NAME IP [TEXT]: a replica's folder, static key and lurkd.conf.
_drill_replica_n=0
drill_replica() {
	_n=$1
	_ip=$2
	_r=$D/$_n
	_drill_replica_n=$((_drill_replica_n + 1))
	mkdir -p "$_r"
	"$ADMIN" genkey "$_r/server.key" >"$_r/server.pub" || return 1
	echo "$_ip" >"$_r/ip"
	drill_pick_port "$_ip" "$_drill_replica_n" >"$_r/port"
	cat >"$_r/lurkd.conf" <<EOC
[server]
listen = unix:$_r/lurkd.sock
listen = tcp:$_ip:$(cat "$_r/port")
static-key = $_r/server.key
audit-log = $_r/audit.log
workers = 2
EOC
	[ -n "${3:-}" ] && printf '%s\n' "$3" | sed -n '/^\[/q;p' >>"$_r/lurkd.conf"
	cat >>"$_r/lurkd.conf" <<EOC

[key ec256]
source = $D/pki/ec256.key
chain = $D/pki/ec256-chain.pem

[client a]
public-key = $(cat "$D/a.pub")
keys = ec256
EOC
	# Sections of TEXT (from its first '[') go after ours.
	[ -n "${3:-}" ] && printf '%s\n' "$3" | sed -n '/^\[/,$p' >>"$_r/lurkd.conf"
	return 0
}

# The replica's address for the module and for raw clients.
drill_address() {
	echo "tcp:$(cat "$D/$1/ip"):$(cat "$D/$1/port")"
}

# Ready: its socket and pid file are there; or gone (then drill_start says so).
_drill_ready() {
	[ -S "$1/lurkd.sock" ] && [ -f "$1/lurkd.pid" ] && return 0
	_drill_gone "$(cat "$1/lurkd.bgpid")"
}

# drill_start NAME [NOFILE]: starts lurkd (with ulimit -n NOFILE when given).
drill_start() {
	_r=$D/$1
	rm -f "$_r/lurkd.sock" "$_r/lurkd.pid"
	# Started from a subshell that exits at once: not our child, so no job
	# notices when a drill kills it (it is polled with kill -0, not waited for).
	(
		if [ -n "${2:-}" ]; then
			ulimit -n "$2" || exit 1
		fi
		"$LURKD" -c "$_r/lurkd.conf" --pid-file "$_r/lurkd.pid" 2>>"$_r/lurkd.log" </dev/null &
		echo $! >"$_r/lurkd.bgpid"
	)
	_drill_track "$(cat "$_r/lurkd.bgpid")"
	if ! wait_for 30 _drill_ready "$_r" || ! [ -f "$_r/lurkd.pid" ]; then
		echo "   lurkd $1 did not start (in 30 s); its log:"
		sed 's/^/   | /' "$_r/lurkd.log"
		return 1
	fi
	return 0
}

drill_pid() {
	cat "$D/$1/lurkd.bgpid"
}

# Gone: no such process, or a zombie (lurkd is started from a subshell, so
# whoever adopted it reaps it, maybe late).
_drill_gone() {
	! kill -0 "$1" 2>/dev/null && return 0
	[ "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" = Z ]
}

drill_stop() {
	_p=$(drill_pid "$1")
	kill -CONT "$_p" 2>/dev/null
	kill -TERM "$_p" 2>/dev/null
	wait_for 10 _drill_gone "$_p" || kill -KILL "$_p" 2>/dev/null
	wait_for 10 _drill_gone "$_p"
	return 0
}

drill_kill9() {
	_p=$(drill_pid "$1")
	kill -KILL "$_p" 2>/dev/null
	wait_for 10 _drill_gone "$_p"
	rm -f "$D/$1/lurkd.sock" "$D/$1/lurkd.pid"
}

# drill_module_conf FILE NAME...: client a, timeout 2000 ms, connect-timeout 1000 ms.
drill_module_conf() {
	_f=$1
	shift
	printf '[module]\nclient-key = %s\nconnect-timeout = 1000\ntimeout = 2000\n' "$D/a.key" >"$_f"
	for _n in "$@"; do
		printf '\n[server %s]\naddress = %s\npublic-key = %s\n' "$_n" "$(drill_address "$_n")" \
			"$(cat "$D/$_n/server.pub")" >>"$_f"
	done
}

# drill_bg NAME CMD...: CMD in the background, tracked; stdout in $D/NAME.out, stderr in .err.
drill_bg() {
	_name=$1
	shift
	"$@" >"$D/$_name.out" 2>"$D/$_name.err" &
	echo $! >"$D/$_name.pid"
	_drill_track $!
}

# drill_wait_bg NAME SECONDS: waits for it; its status, or 124 if it ran past SECONDS (killed).
drill_wait_bg() {
	_p=$(cat "$D/$1.pid")
	if ! wait_for "$2" _drill_gone "$_p"; then
		kill -CONT "$_p" 2>/dev/null
		kill -KILL "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
		return 124
	fi
	wait "$_p"
}

# Signing has started: lurk-drill printed its go line and at least N signatures happened
# (counted from the replicas' audit logs).
drill_signing() { # OUTNAME N REPLICA...
	_o=$1
	_want=$2
	shift 2
	grep -q '^go ' "$D/$_o.out" 2>/dev/null || return 1
	_sum=0
	for _n in "$@"; do
		_sum=$((_sum + $(audit_count "$_n")))
	done
	[ "$_sum" -ge "$_want" ]
}

# Signatures a replica has logged (one audit record each).
audit_count() {
	_c=$(grep -c '"op":"sign".*"verdict":"allowed"' "$D/$1/audit.log" 2>/dev/null)
	echo "${_c:-0}"
}

# CPU time (user + system) of a process in ms, from /proc/PID/stat.
proc_cpu_ms() {
	_s=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	# After the name: state is field 1, utime 12, stime 13.
	set -- $_s
	echo $(((${12} + ${13}) * 1000 / $(getconf CLK_TCK)))
}

# VmRSS of a process in kB.
proc_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Open descriptors of a process.
proc_fds() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# Lines in a file (0 when it does not exist).
lines() {
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# Shows the tail of a file (for a failure's context), indented.
show_tail() {
	[ -f "$1" ] && tail -n "${2:-15}" "$1" | sed 's/^/   | /'
	return 0
}

# audit_ms NAME: the time of each signature replica NAME logged, ms since the epoch (UTC).
audit_ms() {
	sed -n 's/^{"time":"\([0-9-]*\)T\([0-9:.]*\)Z".*"op":"sign".*"verdict":"allowed".*/\1 \2/p' \
		"$D/$1/audit.log" 2>/dev/null |
		awk -F'[-: ]' '{ y = $1; m = $2; d = $3; if (m <= 2) { y--; m += 12 }
			days = 365 * y + int(y / 4) - int(y / 100) + int(y / 400) + int((153 * (m - 3) + 2) / 5) + d - 719469
			printf "%.0f\n", ((days * 24 + $4) * 60 + $5) * 60000 + $6 * 1000 }'
}

# count_between FILE FROM TO: lines of FILE (numbers) in [FROM, TO).
count_between() {
	awk -v a="$2" -v b="$3" '$1 >= a && $1 < b { n++ } END { print n + 0 }' "$1"
}

# file_mtime_ms FILE
file_mtime_ms() {
	stat -c '%.3Y' "$1" | tr -d .
}

# backoff_steps MS: how many backoff steps start within MS of a server's
# failure, the backoff doubling from 250 ms to at most 8 s (issue 13).
backoff_steps() {
	_t=0
	_d=250
	_n=0
	while [ "$_t" -lt "$1" ]; do
		_n=$((_n + 1))
		_t=$((_t + _d))
		_d=$((_d * 2 > 8000 ? 8000 : _d * 2))
	done
	echo "$_n"
}

# hold_ms MS: lets a chosen stretch of time pass (a drill's window, not a
# condition to wait for).
hold_ms() {
	_until=$(($(now_ms) + $1))
	while [ "$(now_ms)" -lt "$_until" ]; do sleep 0.05; done
}

# log_kinds FILE FROM TO: lines FROM..TO of a log grouped by kind (the text
# after "prog[pid]: level: " with every number made N), "COUNT KIND" lines,
# the most frequent first.
log_kinds() {
	sed -n "${2},${3}p" "$1" | sed -E 's/^[^ ]*\[[0-9]+\]: [a-z]+: //; s/[0-9]+/N/g' |
		sort | uniq -c | sort -rn | sed 's/^ *//'
}

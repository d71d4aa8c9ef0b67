# Starts a real lurkd for tests: PKI, Noise keys, lurkd.conf, and helpers.
#   lurkd_setup DIR          PKI in DIR/pki, server key, clients a and b, DIR/lurkd.conf
#   lurkd_start DIR [ARGS]   starts lurkd in the background, waits for its socket
#   lurkd_stop DIR           SIGTERM, waits for the exit
#   lc DIR CLIENT CMD...     runs lurk-client as CLIENT over the unix socket
#   lc_tcp DIR CLIENT CMD... the same over TCP loopback

. "${top_srcdir:-.}/tests/lib-pki.sh"

LURKD="${top_builddir:-.}/lurkd"
ADMIN="${top_builddir:-.}/lurk-admin"
LURK_CLIENT="${top_builddir:-.}/tests/lurk-client"

# A free TCP port on 127.0.0.1 (best effort: from a range keyed by our pid).
# Ports 20000-30999, below Linux's ephemeral range (32768 and up by
# default): a port in that range may be the local end of some connection
# (10,000 of them in the drills), which the probe below cannot see and
# bind(2) then refuses with "Address already in use".
lurkd_pick_port() {
	_p=$((20000 + ($$ * 7 + ${1:-0}) % 10000))
	while (echo >"/dev/tcp/127.0.0.1/$_p") 2>/dev/null; do _p=$((_p + 1)); done
	echo "$_p"
}

TLS13_PREFIX=$(printf '%064d' 0 | sed 's/0/20/g')$(printf 'TLS 1.3, server CertificateVerify' | od -An -tx1 | tr -d ' \n')00

# hex of a TLS 1.3 server CertificateVerify input with a hash of $1 bytes.
tls13_content() {
	_h=$(head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n')
	echo "$TLS13_PREFIX$_h"
}

# hex of a DigestInfo for SHA-256/384/512 over random data.
digest_info() {
	_d=$(head -c 100 /dev/urandom | sha"$1"sum | cut -d' ' -f1)
	case $1 in
	256) echo "3031300d060960864801650304020105000420$_d" ;;
	384) echo "3041300d060960864801650304020205000430$_d" ;;
	512) echo "3051300d060960864801650304020305000440$_d" ;;
	esac
}

rand_hex() {
	head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'
}

lurkd_write_conf() {
	# $1 dir; $2 extra text appended (clients, keys); uses DIR/port
	_d=$1
	cat >"$_d/lurkd.conf" <<EOC
[server]
listen = unix:$_d/lurkd.sock
listen = tcp:127.0.0.1:$(cat "$_d/port")
static-key = $_d/server.key
audit-log = $_d/audit.log
workers = 2
EOC
	for k in rsa2048 rsa3072 ec256 ec384 ec521 ed25519; do
		cat >>"$_d/lurkd.conf" <<EOC

[key $k]
source = $_d/pki/$k.key
chain = $_d/pki/$k-chain.pem
EOC
		if [ "$k" = rsa2048 ]; then echo "rsa-decrypt = yes" >>"$_d/lurkd.conf"; fi
	done
	cat >>"$_d/lurkd.conf" <<EOC

[client a]
public-key = $(cat "$_d/a.pub")
keys = rsa2048 rsa3072 ec256 ec384 ec521 ed25519

[client b]
public-key = $(cat "$_d/b.pub")
keys = ec384
EOC
	if [ -n "$2" ]; then printf '%s\n' "$2" >>"$_d/lurkd.conf"; fi
}

lurkd_setup() {
	_d=$1
	mkdir -p "$_d"
	make_pki "$_d/pki" || return 1
	"$ADMIN" genkey "$_d/server.key" >"$_d/server.pub" || return 1
	"$ADMIN" genkey "$_d/a.key" >"$_d/a.pub" || return 1
	"$ADMIN" genkey "$_d/b.key" >"$_d/b.pub" || return 1
	"$ADMIN" genkey "$_d/stranger.key" >"$_d/stranger.pub" || return 1
	lurkd_pick_port 1 >"$_d/port"
	lurkd_write_conf "$_d" ""
}

lurkd_start() {
	_d=$1
	shift
	rm -f "$_d/lurkd.sock"
	"$LURKD" -c "$_d/lurkd.conf" --pid-file "$_d/lurkd.pid" "$@" 2>>"$_d/lurkd.log" &
	echo $! >"$_d/lurkd.bgpid"
	# Waits on state: the socket and pid file appear once the keys are
	# loaded, or lurkd exits. The cap (60 s) only bounds a hang; under
	# ASan on a busy machine loading the keys took over 5 s.
	for _i in $(seq 1 1200); do
		[ -S "$_d/lurkd.sock" ] && [ -f "$_d/lurkd.pid" ] && return 0
		kill -0 "$(cat "$_d/lurkd.bgpid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "# lurkd did not start; log:" >&2
	sed 's/^/# /' "$_d/lurkd.log" >&2
	return 1
}

lurkd_stop() {
	_d=$1
	[ -f "$_d/lurkd.bgpid" ] || return 0
	_pid=$(cat "$_d/lurkd.bgpid")
	kill -TERM "$_pid" 2>/dev/null
	for _i in $(seq 1 100); do
		kill -0 "$_pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$_pid" 2>/dev/null; then
		kill -KILL "$_pid" 2>/dev/null
		wait "$_pid" 2>/dev/null
		rm -f "$_d/lurkd.bgpid"
		return 1
	fi
	wait "$_pid" 2>/dev/null
	_rc=$?
	rm -f "$_d/lurkd.bgpid"
	return $_rc
}

lc() {
	_d=$1
	_c=$2
	shift 2
	"$LURK_CLIENT" -a "unix:$_d/lurkd.sock" -s "$(cat "$_d/server.pub")" -k "$_d/$_c.key" "$@"
}

lc_tcp() {
	_d=$1
	_c=$2
	shift 2
	"$LURK_CLIENT" -a "tcp:127.0.0.1:$(cat "$_d/port")" -s "$(cat "$_d/server.pub")" \
		-k "$_d/$_c.key" "$@"
}

# The same, output discarded (for checks).
lc_q() {
	lc "$@" >/dev/null 2>&1
}

lc_tcp_q() {
	lc_tcp "$@" >/dev/null 2>&1
}

quiet() {
	"$@" >/dev/null 2>&1
}

# lurkd_log_count DIR REGEX: how many lines of DIR/lurkd.log match (grep -E).
lurkd_log_count() {
	grep -cE "$2" "$1/lurkd.log" 2>/dev/null || true
}

# lurkd_wait_log DIR REGEX N [SECONDS]: waits until N lines match (polls the
# log, bounded by SECONDS, default 60); 1 if they never do.
lurkd_wait_log() {
	_end=$(($(date +%s) + ${4:-60}))
	while [ "$(lurkd_log_count "$1" "$2")" -lt "$3" ]; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.02
	done
	return 0
}

# lurkd_reload DIR: SIGHUP to the pid in DIR/lurkd.pid, then waits until
# lurkd says it reloaded or refused the file.
LURKD_RELOADED='configuration reloaded|reload refused'
lurkd_reload() {
	_n=$(lurkd_log_count "$1" "$LURKD_RELOADED")
	kill -HUP "$(cat "$1/lurkd.pid")" || return 1
	lurkd_wait_log "$1" "$LURKD_RELOADED" $((_n + 1))
}

# lurkd_hold_reload DIR LC CLIENT NEWCONF: CLIENT holds a connection (LC is
# lc or lc_tcp; one ping on it) while DIR/lurkd.conf becomes NEWCONF and
# lurkd reloads, then pings on it again. What it saw goes to DIR/hold.out:
# "second ping: failed" when the reload closed the connection.
lurkd_hold_reload() {
	rm -f "$1/hold.release"
	"$2" "$1" "$3" hold "$1/hold.release" >"$1/hold.out" 2>&1 &
	_hold_pid=$!
	# Its first ping's line: the connection is up.
	for _i in $(seq 1 3000); do grep -q . "$1/hold.out" 2>/dev/null && break; sleep 0.02; done
	cp "$4" "$1/lurkd.conf"
	lurkd_reload "$1"
	touch "$1/hold.release"
	wait "$_hold_pid"
}

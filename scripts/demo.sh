#!/bin/bash
# lurk's main job in one command: a TLS server whose private keys it never
# holds. Installs what is missing, builds lurk, makes a demo CA with RSA,
# ECDSA P-256 and Ed25519 server certificates, starts lurkd (loopback and a
# unix socket) holding the keys, registers lurk-pkcs11.so with p11-kit,
# starts a GnuTLS HTTPS server whose keys are pkcs11: URIs served by lurk
# (and nginx through OpenSSL's pkcs11 engine where that is installed),
# makes real TLS handshakes against it and shows what happened, shows the
# Ed25519 key refusing to sign something that is no handshake; then openssl
# s_server on lurk-provider.so with an RSA key (a LURK KEY file), whose
# handshakes send lurkd the whole content, and the same key refusing a JWT
# for a client with require-content = yes, lurkd's reason read from the
# audit log — then keeps serving until interrupted (--check stops after the
# checks).
#
# Everything it makes lives in ./demo (the build in ./_build/demo); it
# listens on 127.0.0.1 only. It can run any number of times in a row: every
# wait is for this run's state (logs rotated first, the new process's own
# output, files it removed first), and bounded. SIGINT, SIGTERM and Ctrl-C
# stop everything it started.

# Started in the background by another shell (`bash scripts/demo.sh &`), it
# inherits SIGINT ignored, and bash cannot trap a signal ignored on entry:
# then it starts again (same pid) with SIGINT and SIGTERM set back
# to their defaults, so that `kill -INT` stops it.
ign=$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status 2>/dev/null)
if [ -z "${LURK_DEMO_REEXEC:-}" ] && [ $((0x${ign:-0} & 0x4002)) -ne 0 ] &&
	env --default-signal=INT true 2>/dev/null; then
	exec env --default-signal=INT,TERM LURK_DEMO_REEXEC=1 bash "$0" "$@"
fi
unset LURK_DEMO_REEXEC ign
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
check_only=0
[ "${1:-}" = "--check" ] && check_only=1
B="$top/_build/demo"
D="$top/demo"
jobs=$(nproc 2>/dev/null || echo 2)

say() { echo "demo: $*"; }

# --- The processes it starts ---------------------------------------------
# Each runs in the background, so that the shell acts on a signal at once
# (it would wait for a foreground command to end first); PIDS lists them as
# pid:name, in the order started. Services also go to $D/demo.pids, so that
# a run can stop what a killed run left behind.
PIDS=()
spawn() { # spawn NAME LOG CMD...: sets PID
	local name=$1 log=$2
	shift 2
	: >"$log"
	"$@" >"$log" 2>&1 </dev/null &
	PID=$!
	PIDS+=("$PID:$name")
}
service() { # service NAME LOG CMD...: the same in a process group of its own
	spawn "$1" "$2" setsid "${@:3}"
	echo "$PID" >>"$D/demo.pids"
}
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "${p%%:*}" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}
alive() {
	local p
	for p; do kill -0 -- "$p" 2>/dev/null && return 0; done
	return 1
}
# stop PID: SIGTERM to it, its descendants and its process group (when it
# leads one); up to 10 s for all of them to exit, then SIGKILL.
stop() {
	local all i
	alive "$1" || return 0
	all="$1 $(descendants "$1" || true)"
	if [ "$(ps -o pgid= -p "$1" | tr -d ' ')" = "$1" ]; then all="$all -$1"; fi
	# shellcheck disable=SC2086
	kill -TERM -- $all 2>/dev/null || true
	for i in $(seq 1 100); do
		# shellcheck disable=SC2086
		alive $all || return 0
		sleep 0.1
	done
	echo "demo: pid $1 did not stop on SIGTERM; killing it" >&2
	# shellcheck disable=SC2086
	kill -KILL -- $all 2>/dev/null || true
}
# ours PID: PID is alive and its command line names the demo's directories.
ours() {
	local cmd
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	cmd=" $(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) "
	case $cmd in *"$D/"* | *"$D "* | *"$B/"* | *"$B "*) return 0 ;; esac
	return 1
}

cleanup() {
	local rc=$? i
	trap '' INT TERM HUP
	set +e
	if [ ${#PIDS[@]} -gt 0 ]; then
		say "stopping what it started: $(printf "%s, " "${PIDS[@]#*:}" | sed "s/, $//")…"
		for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop "${PIDS[i]%%:*}"; done
	fi
	rm -f "$D/lurkd.sock" "$D/lurkd.pid" "$D/nginx/nginx.pid" "$D/demo.pids" "$D/demo.pid"
	[ $rc -ge 128 ] && say "stopped (signal $((rc - 128)))."
	exit $rc
}

# --- One demo at a time; what a killed one left behind ---------------------
say "lurk's demo; it makes everything in $D, and builds in $B"
mkdir -p "$D" "$B"
chmod 711 "$D"
other=$(cat "$D/demo.pid" 2>/dev/null || true)
if [ -n "$other" ] && [ "$other" != $$ ] && kill -0 "$other" 2>/dev/null &&
	tr '\0' ' ' <"/proc/$other/cmdline" 2>/dev/null | grep -q 'demo\.sh'; then
	echo "demo: another demo is running (pid $other); stop it first: kill $other" >&2
	exit 1
fi
echo $$ >"$D/demo.pid"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
for f in "$D/demo.pids" "$D/lurkd.pid" "$D/lurkd.bgpid" "$D/nginx/nginx.pid"; do
	for p in $(cat "$f" 2>/dev/null || true); do
		if ours "$p"; then
			say "stopping pid $p, left by an earlier run"
			stop "$p"
		fi
	done
done
rm -f "$D/demo.pids" "$D/lurkd.bgpid"

# --- Installing and building -----------------------------------------------
# step WHAT LOG FILTER CMD...: runs CMD with its output in LOG; shows the
# lines the sed script FILTER prints as they come, a line every 10 s when
# there is nothing else to show, and the end of LOG if CMD fails.
step() {
	local what=$1 log=$2 filter=$3 shown=0 n t0=$SECONDS quiet=$SECONDS rc=0 pid running errors
	shift 3
	spawn "$what" "$log" "$@"
	pid=$PID
	while :; do
		running=0
		if kill -0 "$pid" 2>/dev/null; then running=1; fi
		n=$(wc -l <"$log")
		if [ "$n" -gt "$shown" ]; then
			if sed -n "$((shown + 1)),${n}p" "$log" | sed -n "$filter" | grep .; then
				quiet=$SECONDS
			fi
			shown=$n
		fi
		[ $running -eq 1 ] || break
		if [ $((SECONDS - quiet)) -ge 10 ]; then
			say "  … still $what ($((SECONDS - t0)) s)"
			quiet=$SECONDS
		fi
		sleep 0.5
	done
	wait "$pid" || rc=$?
	forget "$pid"
	if [ $rc -ne 0 ]; then
		echo "demo: $what failed (exit $rc); from $log:" >&2
		errors=$(grep -E ': (fatal )?error:|\*\*\*' "$log" | head -n 12 || true)
		if [ -z "$errors" ]; then errors=$(tail -n 25 "$log"); fi
		echo "$errors" | sed 's/^/  | /' >&2
		exit 1
	fi
}

# deps.sh stays in this process group: sudo may need the terminal.
say "checking Debian packages (scripts/deps.sh; installing takes a few minutes)…"
step "checking packages" "$D/deps.log" 's/^/demo:   /p' sh scripts/deps.sh
if [ ! -f configure ]; then
	say "generating the build system (autogen.sh)…"
	step "running autogen.sh" "$B/autogen.log" '' setsid ./autogen.sh
fi
if [ ! -f "$B/Makefile" ] || [ ! -f "$B/config.status" ]; then
	say "configuring lurk in $B (about 30 s)…"
	step "configuring" "$B/configure.log" 's/^\(configure: error.*\)/demo:   \1/p' \
		setsid sh -c 'cd "$1" && "$2/configure"' sh "$B" "$top"
fi
say "building lurk (make -j$jobs: about a minute the first time, one line per file compiled)…"
t0=$SECONDS
step "building" "$B/make.log" 's/^  *\(CC\|CCLD\|GEN\|AR\)  *\(.*\)$/demo:   \1 \2/p' \
	setsid make -C "$B" -j"$jobs"
say "lurk is built ($((SECONDS - t0)) s)."

# --- lurkd -----------------------------------------------------------------
export top_srcdir="$top" top_builddir="$B"
. "$top/tests/lib-lurkd.sh"
port_open() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { # free_port FROM: the first port from FROM nothing listens on
	local p=$1
	while port_open "$p" && [ "$p" -lt $(($1 + 100)) ]; do p=$((p + 1)); done
	echo "$p"
}
# wait_for WHAT PID LOG TEST...: up to 20 s for TEST to succeed while PID lives.
wait_for() {
	local what=$1 pid=$2 log=$3 i
	shift 3
	for i in $(seq 1 200); do
		if "$@"; then return 0; fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "demo: $what exited; the end of $log:" >&2
			tail -n 15 "$log" 2>/dev/null | sed 's/^/  | /' >&2
			return 1
		fi
		sleep 0.1
	done
	echo "demo: $what not ready after 20 s; the end of $log:" >&2
	tail -n 15 "$log" 2>/dev/null | sed 's/^/  | /' >&2
	return 1
}

remake=0
for c in "$D"/pki/*.pem; do
	[ -f "$c" ] || continue
	openssl x509 -noout -checkend 86400 -in "$c" >/dev/null 2>&1 || remake=1
done
# Made before keyEncipherment was kept for rsa-decrypt keys only (rsa2048): made again.
if [ -f "$D/pki/rsa3072.pem" ] &&
	openssl x509 -noout -ext keyUsage -in "$D/pki/rsa3072.pem" 2>/dev/null | grep -q "Key Encipherment"; then
	remake=1
fi
if [ ! -f "$D/lurkd.conf" ] || [ ! -f "$D/pki/ca.pem" ] || [ $remake -eq 1 ]; then
	say "making the demo CA, certificates and Noise keys in $D…"
	rm -rf "$D/pki" "$D"/*.key "$D"/*.pub "$D/lurkd.conf"
	lurkd_setup "$D" >"$D/setup.log" 2>&1 || {
		echo "demo: making the demo keys failed; the end of $D/setup.log:" >&2
		tail -n 15 "$D/setup.log" | sed 's/^/  | /' >&2
		exit 1
	}
fi
if port_open "$(cat "$D/port")"; then
	lurkd_pick_port 1 >"$D/port"
	say "lurkd's port was taken; it now listens on $(cat "$D/port")"
fi
# A third client, "openssl", for the OpenSSL server on lurk-provider.so: it
# sends lurkd the whole signed content, so its [client] has require-content
# = yes and lurkd refuses it any bare hash, whatever the key.
if [ ! -s "$D/openssl.key" ] || [ ! -s "$D/openssl.pub" ]; then
	"$ADMIN" genkey "$D/openssl.key" >"$D/openssl.pub"
fi
lurkd_write_conf "$D" "
[client openssl]
public-key = $(cat "$D/openssl.pub")
keys = rsa2048 ec256
require-content = yes"
for f in lurkd.log audit.log; do
	if [ -f "$D/$f" ]; then mv -f "$D/$f" "$D/$f.1"; fi
done
rm -f "$D/lurkd.sock" "$D/lurkd.pid"
say "starting lurkd…"
service lurkd "$D/lurkd.log" "$LURKD" -c "$D/lurkd.conf" --pid-file "$D/lurkd.pid"
LURKD_PID=$PID
# Ready when it says so; its new socket and pid file do, 5 s on, if it never
# does (a privilege-separated lurkd makes them before its child is ready).
t0=$SECONDS
lurkd_ready() {
	grep -q "lurkd ready" "$D/lurkd.log" ||
		{ [ $((SECONDS - t0)) -ge 5 ] && [ -S "$D/lurkd.sock" ] && [ -s "$D/lurkd.pid" ]; }
}
wait_for lurkd "$LURKD_PID" "$D/lurkd.log" lurkd_ready || exit 1
echo
echo "1. lurkd holds the keys (pid $(cat "$D/lurkd.pid" 2>/dev/null || echo "$LURKD_PID")), on unix:$D/lurkd.sock and tcp:127.0.0.1:$(cat "$D/port")"

# The TLS server's side: the module, its file, its client key, and p11-kit's
# registration (a user config; p11-kit reads none for root, so as root the
# server runs as nobody).
U="$D/tls-server"
mkdir -p "$U/home/.config/pkcs11/modules"
cp "$B/.libs/lurk-pkcs11.so" "$U/lurk-pkcs11.so"
cp "$D/a.key" "$U/client.key"
cat >"$U/lurk-pkcs11.conf" <<EOF
[module]
client-key = $U/client.key

[server local]
address = tcp:127.0.0.1:$(cat "$D/port")
public-key = $(cat "$D/server.pub")

# OpenSSL's pkcs11 engine (libp11 0.4) cannot share a token with an Ed25519 key.
[token main]
label = lurk
key-types = rsa, ec

[token edwards]
label = lurk-ed25519
key-types = ed25519
EOF
sed "s|@MODULE@|$U/lurk-pkcs11.so|; s|@SYSCONF@|/etc|" "$top/pkcs11-conf/lurk.module.in" \
	>"$U/home/.config/pkcs11/modules/lurk.module"
RUN=
if [ "$(id -u)" -eq 0 ]; then
	chown -R 65534:65534 "$U"
	RUN="setpriv --reuid=65534 --regid=65534 --clear-groups --"
fi
chmod 600 "$U/client.key"
export HOME="$U/home" LURK_PKCS11_CONF="$U/lurk-pkcs11.conf"
unset XDG_CONFIG_HOME
echo "2. lurk-pkcs11.so registered with p11-kit: $U/home/.config/pkcs11/modules/lurk.module"
$RUN timeout 20 p11-kit list-modules 2>/dev/null | grep -A1 "^lurk:" | sed 's/^/     /' || true

PORT=$(free_port 8443)
uri() { echo "pkcs11:token=$1;object=$2;type=$3"; }
rm -f "$D/tls-server.log"
service lurk-tls-serv "$D/tls-server.log" $RUN "$B/tests/lurk-tls-serv" --port "$PORT" \
	--cert "$(uri lurk rsa2048 cert)" --key "$(uri lurk rsa2048 private)" \
	--cert "$(uri lurk ec256 cert)" --key "$(uri lurk ec256 private)" \
	--cert "$(uri lurk-ed25519 ed25519 cert)" --key "$(uri lurk-ed25519 ed25519 private)"
SERV=$PID
tls_ready() { grep -q "^listening" "$D/tls-server.log"; }
wait_for lurk-tls-serv "$SERV" "$D/tls-server.log" tls_ready || exit 1
echo "3. a GnuTLS HTTPS server on 127.0.0.1:$PORT with keys $(uri lurk ec256 private) etc."
echo

# audit_after N: lurkd's newest sign line once the audit log has more than N
# (up to 5 s: the audit writer flushes each line shortly after the reply).
signs() { grep -c '"op":"sign"' "$D/audit.log" 2>/dev/null || true; }
audit_after() {
	local i n
	for i in $(seq 1 50); do
		n=$(signs)
		if [ "${n:-0}" -gt "$1" ]; then
			grep '"op":"sign"' "$D/audit.log" | tail -1
			return 0
		fi
		sleep 0.1
	done
	echo "(no new audit line)"
}
# audit_desc LINE: an audit line, readably, and what lurkd was given: a
# hash-only mechanism gives it a bare hash (its form is checked, not what
# was hashed); the others give it the whole content, checked to be a
# TLS handshake's (docs/policy.md).
audit_desc() {
	local c k m n v r what
	case $1 in *'"verdict"'*) ;; *)
		echo "$1"
		return
		;;
	esac
	IFS=$'\t' read -r c k m n v r < <(sed 's/.*"client":"\([^"]*\)","key":"\([^"]*\)",.*"mechanism":"\([^"]*\)".*"input_len":\([0-9]*\),"verdict":"\([^"]*\)"\(,"reason":"\([^"]*\)"\)\{0,1\}.*/\1\t\2\t\3\t\4\t\5\t\7/' <<<"$1")
	case $m in
	CKM_ECDSA | CKM_RSA_PKCS | CKM_RSA_PKCS_PSS) what="a bare hash" ;;
	*) what="the whole content" ;;
	esac
	echo "client $c, key $k, $m over $n bytes ($what): $v${r:+ ($r)}"
}
# handshake LABEL PRIORITY: a verified handshake; what it used; lurkd's audit line.
handshake() {
	local before out desc subject
	before=$(signs)
	out=$(echo | timeout --foreground 20 gnutls-cli --x509cafile "$D/pki/ca.pem" --port "$PORT" \
		--priority "$2" localhost 2>&1) || true
	desc=$(echo "$out" | sed -n 's/^- Description: //p')
	subject=$(echo "$out" | sed -n "s/^ - subject \`\(.*\)', issuer.*/\1/p" | head -1)
	if [ -z "$desc" ] || ! echo "$out" | grep -q "The certificate is trusted"; then
		echo "   $1: FAILED"
		echo "$out" | tail -5 | sed 's/^/     /'
		return 1
	fi
	echo "   $1"
	echo "     session:     $desc"
	echo "     certificate: $subject (chain verified against $D/pki/ca.pem)"
	echo "     lurkd audit: $(audit_desc "$(audit_after "${before:-0}")")"
}
T13="NORMAL:-VERS-ALL:+VERS-TLS1.3"
echo "4. handshakes (gnutls-cli, verifying the chain). For RSA and ECDSA keys GnuTLS and"
echo "   OpenSSL's pkcs11 engine give lurkd a bare hash: it checks the hash's form, never"
echo "   what was hashed. For Ed25519 GnuTLS gives it the whole content, which it checks."
failed=0
handshake "TLS 1.3, ECDSA P-256" "$T13:-SIGN-ALL:+SIGN-ECDSA-SECP256R1-SHA256" || failed=1
handshake "TLS 1.3, RSA-PSS 2048" "$T13:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA256" || failed=1
handshake "TLS 1.3, Ed25519" "$T13:-SIGN-ALL:+SIGN-EDDSA-ED25519" || failed=1
handshake "TLS 1.2, ECDHE-RSA (PKCS#1)" "NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:+SIGN-RSA-SHA256" || failed=1

# nginx through OpenSSL's pkcs11 engine, where it is installed. The master
# loads the key (reading the module's file); the workers sign after fork.
ENGINE=$(ls /usr/lib/*/engines-3/pkcs11.so 2>/dev/null | head -1 || true)
NGINX_PORT=
if [ -n "$ENGINE" ] && command -v nginx >/dev/null 2>&1; then
	N="$D/nginx"
	mkdir -p "$N/logs"
	NGINX_PORT=$(free_port $((PORT + 1)))
	printf '%s\n' "openssl_conf = openssl_init" "[openssl_init]" "engines = engine_section" \
		"[engine_section]" "pkcs11 = pkcs11_section" "[pkcs11_section]" "engine_id = pkcs11" \
		"dynamic_path = $ENGINE" "MODULE_PATH = $U/lurk-pkcs11.so" "init = 1" >"$N/openssl.cnf"
	{
		[ "$(id -u)" -eq 0 ] && echo "user nobody nogroup;"
		echo "worker_processes 1; error_log $N/logs/error.log warn; pid $N/nginx.pid;"
		echo "events { worker_connections 64; }"
		echo "http { access_log off;"
		echo "  client_body_temp_path $N/t1; proxy_temp_path $N/t2; fastcgi_temp_path $N/t3;"
		echo "  uwsgi_temp_path $N/t4; scgi_temp_path $N/t5;"
		echo "  server { listen 127.0.0.1:$NGINX_PORT ssl;"
		echo "    ssl_certificate $D/pki/ec256-chain.pem;"
		echo "    ssl_certificate_key \"engine:pkcs11:pkcs11:token=lurk;object=ec256;type=private\";"
		echo "    location / { return 200 \"nginx, key held by lurk\\n\"; } } }"
	} >"$N/nginx.conf"
	if [ -f "$N/logs/error.log" ]; then mv -f "$N/logs/error.log" "$N/logs/error.log.1"; fi
	rm -f "$N/nginx.pid"
	# In the foreground (daemon off): its master is our child, in its own group.
	service nginx "$N/start.log" env OPENSSL_CONF="$N/openssl.cnf" \
		nginx -p "$N" -c "$N/nginx.conf" -g "daemon off;"
	NGINX_PID=$PID
	nginx_ready() { [ "$(cat "$N/nginx.pid" 2>/dev/null)" = "$NGINX_PID" ]; }
	if wait_for nginx "$NGINX_PID" "$N/start.log" nginx_ready; then
		before=$(signs)
		body=$(curl -s --max-time 20 --cacert "$D/pki/ca.pem" "https://localhost:$NGINX_PORT/" 2>&1 || true)
		echo "   nginx (OpenSSL pkcs11 engine), key ec256 from lurk, 127.0.0.1:$NGINX_PORT"
		echo "     curl:        $body"
		echo "     lurkd audit: $(audit_desc "$(audit_after "${before:-0}")")"
		[ "$body" = "nginx, key held by lurk" ] || failed=1
	else
		echo "   nginx did not start:"
		tail -5 "$N/logs/error.log" 2>/dev/null | sed 's/^/     /'
		failed=1
	fi
fi
echo

# The same key cannot be used to sign anything else.
echo "5. the same Ed25519 key asked to sign something that is not a handshake:"
printf 'transfer 1000 EUR to account 42' >"$D/not-a-handshake.txt"
id=$(timeout 20 pkcs11-tool --module "$B/.libs/lurk-pkcs11.so" --token-label lurk-ed25519 -O \
	--type privkey 2>/dev/null | sed -n 's/^ *ID: *//p' | head -1 || true)
if $RUN timeout 20 pkcs11-tool --module "$U/lurk-pkcs11.so" --token-label lurk-ed25519 \
	--sign -m EDDSA --id "$id" -i "$D/not-a-handshake.txt" -o "$D/sig.bin" >"$D/refused.out" 2>&1; then
	echo "   signed (unexpected!)"
	failed=1
else
	refused() { grep -q 'refused sign' "$D/lurkd.log"; }
	if wait_for lurkd "$LURKD_PID" "$D/lurkd.log" refused; then
		echo "   refused; lurkd says: $(grep 'refused sign' "$D/lurkd.log" | tail -1 | sed 's/.*mechanism //')"
	else
		echo "   refused, but lurkd logged no refusal; pkcs11-tool said:"
		tail -3 "$D/refused.out" | sed 's/^/     /'
		failed=1
	fi
fi
echo

# --- OpenSSL programs: lurk-provider.so ------------------------------------
# GnuTLS and the pkcs11 engine hand lurkd a bare hash for RSA and ECDSA keys
# (above), which lurkd cannot tell from the hash of a JWT. An OpenSSL 3
# program on lurk-provider.so sends the whole content instead: here openssl
# s_server, its key a LURK KEY file (docs/provider.md), as client "openssl"
# (require-content = yes), over TCP.
P="$D/openssl-server"
rm -rf "$P"
mkdir -p "$P"
cp "$B/.libs/lurk-provider.so" "$P/lurk-provider.so"
cp "$D/openssl.key" "$P/client.key"
cp "$D/pki/rsa2048.pem" "$D/pki/int.pem" "$P/"
cat >"$P/client.conf" <<EOC
[module]
client-key = $P/client.key

[server local]
address = tcp:127.0.0.1:$(cat "$D/port")
public-key = $(cat "$D/server.pub")
EOC
cat >"$P/openssl.cnf" <<EOC
openssl_conf = openssl_init
config_diagnostics = 1
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
lurk = lurk_sect
[default_sect]
activate = 1
[lurk_sect]
module = $P/lurk-provider.so
activate = 1
EOC
# The LURK KEY file: the configuration, lurkd's name of the key, its public key.
{
	echo "lurk-key 1"
	echo "config $P/client.conf"
	echo "key rsa2048"
	echo "spki $(OPENSSL_CONF=/dev/null openssl x509 -in "$P/rsa2048.pem" -pubkey -noout |
		OPENSSL_CONF=/dev/null openssl pkey -pubin -outform DER | base64 -w0)"
} >"$P/rsa2048.body"
{
	echo "-----BEGIN LURK KEY-----"
	base64 -w64 <"$P/rsa2048.body"
	echo "-----END LURK KEY-----"
} >"$P/rsa2048.lurk"
# A JWT (RS256) someone holding the client's credential would like signed.
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
jwt="$(printf '{"alg":"RS256","typ":"JWT"}' | b64url).$(printf '{"sub":"mallory","admin":true}' | b64url)"
printf '%s' "$jwt" >"$P/jwt.txt"
OPENSSL_CONF=/dev/null openssl dgst -sha256 -binary "$P/jwt.txt" >"$P/jwt.sha256"
if [ -n "$RUN" ]; then chown -R 65534:65534 "$P"; fi
chmod 600 "$P/client.key"

OPORT=$(free_port $((PORT + 2)))
service "openssl s_server" "$D/s_server.log" $RUN env OPENSSL_CONF="$P/openssl.cnf" \
	openssl s_server -accept "127.0.0.1:$OPORT" -key "$P/rsa2048.lurk" -cert "$P/rsa2048.pem" \
	-cert_chain "$P/int.pem" -www
OSERV=$PID
s_server_ready() { grep -q "^ACCEPT" "$D/s_server.log"; }
echo "6. an OpenSSL program on lurk-provider.so: openssl s_server on 127.0.0.1:$OPORT, with OPENSSL_CONF"
echo "   naming the provider and -key $P/rsa2048.lurk, a LURK KEY file"
echo "   (the key server's configuration, the key's name, its public key: no secret);"
echo "   it is lurkd's client \"openssl\", whose [client] has require-content = yes."
# s_client LABEL MECH ARGS...: a verified handshake; what it used; lurkd's audit line,
# which must show MECH over more bytes than any hash.
s_client() {
	local label=$1 mech=$2 before out line
	shift 2
	before=$(signs)
	out=$(echo | OPENSSL_CONF=/dev/null timeout --foreground 20 openssl s_client \
		-connect "127.0.0.1:$OPORT" -servername rsa2048.lurk.test -CAfile "$D/pki/ca.pem" \
		-verify_return_error "$@" 2>&1) || true
	line=$(audit_after "${before:-0}")
	if ! echo "$out" | grep -q "Verify return code: 0 (ok)" ||
		! echo "$line" | grep -q "\"client\":\"openssl\",\"key\":\"rsa2048\",\"op\":\"sign\",\"mechanism\":\"$mech\",.*\"input_len\":\([7-9][0-9]\|[1-9][0-9][0-9]\),\"verdict\":\"allowed\""; then
		echo "   $label: FAILED"
		echo "$out" | grep -iE "error|verify|^New" | head -5 | sed 's/^/     /'
		echo "     lurkd audit: $line"
		tail -3 "$D/s_server.log" | sed 's/^/     server: /'
		return 1
	fi
	echo "   $label"
	echo "     session:     $(echo "$out" | sed -n 's/^New, //p' | head -1), peer signature $(echo "$out" |
		sed -n 's/^Peer signature type: //p' | head -1)"
	echo "     certificate: $(echo "$out" | sed -n 's/^subject=//p' | head -1) (chain verified against $D/pki/ca.pem)"
	echo "     lurkd audit: $(audit_desc "$line")"
}
if wait_for "openssl s_server" "$OSERV" "$D/s_server.log" s_server_ready; then
	s_client "TLS 1.3, RSA-PSS 2048 (the whole CertificateVerify input)" CKM_SHA256_RSA_PKCS_PSS \
		-tls1_3 || failed=1
	s_client "TLS 1.2, ECDHE-RSA PKCS#1 (the whole ServerKeyExchange block)" CKM_SHA256_RSA_PKCS \
		-tls1_2 -sigalgs RSA+SHA256 || failed=1
else
	failed=1
fi
echo

# The same key, the same credential, asked to sign a JWT: as a bare SHA-256
# (how RS256 is made with a key in an HSM) and as the whole JWT.
refusals() { grep -c '"client":"openssl",.*"verdict":"refused"' "$D/audit.log" 2>/dev/null || true; }
# refused_after N: lurkd's newest refusal for client openssl once there are more than N.
refused_after() {
	local i
	for i in $(seq 1 50); do
		if [ "$(refusals)" -gt "$1" ]; then
			grep '"client":"openssl",.*"verdict":"refused"' "$D/audit.log" | tail -1
			return 0
		fi
		sleep 0.1
	done
	echo "(no new refusal in the audit log)"
}
# jwt_sign LABEL REASON ARGS...: openssl pkeyutl -sign through the LURK KEY file fails,
# and the audit log has lurkd's refusal with REASON.
jwt_sign() {
	local label=$1 reason=$2 before line
	shift 2
	before=$(refusals)
	rm -f "$P/jwt.sig"
	if $RUN env OPENSSL_CONF="$P/openssl.cnf" timeout 20 openssl pkeyutl -sign \
		-inkey "$P/rsa2048.lurk" -out "$P/jwt.sig" "$@" >"$D/jwt.out" 2>&1; then
		echo "   $label: signed (unexpected!)"
		return 1
	fi
	line=$(refused_after "${before:-0}")
	echo "   $label: refused"
	echo "     openssl:     $(grep -m1 -o 'lurkd refused sign.*' "$D/jwt.out" || tail -1 "$D/jwt.out")"
	echo "     lurkd audit: $(audit_desc "$line")"
	echo "$line" | grep -q "\"reason\":\"$reason\"" || {
		echo "     (expected the reason: $reason)"
		return 1
	}
}
echo "7. the same RSA key, for the same client, asked to sign a JWT (RS256) instead:"
echo "     $jwt"
jwt_sign "openssl pkeyutl -sign, its SHA-256 (a bare hash)" \
	"client requires whole content, got a bare hash" \
	-in "$P/jwt.sha256" -pkeyopt digest:sha256 || failed=1
jwt_sign "openssl pkeyutl -sign -rawin, the JWT itself (whole content)" \
	"not a TLS handshake signature input" \
	-rawin -digest sha256 -in "$P/jwt.txt" || failed=1
echo "   (client a, the GnuTLS server's, has no require-content: GnuTLS sends RSA and ECDSA"
echo "   handshakes as bare hashes, so lurkd would sign that hash for it; docs/policy.md)"
echo
if [ $failed -ne 0 ]; then
	echo "demo: something failed (logs: $D/lurkd.log, $D/audit.log, $D/tls-server.log, $D/s_server.log)" >&2
	exit 1
fi
if [ $check_only -eq 1 ]; then
	echo "demo check done."
	exit 0
fi
echo "lurk keeps serving. Connect with:"
echo "  curl --cacert $D/pki/ca.pem https://localhost:$PORT/"
[ -n "$NGINX_PORT" ] && echo "  curl --cacert $D/pki/ca.pem https://localhost:$NGINX_PORT/    (nginx)"
echo "  curl --cacert $D/pki/ca.pem https://localhost:$OPORT/    (openssl s_server on lurk-provider.so)"
echo "Ctrl-C (or kill $$) stops it."
# wait is interrupted by a signal, which the traps above turn into an exit.
services=()
for p in "${PIDS[@]}"; do services+=("${p%%:*}"); done
rc=0
wait -n "${services[@]}" || rc=$?
for p in "${PIDS[@]}"; do
	kill -0 "${p%%:*}" 2>/dev/null || echo "demo: ${p#*:} exited (status $rc); stopping" >&2
done
exit 1

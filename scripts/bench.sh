#!/bin/bash
# The benchmark (issues 7 and 15, docs/benchmark.md): `make bench`, or
#   bash scripts/bench.sh [BUILD_DIR]        (default: _build/bench, built if needed)
# Starts lurkd (unix socket and TCP loopback), a SoftHSM2 token with the same
# keys, `p11-kit server` exposing that token, gnutls-serv and nginx; then
# measures, each cell BENCH_REPS times (median and spread in the report):
#   sign    signatures at 1, 2 and 8 threads six ways: in-process OpenSSL and
#           GnuTLS, lurk over a unix socket and TCP, SoftHSM2, p11-kit
#           remoting; the server's CPU per signature where there is a server
#   tls     TLS 1.3 full handshakes/s at 1 and 8 clients (lurk-bench hs, on
#           OpenSSL's libssl) against gnutls-serv and nginx, key in a file vs
#           in lurk
#   connect the Noise connect cost
#   idle    lurkd's memory with 10,000 idle connections
#   audit   the audit log's cost (no audit log / group commit / audit-sync)
#   split   split keys (issue 18): an Ed25519 and an RSA-2048 key split with
#           `lurk-admin split`, their shares in a second pair of lurkd (unix
#           sockets), signed through the module (share = 1 / share = 2
#           servers) at 1 and 8 threads, way lurk-split, beside lurk-unix
#           (measured here too when the sign section does not run)
# Writes bench-results/{results.csv,results.md,throughput.png}.
# Environment: BENCH_SECONDS (default 3) each cell's duration; BENCH_REPS
# (default 3); BENCH_ONLY, a comma list of the sections above (default all;
# BENCH_ONLY=split runs the split-key rows and the whole-key rows they are
# compared with, nothing else);
# BENCH_THREADS (default "1 2 8") and BENCH_ALGS (default "ecdsa ed25519 rsa")
# for the sign section.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
B=${1:-$top/_build/bench}
SECS=${BENCH_SECONDS:-3}
REPS=${BENCH_REPS:-3}
ONLY=${BENCH_ONLY:-sign,tls,connect,idle,audit,split}
THREADS=${BENCH_THREADS:-1 2 8}
ALGS=${BENCH_ALGS:-ecdsa ed25519 rsa}
OUT=$top/bench-results
START=$(date +%s)
mkdir -p "$OUT"
want() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

if ! command -v gnuplot >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then
		apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
	elif command -v sudo >/dev/null 2>&1; then
		sudo apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
	fi
fi
if [ ! -x "$B/bench/lurk-bench" ]; then
	sh scripts/deps.sh && ./autogen.sh >/dev/null 2>&1
	mkdir -p "$B" && (cd "$B" && { [ -f Makefile ] || "$top/configure" -q; } && make -j"$(nproc)" >/dev/null) || exit 1
fi

export top_srcdir="$top" top_builddir="$B"
. "$top/tests/lib-lurkd.sh"
D=$(mktemp -d "${TMPDIR:-/tmp}/lurk-bench.XXXXXX")
# Every process started here, stopped on any exit.
P11KIT= GSERV= NGX= HOLD= NETNS=
cleanup() {
	for p in $P11KIT $GSERV $NGX $HOLD $NETNS; do kill "$p" 2>/dev/null; done
	for p in $P11KIT $GSERV $NGX $HOLD $NETNS; do wait "$p" 2>/dev/null; done
	lurkd_stop "$D" >/dev/null 2>&1
	lurkd_stop "$D/s1" >/dev/null 2>&1
	lurkd_stop "$D/s2" >/dev/null 2>&1
	for s in s1 s2; do cp "$D/$s/lurkd.log" "$OUT/lurkd-$s.log" 2>/dev/null; done
	cp "$D/lurkd.log" "$OUT/lurkd.log" 2>/dev/null # for a failure's diagnosis
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
BENCH=$B/bench/lurk-bench
MODULE=$B/.libs/lurk-pkcs11.so
PROVIDER=$B/.libs/lurk-provider.so
SOFTHSM=$(ls /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so 2>/dev/null | head -1)
CLIENT=$(ls /usr/lib/*/pkcs11/p11-kit-client.so 2>/dev/null | head -1)
ENGINE=$(ls /usr/lib/*/engines-3/pkcs11.so 2>/dev/null | head -1)

# wait_port PORT PID [IN]: until PORT on loopback accepts (state, not a
# fixed sleep), while PID lives; at most 20 s. IN: a command prefix that
# enters the server's network namespace.
wait_port() {
	for _i in $(seq 1 200); do
		${3:-} bash -c "echo >/dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

echo "bench: setting up lurkd, SoftHSM2 and p11-kit server in $D"
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# bench_conf [audit-mode]: tests/lib-lurkd.sh's lurkd.conf, with room for
# the 10,000 idle connections of one client from one source (the defaults
# allow 1,024 of each), and handshake-timeout 60 s: lurk-client opens all
# 10,000 before it sends a request on any, and lurkd closes a session with
# no request 10 s (the default) after its accept, which a loaded machine
# needs more than to open them all.
bench_conf() {
	lurkd_write_conf "$D" ""
	sed -i "s/^workers = 2$/workers = 2\nmax-connections-per-source = 20000\nmax-connections-per-client = 20000\nhandshake-timeout = 60/" "$D/lurkd.conf"
	case ${1:-default} in
	none) sed -i "s|^audit-log = .*|audit-log = none|" "$D/lurkd.conf" ;;
	sync) sed -i "s/^workers = 2$/workers = 2\naudit-sync = yes/" "$D/lurkd.conf" ;;
	esac
}
lurkd_setup "$D" >/dev/null || exit 1
bench_conf
lurkd_start "$D" || exit 1
LPID=$(cat "$D/lurkd.pid")
printf '[module]\nclient-key = %s\n[server one]\naddress = unix:%s\npublic-key = %s\n' \
	"$D/a.key" "$D/lurkd.sock" "$(cat "$D/server.pub")" >"$D/unix.conf"
printf '[module]\nclient-key = %s\n[server one]\naddress = tcp:127.0.0.1:%s\npublic-key = %s\n' \
	"$D/a.key" "$(cat "$D/port")" "$(cat "$D/server.pub")" >"$D/tcp.conf"

export SOFTHSM2_CONF=$D/softhsm2.conf
mkdir -p "$D/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$D/tokens" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 1234 >/dev/null
# $D/KEY.p8: the keys unencrypted (the demo PKI's are PKCS#8 with an empty
# password, which nginx cannot read): SoftHSM2 imports them, the TLS servers
# load them.
id=1
for k in ec256 ed25519 rsa2048; do
	openssl pkcs8 -topk8 -nocrypt -passin pass: -in "$D/pki/$k.key" -out "$D/$k.p8"
	softhsm2-util --import "$D/$k.p8" --token bench --label "$k" --id "0$id" --pin 1234 >/dev/null
	id=$((id + 1))
done
p11-kit server -f --provider "$SOFTHSM" -n "$D/p11kit.sock" "pkcs11:token=bench" >"$D/p11kit.log" 2>&1 &
P11KIT=$!
for _i in $(seq 1 100); do [ -S "$D/p11kit.sock" ] && break; sleep 0.1; done

CSV=$OUT/results.csv
echo "kind,way,alg,threads,ops,seconds,ops_per_s,p50_us,p99_us,errors,server_cpu_us_per_op,rep" >"$CSV"
# run REP CMD...: one measurement, its CSV line tagged with the repetition.
run() {
	_rep=$1
	shift
	"$@" | sed "s/\$/,$_rep/" | tee -a "$CSV"
}
keyof() { case $1 in ecdsa) echo ec256 ;; ed25519) echo ed25519 ;; rsa) echo rsa2048 ;; esac; }

# Signing. The repetitions are the outer loop, so each cell's three runs are
# spread over the section's time rather than taken back to back.
want sign && for rep in $(seq 1 "$REPS"); do
	for alg in $ALGS; do
		k=$(keyof $alg)
		for t in $THREADS; do
			run $rep "$BENCH" sign --name openssl --lib openssl --alg $alg --key "$D/pki/$k.key" \
				--threads $t --seconds "$SECS"
			run $rep "$BENCH" sign --name gnutls --lib gnutls --alg $alg --key "$D/pki/$k.key" \
				--threads $t --seconds "$SECS"
			LURK_PKCS11_CONF=$D/unix.conf run $rep "$BENCH" sign --name lurk-unix --alg $alg \
				--module "$MODULE" --token lurk --label $k --threads $t --seconds "$SECS" --cpu-pid "$LPID"
			LURK_PKCS11_CONF=$D/tcp.conf run $rep "$BENCH" sign --name lurk-tcp --alg $alg \
				--module "$MODULE" --token lurk --label $k --threads $t --seconds "$SECS" --cpu-pid "$LPID"
			run $rep "$BENCH" sign --name softhsm --alg $alg --module "$SOFTHSM" --token bench \
				--label $k --pin 1234 --threads $t --seconds "$SECS"
			P11_KIT_SERVER_ADDRESS=unix:path=$D/p11kit.sock run $rep "$BENCH" sign --name p11kit-remote \
				--alg $alg --module "$CLIENT" --token bench --label $k --pin 1234 --threads $t \
				--seconds "$SECS" --cpu-pid "$P11KIT"
		done
	done
done

# Split keys (issue 18, docs/split-keys.md): an Ed25519 and an RSA-2048 key
# split with `lurk-admin split`, share 1 in lurkd s1 and share 2 in lurkd s2
# (each its own Noise key, unix socket, audit log and 2 workers, as the
# unsplit lurkd), signed through the module with a lurk-pkcs11.conf naming
# the two as `share = 1` / `share = 2`. Ed25519: FROST, one FROST_SIGN to
# both servers in parallel; RSA: CKM_RSA_PKCS over the same SHA-256
# DigestInfo as the unsplit row, one RSA_PARTIAL to both. The servers' CPU
# is both lurkd's, summed. The whole-key rows to compare with are lurk-unix:
# when the sign section does not run they are measured here, interleaved
# with the split ones.
# in_sign ALG THREADS: the sign section measures lurk-unix for ALG at THREADS.
in_sign() {
	want sign || return 1
	case " $ALGS " in *" $1 "*) ;; *) return 1 ;; esac
	case " $THREADS " in *" $2 "*) return 0 ;; esac
	return 1
}
if want split; then
	for s in s1 s2; do
		mkdir -p "$D/$s"
		"$ADMIN" genkey "$D/$s/server.key" >"$D/$s/server.pub" || exit 1
	done
	openssl genpkey -algorithm ed25519 -out "$D/edsplit.key" 2>/dev/null &&
		openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out "$D/rsasplit.key" 2>/dev/null || exit 1
	for k in edsplit rsasplit; do
		"$ADMIN" split "$D/$k.key" "$D/s1/$k.share" "$D/s2/$k.share" >"$D/split.out" 2>&1 ||
			{ echo "bench: lurk-admin split $k failed" >&2; cat "$D/split.out" >&2; exit 1; }
	done
	for s in s1 s2; do
		cat >"$D/$s/lurkd.conf" <<EOF
[server]
listen = unix:$D/$s/lurkd.sock
static-key = $D/$s/server.key
audit-log = $D/$s/audit.log
workers = 2

[key edsplit]
share = $D/$s/edsplit.share

[key rsasplit]
share = $D/$s/rsasplit.share

[client a]
public-key = $(cat "$D/a.pub")
keys = edsplit rsasplit
EOF
		lurkd_start "$D/$s" || exit 1
	done
	SPID1=$(cat "$D/s1/lurkd.pid") SPID2=$(cat "$D/s2/lurkd.pid")
	printf '[module]\nclient-key = %s\n' "$D/a.key" >"$D/split.conf"
	for n in 1 2; do
		printf '[server s%s]\naddress = unix:%s\npublic-key = %s\nshare = %s\n' \
			$n "$D/s$n/lurkd.sock" "$(cat "$D/s$n/server.pub")" $n >>"$D/split.conf"
	done
	for rep in $(seq 1 "$REPS"); do
		for alg in ed25519 rsa; do
			case $alg in ed25519) sk=edsplit ;; *) sk=rsasplit ;; esac
			for t in 1 8; do
				LURK_PKCS11_CONF=$D/split.conf run $rep "$BENCH" sign --name lurk-split --alg $alg \
					--module "$MODULE" --token lurk --label $sk --threads $t --seconds "$SECS" \
					--cpu-pid "$SPID1" --cpu-pid "$SPID2"
				in_sign $alg $t && continue
				LURK_PKCS11_CONF=$D/unix.conf run $rep "$BENCH" sign --name lurk-unix --alg $alg \
					--module "$MODULE" --token lurk --label "$(keyof $alg)" --threads $t \
					--seconds "$SECS" --cpu-pid "$LPID"
			done
		done
	done
	lurkd_stop "$D/s1" >/dev/null 2>&1
	lurkd_stop "$D/s2" >/dev/null 2>&1
fi

# TLS handshakes against real servers, all started at once (an idle one
# costs nothing), so the repetitions interleave the ways. gnutls-serv: one
# process, the certificate chain and key from files or both from lurk's
# token (--provider, as tests/test-tls-gnutls.sh). nginx: 2 worker
# processes (one per core here), the chain from a file and the key from a
# file or from lurk through OpenSSL's pkcs11 engine (as
# tests/test-tls-nginx.sh, whose two-token module configuration the engine
# needs). Neither server issues session tickets.
if want tls; then
	cat >"$D/web.conf" <<EOF
[module]
client-key = $D/a.key
[server one]
address = unix:$D/lurkd.sock
public-key = $(cat "$D/server.pub")
[token web]
label = lurk-web
key-types = rsa, ec
[token edwards]
label = lurk-ed
key-types = ed25519
EOF
	cat >"$D/openssl.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $MODULE
init = 1
[provider_section]
default = default_section
lurk = lurk_section
[default_section]
activate = 1
[lurk_section]
module = $PROVIDER
activate = 1
EOF
	# One nginx serves all three ways: the engine and lurk's provider
	# (docs/provider.md) are both loaded; a LURK KEY file names the key.
	sed -i 's/^engines = engine_section$/engines = engine_section\nproviders = provider_section/' "$D/openssl.cnf"
	for k in ec256 rsa2048; do
		{
			echo "lurk-key 1"
			echo "config $D/web.conf"
			echo "key $k"
			echo "spki $(openssl x509 -in "$D/pki/$k.pem" -pubkey -noout | openssl pkey -pubin -outform DER | base64 -w0)"
		} >"$D/$k.body"
		{ echo "-----BEGIN LURK KEY-----"; base64 -w64 <"$D/$k.body"; echo "-----END LURK KEY-----"; } >"$D/$k.lurk"
	done
	declare -A PORT
	i=11
	for srv in gnutls-serv nginx; do
		for k in ec256 rsa2048; do
			for place in file lurk prov; do
				PORT[$srv-$place-$k]=$(lurkd_pick_port $i)
				i=$((i + 1))
			done
		done
	done
	# gnutls-serv 3.7 cannot be told an address: it listens on every
	# interface. Where a network namespace can be made (root, or user
	# namespaces), it runs in one of its own with only loopback, and its
	# clients enter it (lurkd is reached by its unix socket's path, which
	# network namespaces do not separate).
	IN=
	if command -v nsenter >/dev/null && command -v ip >/dev/null && unshare -n true 2>/dev/null; then
		unshare -n sleep 86400 &
		NETNS=$!
		for _i in $(seq 1 100); do
			[ "$(readlink /proc/$NETNS/ns/net)" != "$(readlink /proc/$$/ns/net)" ] && break
			sleep 0.05
		done
		IN="nsenter --net=/proc/$NETNS/ns/net"
		$IN ip link set lo up || IN=
	fi
	[ -n "$IN" ] || echo "bench: no network namespace; gnutls-serv listens on every interface" >&2
	T13="NORMAL:-VERS-ALL:+VERS-TLS1.3"
	for k in ec256 rsa2048; do
		$IN gnutls-serv --port "${PORT[gnutls-serv-file-$k]}" --noticket --disable-client-cert -q \
			--priority "$T13" --x509certfile "$D/pki/$k-chain.pem" --x509keyfile "$D/$k.p8" \
			>/dev/null 2>>"$D/gnutls-serv.log" &
		GSERV="$GSERV $!"
		wait_port "${PORT[gnutls-serv-file-$k]}" $! "$IN" || { echo "bench: gnutls-serv did not start" >&2; cat "$D/gnutls-serv.log" >&2; exit 1; }
		LURK_PKCS11_CONF=$D/unix.conf $IN gnutls-serv --provider "$MODULE" \
			--port "${PORT[gnutls-serv-lurk-$k]}" --noticket --disable-client-cert -q --priority "$T13" \
			--x509certfile "pkcs11:token=lurk;object=$k;type=cert" \
			--x509keyfile "pkcs11:token=lurk;object=$k;type=private" \
			>/dev/null 2>>"$D/gnutls-serv.log" &
		GSERV="$GSERV $!"
		wait_port "${PORT[gnutls-serv-lurk-$k]}" $! "$IN" || { echo "bench: gnutls-serv (lurk) did not start" >&2; cat "$D/gnutls-serv.log" >&2; exit 1; }
	done
	N=$D/nginx
	mkdir -p "$N/logs"
	{
		[ "$(id -u)" -eq 0 ] && echo "user root;" # the workers reach lurkd's socket and key file
		cat <<EOF
worker_processes 2;
error_log $N/logs/error.log warn;
pid $N/nginx.pid;
events { worker_connections 512; }
http {
	access_log off;
	ssl_protocols TLSv1.3;
	ssl_session_tickets off;
	ssl_session_cache off;
	client_body_temp_path $N/t1; proxy_temp_path $N/t2; fastcgi_temp_path $N/t3;
	uwsgi_temp_path $N/t4; scgi_temp_path $N/t5;
EOF
		for k in ec256 rsa2048; do
			printf '\tserver { listen 127.0.0.1:%s ssl; ssl_certificate %s; ssl_certificate_key %s; }\n' \
				"${PORT[nginx-file-$k]}" "$D/pki/$k-chain.pem" "$D/$k.p8"
			printf '\tserver { listen 127.0.0.1:%s ssl; ssl_certificate %s; ssl_certificate_key "%s"; }\n' \
				"${PORT[nginx-lurk-$k]}" "$D/pki/$k-chain.pem" \
				"engine:pkcs11:pkcs11:token=lurk-web;object=$k;type=private"
			printf '\tserver { listen 127.0.0.1:%s ssl; ssl_certificate %s; ssl_certificate_key %s; }\n' \
				"${PORT[nginx-prov-$k]}" "$D/pki/$k-chain.pem" "$D/$k.lurk"
		done
		echo "}"
	} >"$N/nginx.conf"
	OPENSSL_CONF=$D/openssl.cnf LURK_PKCS11_CONF=$D/web.conf \
		nginx -p "$N" -c "$N/nginx.conf" -g "daemon off;" >"$N/start.log" 2>&1 &
	NGX=$!
	for p in "${PORT[nginx-file-ec256]}" "${PORT[nginx-lurk-rsa2048]}" "${PORT[nginx-prov-rsa2048]}"; do
		wait_port "$p" "$NGX" || { echo "bench: nginx did not start" >&2; cat "$N/start.log" "$N/logs/error.log" >&2; exit 1; }
	done
	for rep in $(seq 1 "$REPS"); do
		for srv in gnutls-serv nginx; do
			for k in ec256 rsa2048; do
				case $k in ec256) alg=ecdsa ;; *) alg=rsa ;; esac
				case $srv in gnutls-serv) in=$IN ;; *) in= ;; esac
				for c in 1 8; do
					run $rep $in "$BENCH" hs --name "$srv-file" --alg $alg --cafile "$D/pki/ca.pem" \
						--connect "127.0.0.1:${PORT[$srv-file-$k]}" --conns $c --seconds "$SECS"
					run $rep $in "$BENCH" hs --name "$srv-lurk" --alg $alg --cafile "$D/pki/ca.pem" \
						--connect "127.0.0.1:${PORT[$srv-lurk-$k]}" --conns $c --seconds "$SECS" \
						--cpu-pid "$LPID"
					[ $srv = nginx ] && run $rep "$BENCH" hs --name nginx-prov --alg $alg \
						--cafile "$D/pki/ca.pem" --connect "127.0.0.1:${PORT[nginx-prov-$k]}" \
						--conns $c --seconds "$SECS" --cpu-pid "$LPID"
				done
			done
		done
	done
	for p in $GSERV $NGX $NETNS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	GSERV= NGX= NETNS=
fi

want connect && run 1 "$BENCH" connect --address "unix:$D/lurkd.sock" \
	--server-pk "$(cat "$D/server.pub")" --client-key "$D/a.key" --count 500
if want idle; then
	rss0=$(awk '/VmRSS/ {print $2}' "/proc/$LPID/status")
	LURK_CLIENT_HOLD=20 lc "$D" a connections 10000 ec256 >"$D/idle.out" 2>&1 &
	HOLD=$!
	for _i in $(seq 1 240); do grep -q "connections=" "$D/idle.out" 2>/dev/null && break; sleep 0.5; done
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$LPID/status")
	cp "$D/idle.out" "$OUT/idle.out"
	echo "idle,lurkd,-,10000,$(sed -n 's/.*served=\([0-9]*\).*/\1/p' "$D/idle.out"),0,0,$rss0,$rss,0,,1" | tee -a "$CSV"
	kill "$HOLD" 2>/dev/null
	wait "$HOLD" 2>/dev/null
	HOLD=
fi

# The audit log's cost, ECDSA P-256 over the unix socket at 1 and 8 threads:
# no audit log, the default (records written with one write(2) per worker
# pass before the pass's answers go out), and audit-sync = yes (an
# fdatasync per pass as well).
want audit && for mode in none default sync; do
	lurkd_stop "$D" >/dev/null 2>&1
	bench_conf $mode
	lurkd_start "$D" || exit 1
	LPID=$(cat "$D/lurkd.pid")
	for rep in $(seq 1 "$REPS"); do
		for t in 1 8; do
			LURK_PKCS11_CONF=$D/unix.conf run $rep "$BENCH" sign --name "audit-$mode" --alg ecdsa \
				--module "$MODULE" --token lurk --label ec256 --threads $t --seconds "$SECS" \
				--cpu-pid "$LPID"
		done
	done
done

bash "$top/scripts/bench-report.sh" "$CSV" "$OUT" \
	"BENCH_SECONDS=$SECS, BENCH_REPS=$REPS, sections $ONLY; the run took $(($(date +%s) - START)) s"

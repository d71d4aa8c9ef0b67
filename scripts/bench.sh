#!/bin/bash
# The benchmark (issue 7, docs/benchmark.md): `make bench`, or
#   bash scripts/bench.sh [BUILD_DIR]        (default: _build/bench, built if needed)
# Starts lurkd (unix socket and TCP loopback), a SoftHSM2 token with the same
# keys, and `p11-kit server` exposing that token; then measures signing at
# 1, 2, 8 and 32 threads four ways (in-process GnuTLS, lurk, SoftHSM2,
# p11-kit remoting), TLS 1.3 handshake rates with the key in a file and in
# lurk, the Noise connect cost and lurkd's memory with 10,000 idle
# connections. Writes bench-results/{results.csv,results.md,throughput.png}.
# BENCH_SECONDS (default 3) sets each cell's duration. BENCH_ONLY=audit runs
# only the audit log's cost (no audit log / default group commit / audit-sync).
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
B=${1:-$top/_build/bench}
SECS=${BENCH_SECONDS:-3}
OUT=$top/bench-results
mkdir -p "$OUT"

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
P11KIT=
trap '[ -n "$P11KIT" ] && kill $P11KIT 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
BENCH=$B/bench/lurk-bench
MODULE=$B/.libs/lurk-pkcs11.so
SOFTHSM=$(ls /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so 2>/dev/null | head -1)
CLIENT=$(ls /usr/lib/*/pkcs11/p11-kit-client.so 2>/dev/null | head -1)

echo "bench: setting up lurkd, SoftHSM2 and p11-kit server in $D"
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
lurkd_setup "$D" >/dev/null || exit 1
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
id=1
for k in ec256 ed25519 rsa2048; do
	openssl pkcs8 -topk8 -nocrypt -passin pass: -in "$D/pki/$k.key" -out "$D/$k.p8"
	softhsm2-util --import "$D/$k.p8" --token bench --label "$k" --id "0$id" --pin 1234 >/dev/null
	id=$((id + 1))
done
p11-kit server -f --provider "$SOFTHSM" -n "$D/p11kit.sock" "pkcs11:token=bench" >"$D/p11kit.log" 2>&1 &
P11KIT=$!
for _i in $(seq 1 50); do [ -S "$D/p11kit.sock" ] && break; sleep 0.1; done

CSV=$OUT/results.csv
echo "kind,way,alg,threads,ops,seconds,ops_per_s,p50_us,p99_us,errors,server_cpu_us_per_op" >"$CSV"
run() { "$@" | tee -a "$CSV"; }
ONLY=${BENCH_ONLY:-}
[ "$ONLY" = audit ] || for alg in ecdsa ed25519 rsa; do
	case $alg in ecdsa) k=ec256 ;; ed25519) k=ed25519 ;; rsa) k=rsa2048 ;; esac
	for t in 1 2 8 32; do
		run "$BENCH" sign --name gnutls --alg $alg --key "$D/pki/$k.key" --threads $t --seconds "$SECS"
		LURK_PKCS11_CONF=$D/unix.conf run "$BENCH" sign --name lurk-unix --alg $alg --module "$MODULE" \
			--token lurk --label $k --threads $t --seconds "$SECS" --cpu-pid "$LPID"
		LURK_PKCS11_CONF=$D/tcp.conf run "$BENCH" sign --name lurk-tcp --alg $alg --module "$MODULE" \
			--token lurk --label $k --threads $t --seconds "$SECS" --cpu-pid "$LPID"
		run "$BENCH" sign --name softhsm --alg $alg --module "$SOFTHSM" --token bench --label $k \
			--pin 1234 --threads $t --seconds "$SECS"
		P11_KIT_SERVER_ADDRESS=unix:path=$D/p11kit.sock run "$BENCH" sign --name p11kit-remote \
			--alg $alg --module "$CLIENT" --token bench --label $k --pin 1234 --threads $t \
			--seconds "$SECS" --cpu-pid "$P11KIT"
	done
done
[ "$ONLY" = audit ] || for k in ec256 rsa2048; do
	run "$BENCH" tls --name "file-$k" --cert "$D/pki/$k-chain.pem" --key "$D/pki/$k.key" \
		--conns 8 --seconds "$SECS"
	LURK_PKCS11_CONF=$D/unix.conf run "$BENCH" tls --name "lurk-$k" --provider "$MODULE" \
		--cert "pkcs11:token=lurk;object=$k;type=cert" \
		--key "pkcs11:token=lurk;object=$k;type=private" --conns 8 --seconds "$SECS"
done
[ "$ONLY" = audit ] || run "$BENCH" connect --address "unix:$D/lurkd.sock" --server-pk "$(cat "$D/server.pub")" \
	--client-key "$D/a.key" --count 500
[ "$ONLY" = audit ] || {
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$LPID/status")
LURK_CLIENT_HOLD=20 lc "$D" a connections 10000 ec256 >"$D/idle.out" 2>&1 &
HOLD=$!
for _i in $(seq 1 120); do grep -q "connections=" "$D/idle.out" 2>/dev/null && break; sleep 0.5; done
rss=$(awk '/VmRSS/ {print $2}' "/proc/$LPID/status")
echo "idle,lurkd,-,10000,$(sed -n 's/.*served=\([0-9]*\).*/\1/p' "$D/idle.out"),0,0,$rss0,$rss,0," | tee -a "$CSV"
kill "$HOLD" 2>/dev/null
wait "$HOLD" 2>/dev/null
}

# The audit log's cost, ECDSA P-256 over the unix socket at 1 and 8 threads:
# no audit log, the default (records written with one write(2) per worker
# pass before the pass's answers go out), and audit-sync = yes (an
# fdatasync per pass as well).
for mode in none default sync; do
	lurkd_stop "$D" >/dev/null 2>&1
	lurkd_write_conf "$D" ""
	case $mode in
	none) sed -i "s|^audit-log = .*|audit-log = none|" "$D/lurkd.conf" ;;
	sync) sed -i "s/^workers = 2$/workers = 2\naudit-sync = yes/" "$D/lurkd.conf" ;;
	esac
	lurkd_start "$D" || exit 1
	LPID=$(cat "$D/lurkd.pid")
	for t in 1 8; do
		LURK_PKCS11_CONF=$D/unix.conf run "$BENCH" sign --name "audit-$mode" --alg ecdsa \
			--module "$MODULE" --token lurk --label ec256 --threads $t --seconds "$SECS" \
			--cpu-pid "$LPID"
	done
done

bash "$top/scripts/bench-report.sh" "$CSV" "$OUT"

#!/bin/bash
# Turns bench results (CSV from scripts/bench.sh) into results.md (tables,
# the docs/benchmark.md targets with PASS or MISSED and by how much) and
# throughput.png (gnuplot, when installed).
#   bash scripts/bench-report.sh results.csv OUTDIR
set -u
CSV=$1
OUT=$2
MD=$OUT/results.md

# val KIND WAY ALG THREADS FIELD: one figure from the CSV (field by name).
val() {
	awk -F, -v k="$1" -v w="$2" -v a="$3" -v t="$4" -v f="$5" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$1 == k && $2 == w && $3 == a && $4 == t { print $col[f]; exit }' "$CSV"
}

# target NAME MEASURED OP LIMIT UNIT: one line with PASS/MISSED.
target() {
	awk -v n="$1" -v m="$2" -v op="$3" -v l="$4" -v u="$5" 'BEGIN {
		if (m == "" || l == "") { printf "| %s | n/a | %s %s %s | not measured |\n", n, op, l, u; exit }
		pass = (op == "<=") ? (m <= l) : (op == "<") ? (m < l) : (m >= l)
		by = (l != 0) ? (m / l) : 0
		printf "| %s | %.2f %s | %s %.2f %s | %s |\n", n, m, u, op, l, u,
			pass ? "PASS" : sprintf("MISSED (%.2f× the limit)", by) }'
}

{
	echo "# lurk benchmark"
	echo
	echo "Machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), Linux $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)."
	echo "Client and servers share the machine. Command: \`make bench\` (scripts/bench.sh)."
	for alg in ecdsa ed25519 rsa; do
		echo
		case $alg in ecdsa) echo "## ECDSA P-256 signatures" ;; ed25519) echo "## Ed25519 signatures" ;; rsa) echo "## RSA-2048 signatures" ;; esac
		echo
		echo "| way | 1 thread | 2 threads | 8 threads | 32 threads |"
		echo "| --- | --- | --- | --- | --- |"
		for w in gnutls lurk-unix lurk-tcp softhsm p11kit-remote; do
			row="| $w"
			for t in 1 2 8 32; do
				ops=$(val sign $w $alg $t ops)
				if [ -z "$ops" ] || [ "$ops" = 0 ]; then
					row="$row | n/a"
				else
					row="$row | $(val sign $w $alg $t ops_per_s | cut -d. -f1)/s, p50 $(val sign $w $alg $t p50_us) µs, p99 $(val sign $w $alg $t p99_us) µs"
				fi
			done
			echo "$row |"
		done
	done
	echo
	echo "## TLS 1.3 full handshakes (8 concurrent clients, server in the same process)"
	echo
	echo "| key | in a file | in lurk | ratio |"
	echo "| --- | --- | --- | --- |"
	for k in ec256 rsa2048; do
		f=$(val tls "file-$k" - 8 ops_per_s)
		l=$(val tls "lurk-$k" - 8 ops_per_s)
		echo "| $k | ${f%.*}/s | ${l%.*}/s | $(awk -v a="$l" -v b="$f" 'BEGIN { if (b > 0) printf "%.2f", a / b }') |"
	done
	echo
	echo "## Connection cost"
	echo
	echo "- Noise connect + handshake + first response (unix socket): p50 $(val connect lurk - 1 p50_us) µs, p99 $(val connect lurk - 1 p99_us) µs."
	rss=$(val idle lurkd - 10000 p99_us)
	echo "- lurkd resident memory: $(val idle lurkd - 10000 p50_us) KiB idle, $rss KiB with $(val idle lurkd - 10000 ops) idle authenticated connections."
	echo
	echo "## The audit log's cost (ECDSA P-256, unix socket)"
	echo
	echo "| audit log | 1 thread | 8 threads | lurkd CPU per signature (8 threads) |"
	echo "| --- | --- | --- | --- |"
	for m in none default sync; do
		case $m in none) name="none" ;; default) name="file, group commit (default)" ;; sync) name="file, audit-sync = yes" ;; esac
		o1=$(val sign "audit-$m" ecdsa 1 ops_per_s)
		o8=$(val sign "audit-$m" ecdsa 8 ops_per_s)
		[ -z "$o1$o8" ] && continue
		echo "| $name | ${o1%.*}/s, p50 $(val sign "audit-$m" ecdsa 1 p50_us) µs | ${o8%.*}/s, p50 $(val sign "audit-$m" ecdsa 8 p50_us) µs | $(val sign "audit-$m" ecdsa 8 server_cpu_us_per_op) µs |"
	done
	echo
	echo "## Targets (docs/benchmark.md)"
	echo
	echo "| target | measured | limit | result |"
	echo "| --- | --- | --- | --- |"
	g1=$(val sign gnutls ecdsa 1 p50_us)
	for w in lurk-unix lurk-tcp; do
		target "ECDSA P-256, 1 thread, $w p50 ≤ GnuTLS p50 + 40 µs" "$(val sign $w ecdsa 1 p50_us)" "<=" "$(awk -v g="$g1" 'BEGIN { print g + 40 }')" µs
	done
	l8=$(val sign lurk-unix ecdsa 8 ops_per_s)
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.3f", a / b }'; }
	target "ECDSA P-256, 8 threads: lurk / p11-kit remoting" "$(ratio "$l8" "$(val sign p11kit-remote ecdsa 8 ops_per_s)")" ">=" 3 "×"
	target "ECDSA P-256, 8 threads: lurk / SoftHSM2 in-process" "$(ratio "$l8" "$(val sign softhsm ecdsa 8 ops_per_s)")" ">=" 2 "×"
	target "ECDSA P-256, 8 threads: lurk / in-process GnuTLS" "$(ratio "$l8" "$(val sign gnutls ecdsa 8 ops_per_s)")" ">=" 0.6 "×"
	inproc=$(awk -v r="$(val sign gnutls ecdsa 1 ops_per_s)" 'BEGIN { if (r > 0) printf "%.1f", 1e6 / r }')
	target "lurkd CPU per ECDSA P-256 signature (8 threads) / in-process cost ($inproc µs)" "$(ratio "$(val sign lurk-unix ecdsa 8 server_cpu_us_per_op)" "$inproc")" "<=" 1.25 "×"
	target "RSA-2048, 8 threads: lurk / in-process GnuTLS" "$(ratio "$(val sign lurk-unix rsa 8 ops_per_s)" "$(val sign gnutls rsa 8 ops_per_s)")" ">=" 0.9 "×"
	target "TLS 1.3 ECDSA handshakes/s: key in lurk / key in a file" "$(ratio "$(val tls lurk-ec256 - 8 ops_per_s)" "$(val tls file-ec256 - 8 ops_per_s)")" ">=" 0.9 "×"
	target "10,000 idle connections: lurkd RSS" "$(awk -v r="$rss" 'BEGIN { if (r != "") printf "%.1f", r / 1024 }')" "<" 200 MiB
	echo
	echo "Raw figures: results.csv. Plot: throughput.png."
} >"$MD"

if command -v gnuplot >/dev/null 2>&1; then
	for alg in ecdsa ed25519 rsa; do
		for w in gnutls lurk-unix lurk-tcp softhsm p11kit-remote; do
			awk -F, -v a=$alg -v w=$w '$1 == "sign" && $3 == a && $2 == w && $5 > 0 { print $4, $7 }' "$CSV" >"$OUT/.$alg-$w.dat"
		done
	done
	gnuplot <<EOF
set terminal pngcairo size 1500,520 font ",10"
set output "$OUT/throughput.png"
set multiplot layout 1,3 title "Signatures per second against calling threads (same machine, $(nproc) cores)"
set logscale x 2
set xtics (1, 2, 8, 32)
set xlabel "threads"
set ylabel "signatures/s"
set key below horizontal
set yrange [0:*]
do for [alg in "ecdsa ed25519 rsa"] {
	set title (alg eq "ecdsa" ? "ECDSA P-256" : alg eq "ed25519" ? "Ed25519" : "RSA-2048")
	plot for [w in "gnutls lurk-unix lurk-tcp softhsm p11kit-remote"] \
		"$OUT/.".alg."-".w.".dat" using 1:2 with linespoints title w
}
unset multiplot
EOF
	rm -f "$OUT"/.*.dat
fi
cat "$MD"

#!/bin/bash
# Turns bench results (CSV from scripts/bench.sh, one line per run, each cell
# run BENCH_REPS times) into results.md: tables of medians with the spread
# (lowest–highest run), the servers' CPU per operation, TLS handshake rates
# against real servers, and issue 15's targets with PASS or MISSED computed
# from the medians; and throughput.png (gnutls, when installed).
#   bash scripts/bench-report.sh results.csv OUTDIR [NOTE]
set -u
CSV=$1
OUT=$2
NOTE=${3:-}
MD=$OUT/results.md
MED=$OUT/.medians.csv

# The medians: one line per kind,way,alg,threads with the number of runs,
# the median, lowest and highest ops/s, the median p50, p99, the errors
# summed, the median server CPU per operation with its lowest and highest
# (runs without one left out), and the first non-numeric note (why a way
# signed nothing).
awk -F, '
function med(s, a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	lo = a[1]; hi = a[n]
	if (n == 0) return ""
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
NR == 1 { next }
{
	k = $1 "," $2 "," $3 "," $4
	if (!(k in runs)) order[++nk] = k
	runs[k]++; ops[k] = ops[k] " " $7; p50[k] = p50[k] " " $8; p99[k] = p99[k] " " $9
	nops[k] = nops[k] " " $5; err[k] += $10
	if ($11 ~ /^[0-9.]+$/) cpu[k] = cpu[k] " " $11
	else if ($11 != "" && !(k in note)) note[k] = $11
}
END {
	print "kind,way,alg,threads,runs,ops_per_s,ops_lo,ops_hi,p50_us,p99_us,errors,cpu,cpu_lo,cpu_hi,ops,note"
	for (i = 1; i <= nk; i++) {
		k = order[i]
		m = med(ops[k]); olo = lo; ohi = hi
		c = med(cpu[k]); clo = lo; chi = hi
		if (c == "") { clo = ""; chi = "" }
		printf "%s,%d,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s,%s\n", k, runs[k], m, olo, ohi,
			med(p50[k]), med(p99[k]), err[k], c, clo, chi, med(nops[k]), note[k]
	}
}' "$CSV" >"$MED"

# val KIND WAY ALG THREADS FIELD: one figure from the medians (field by name).
val() {
	awk -F, -v k="$1" -v w="$2" -v a="$3" -v t="$4" -v f="$5" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$1 == k && $2 == w && $3 == a && $4 == t { print $col[f]; exit }' "$MED"
}

# rate V: 23.9k above a thousand, else the integer.
rate() {
	awk -v v="$1" 'BEGIN { if (v >= 1000) printf "%.1fk", v / 1000; else printf "%d", v + 0.5 }'
}

# cell KIND WAY ALG THREADS: "23.9k/s (23.1–24.4k), p50 50 µs, p99 77 µs", or n/a.
cell() {
	_o=$(val "$1" "$2" "$3" "$4" ops)
	if [ -z "$_o" ] || [ "$_o" = 0 ]; then
		_n=$(val "$1" "$2" "$3" "$4" note)
		echo "${_n:-n/a}"
		return
	fi
	_e=$(val "$1" "$2" "$3" "$4" errors)
	echo "$(rate "$(val "$1" "$2" "$3" "$4" ops_per_s)")/s ($(rate "$(val "$1" "$2" "$3" "$4" ops_lo)")–$(rate "$(val "$1" "$2" "$3" "$4" ops_hi)")), p50 $(val "$1" "$2" "$3" "$4" p50_us) µs, p99 $(val "$1" "$2" "$3" "$4" p99_us) µs$([ "${_e:-0}" -gt 0 ] && echo ", $_e errors")"
}

# cpu KIND WAY ALG THREADS: "41.2 µs (40.1–43.0)", or empty.
cpu() {
	_c=$(val "$1" "$2" "$3" "$4" cpu)
	[ -n "$_c" ] && awk -v c="$_c" -v l="$(val "$1" "$2" "$3" "$4" cpu_lo)" -v h="$(val "$1" "$2" "$3" "$4" cpu_hi)" \
		'BEGIN { printf "%.1f µs (%.1f–%.1f)", c, l, h }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.3f", a / b }'; }
ratio2() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b }'; }
# ratio_ops A B: A / B when both were measured (a way that signed nothing: "-").
ratio_ops() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "-" }'; }
# prov_cells SERVER ALG CLIENTS: the provider's cells of a handshake row
# (nginx only; the other servers have no provider way).
prov_cells() {
	if [ "$1" = nginx ] && [ -n "$(val hs nginx-prov "$2" "$3" runs)" ]; then
		printf '%s | %s | %s' "$(cell hs nginx-prov "$2" "$3")" \
			"$(ratio2 "$(val hs nginx-prov "$2" "$3" ops_per_s)" "$(val hs nginx-lurk "$2" "$3" ops_per_s)")" \
			"$(cpu hs nginx-prov "$2" "$3")"
	else
		printf '%s | %s | %s' "-" "-" "-"
	fi
}

# target NAME MEASURED OP LIMIT UNIT [DETAIL]: one line, PASS or MISSED with
# the measured value's ratio to the limit.
target() {
	awk -v n="$1" -v m="$2" -v op="$3" -v l="$4" -v u="$5" -v d="${6:-}" 'BEGIN {
		if (m == "" || l == "") { printf "| %s | not measured | %s %s%s | n/a |\n", n, op, l == "" ? "?" : l, u; exit }
		pass = (op == "≤") ? (m <= l) : (op == "<") ? (m < l) : (m >= l)
		printf "| %s | %.2f%s%s | %s %.2f%s | %s (%.2f× the limit) |\n", n, m, u,
			d == "" ? "" : " (" d ")", op, l, u, pass ? "PASS" : "MISSED", (l != 0) ? m / l : 0 }'
}

SIGN_THREADS=$(awk -F, '$1 == "sign" && $2 !~ /^audit/ && $2 != "lurk-split" { print $4 }' "$CSV" | sort -nu | tr '\n' ' ')
SPLIT_THREADS=$(awk -F, '$1 == "sign" && $2 == "lurk-split" { print $4 }' "$CSV" | sort -nu | tr '\n' ' ')
SIGN_WAYS="openssl gnutls lurk-unix lurk-tcp softhsm p11kit-remote"
REPS=$(awk -F, 'NR > 1 { print $NF }' "$CSV" | sort -nu | tail -1)

{
	echo "# lurk benchmark"
	echo
	echo "Machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), Linux $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)."
	echo "Client and servers share the machine. Command: \`make bench\` (scripts/bench.sh)${NOTE:+; $NOTE}."
	echo "Each cell ran ${REPS:-1} time$([ "${REPS:-1}" != 1 ] && echo s): the median, then the lowest–highest run in brackets;"
	echo "p50 and p99 latencies and CPU figures are medians of the runs' own."
	if [ -n "$SIGN_THREADS" ]; then
		for alg in ecdsa ed25519 rsa; do
			[ -n "$(val sign gnutls $alg "${SIGN_THREADS%% *}" ops)" ] || continue
			echo
			case $alg in ecdsa) echo "## ECDSA P-256 signatures" ;; ed25519) echo "## Ed25519 signatures" ;; rsa) echo "## RSA-2048 signatures" ;; esac
			echo
			h="| way" s="| ---"
			for t in $SIGN_THREADS; do h="$h | $t thread$([ "$t" != 1 ] && echo s)" s="$s | ---"; done
			echo "$h |"
			echo "$s |"
			for w in $SIGN_WAYS; do
				row="| $w"
				for t in $SIGN_THREADS; do row="$row | $(cell sign $w $alg $t)"; done
				echo "$row |"
			done
			# The split key (issue 18) under the whole key's rows, where measured.
			if [ -n "$SPLIT_THREADS" ] && [ -n "$(val sign lurk-split $alg "${SPLIT_THREADS%% *}" runs)" ]; then
				row="| lurk-split (unix, two lurkd)"
				for t in $SIGN_THREADS; do
					if [ -n "$(val sign lurk-split $alg $t runs)" ]; then row="$row | $(cell sign lurk-split $alg $t)"; else row="$row | -"; fi
				done
				echo "$row |"
			fi
		done
		echo
		echo "## Server CPU per signature"
		echo
		echo "The server's CPU time (user + system, from /proc, its children included: p11-kit"
		echo "server forks one per client) over each run, divided by the signatures. For"
		echo "comparison, the in-process cost of one signature on one thread is 10⁶ / that"
		echo "way's 1-thread rate."
		echo
		h="| way | key" s="| --- | ---"
		for t in $SIGN_THREADS; do h="$h | $t thread$([ "$t" != 1 ] && echo s)" s="$s | ---"; done
		echo "$h |"
		echo "$s |"
		for alg in ecdsa ed25519 rsa; do
			for w in lurk-unix lurk-tcp p11kit-remote; do
				[ -n "$(val sign $w $alg "${SIGN_THREADS%% *}" cpu)" ] || continue
				row="| $w ($([ $w = p11kit-remote ] && echo "p11-kit server" || echo lurkd)) | $alg"
				for t in $SIGN_THREADS; do row="$row | $(cpu sign $w $alg $t)"; done
				echo "$row |"
			done
			for w in openssl gnutls; do
				r=$(val sign $w $alg 1 ops_per_s)
				[ -n "$r" ] && echo "| $w in-process, 1 thread | $alg | $(awk -v r="$r" 'BEGIN { if (r > 0) printf "%.1f µs", 1e6 / r }') |$(for t in ${SIGN_THREADS#* }; do printf ' |'; done)"
			done
		done
	fi
	if [ -n "$SPLIT_THREADS" ]; then
		echo
		echo "## Split keys (issue 18)"
		echo
		echo "The key split with \`lurk-admin split\`, share 1 and share 2 in two lurkd on this"
		echo "machine (unix sockets, audit log on, 2 workers each), signed through"
		echo "\`lurk-pkcs11.so\` with \`share = 1\` / \`share = 2\` servers (lurk-split), beside"
		echo "the whole key in one lurkd over its unix socket (lurk-unix). Ed25519: FROST, one"
		echo "FROST_SIGN to both servers in parallel; RSA-2048: CKM_RSA_PKCS over a SHA-256"
		echo "DigestInfo, one RSA_PARTIAL to both. Ratios are split / whole of the medians;"
		echo "the split key's lurkd CPU is both servers' summed."
		echo
		echo "| key | threads | whole key (lurk-unix) | split key (lurk-split) | ops/s split / whole | p50 split / whole | lurkd CPU per signature, whole | both lurkd's CPU per signature, split | CPU split / whole |"
		echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		for alg in ed25519 rsa; do
			for t in $SPLIT_THREADS; do
				[ -n "$(val sign lurk-split $alg $t runs)" ] || continue
				echo "| $([ $alg = rsa ] && echo RSA-2048 || echo Ed25519) | $t | $(cell sign lurk-unix $alg $t) | $(cell sign lurk-split $alg $t) | $(ratio_ops "$(val sign lurk-split $alg $t ops_per_s)" "$(val sign lurk-unix $alg $t ops_per_s)") | $(ratio_ops "$(val sign lurk-split $alg $t p50_us)" "$(val sign lurk-unix $alg $t p50_us)") | $(cpu sign lurk-unix $alg $t) | $(cpu sign lurk-split $alg $t) | $(ratio_ops "$(val sign lurk-split $alg $t cpu)" "$(val sign lurk-unix $alg $t cpu)") |"
			done
		done
	fi
	if [ -n "$(val hs gnutls-serv-file ecdsa 1 runs)$(val hs nginx-file ecdsa 1 runs)" ]; then
		echo
		echo "## TLS 1.3 full handshakes per second against real servers"
		echo
		echo "The client is \`lurk-bench hs\` (OpenSSL's libssl, in the same machine): full"
		echo "handshakes only (no session cache, no tickets), the chain verified against the"
		echo "demo CA; N client threads, one connection each at a time. gnutls-serv is one"
		echo "process (key and chain in files, or both from lurk's token through"
		echo "\`--provider\`); nginx runs 2 worker processes (chain in a file, key in a file"
		echo "or from lurk through OpenSSL's pkcs11 engine). Ratio: key in lurk / key in a"
		echo "file. lurkd CPU: lurkd's CPU time per handshake."
		echo
		echo "nginx's third way is lurk's OpenSSL provider (a LURK KEY file, docs/provider.md),"
		echo "beside the engine over the module; provider / module is their ratio (issue 16:"
		echo "a handshake through the provider costs no more than one through the module)."
		echo
		echo "| server | key | clients | key in a file | key in lurk | ratio | lurkd CPU | provider | provider / module | lurkd CPU (provider) |"
		echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		for srv in gnutls-serv nginx; do
			for alg in ecdsa rsa; do
				for c in 1 8; do
					[ -n "$(val hs $srv-file $alg $c runs)" ] || continue
					echo "| $srv | $([ $alg = ecdsa ] && echo "ECDSA P-256" || echo RSA-2048) | $c | $(cell hs $srv-file $alg $c) | $(cell hs $srv-lurk $alg $c) | $(ratio2 "$(val hs $srv-lurk $alg $c ops_per_s)" "$(val hs $srv-file $alg $c ops_per_s)") | $(cpu hs $srv-lurk $alg $c) | $(prov_cells $srv $alg $c) |"
				done
			done
		done
	fi
	rss=$(val idle lurkd - 10000 p99_us)
	if [ -n "$(val connect lurk - 1 runs)$rss" ]; then
		echo
		echo "## Connection cost"
		echo
		[ -n "$(val connect lurk - 1 runs)" ] && echo "- Noise connect + handshake + first response (unix socket): p50 $(val connect lurk - 1 p50_us) µs, p99 $(val connect lurk - 1 p99_us) µs."
		[ -n "$rss" ] && echo "- lurkd resident memory: $(val idle lurkd - 10000 p50_us) KiB idle, $rss KiB with $(val idle lurkd - 10000 ops) idle authenticated connections."
	fi
	if [ -n "$(val sign audit-default ecdsa 1 runs)" ]; then
		echo
		echo "## The audit log's cost (ECDSA P-256, unix socket)"
		echo
		echo "| audit log | 1 thread | 8 threads | lurkd CPU per signature (8 threads) |"
		echo "| --- | --- | --- | --- |"
		for m in none default sync; do
			case $m in none) name="none" ;; default) name="file, group commit (default)" ;; sync) name="file, audit-sync = yes" ;; esac
			[ -n "$(val sign "audit-$m" ecdsa 1 runs)" ] || continue
			echo "| $name | $(cell sign "audit-$m" ecdsa 1) | $(cell sign "audit-$m" ecdsa 8) | $(cpu sign "audit-$m" ecdsa 8) |"
		done
	fi
	echo
	echo "## Targets (issue 15)"
	echo
	echo "Computed from the medians above. Result: PASS or MISSED, with the measured"
	echo "value's ratio to the limit."
	echo
	echo "| target | measured | limit | result |"
	echo "| --- | --- | --- | --- |"
	for alg in ecdsa rsa; do
		name=$([ $alg = ecdsa ] && echo "ECDSA P-256" || echo RSA-2048)
		o1=$(val sign openssl $alg 1 ops_per_s)
		lim=$(awk -v r="$o1" 'BEGIN { if (r > 0) printf "%.1f", 1e6 / r + 15 }')
		for t in 1 8; do
			target "1. lurkd CPU per $name signature (lurk-unix, $t thread$([ $t != 1 ] && echo s)) ≤ OpenSSL's own cost + 15 µs" \
				"$(val sign lurk-unix $alg $t cpu)" "≤" "$lim" " µs" \
				"OpenSSL: $(awk -v r="$o1" 'BEGIN { if (r > 0) printf "%.1f µs", 1e6 / r }')"
		done
	done
	# t2 ALG OTHER LIMIT: lurk-unix / OTHER at 8 threads.
	t2() {
		_l=$(val sign lurk-unix "$1" 8 ops_per_s)
		_o=$(val sign "$2" "$1" 8 ops_per_s)
		target "2. $([ "$1" = ecdsa ] && echo "ECDSA P-256" || echo RSA-2048), 8 threads: lurk-unix / $2" \
			"$(ratio "$_l" "$_o")" "≥" "$3" "×" "$(rate "$_l")/s vs $(rate "$_o")/s"
	}
	t2 ecdsa gnutls 1.0
	t2 ecdsa softhsm 2
	t2 ecdsa p11kit-remote 4
	t2 rsa gnutls 2.5
	t2 rsa softhsm 1.2
	g1=$(val sign gnutls ecdsa 1 p50_us)
	target "3. ECDSA P-256, 1 thread: lurk-unix p50 ≤ 1.2 × in-process GnuTLS p50" \
		"$(val sign lurk-unix ecdsa 1 p50_us)" "≤" "$(awk -v g="$g1" 'BEGIN { if (g != "") print 1.2 * g }')" " µs" \
		"GnuTLS p50: ${g1:-?} µs"
	for srv in gnutls-serv nginx; do
		for alg in ecdsa rsa; do
			for c in 1 8; do
				_l=$(val hs $srv-lurk $alg $c ops_per_s)
				_f=$(val hs $srv-file $alg $c ops_per_s)
				target "4. TLS 1.3 handshakes/s, $srv, $([ $alg = ecdsa ] && echo "ECDSA P-256" || echo RSA-2048), $c client$([ $c != 1 ] && echo s): key in lurk / key in a file" \
					"$(ratio "$_l" "$_f")" "≥" "$([ $alg = ecdsa ] && echo 1.0 || echo 1.5)" "×" \
					"$([ -n "$_l$_f" ] && echo "$(rate "$_l")/s vs $(rate "$_f")/s")"
			done
		done
	done
	# Issue 16: a handshake through lurk's provider costs no more than one
	# through the module (nginx, engine over the module vs the provider).
	for alg in ecdsa rsa; do
		for c in 1 8; do
			_p=$(val hs nginx-prov $alg $c ops_per_s)
			_m=$(val hs nginx-lurk $alg $c ops_per_s)
			[ -n "$_p$_m" ] || continue
			target "issue 16: nginx, $([ $alg = ecdsa ] && echo "ECDSA P-256" || echo RSA-2048), $c client$([ $c != 1 ] && echo s): provider / module (engine) handshakes/s" \
				"$(ratio "$_p" "$_m")" "≥" "1.0" "×" "$(rate "$_p")/s vs $(rate "$_m")/s"
		done
	done
	held=$(val idle lurkd - 10000 ops)
	if [ -n "$rss" ] && [ "${held:-0}" -lt 10000 ]; then
		echo "| 5. 10,000 idle connections: lurkd RSS | $(awk -v r="$rss" 'BEGIN { printf "%.1f MiB", r / 1024 }') with only ${held:-0} connections held | < 200 MiB | not measured |"
	else
		target "5. 10,000 idle connections: lurkd RSS" "$(awk -v r="$rss" 'BEGIN { if (r != "") printf "%.1f", r / 1024 }')" "<" 200 " MiB"
	fi
	echo
	echo "Raw figures: results.csv (one line per run). Plot: throughput.png."
} >"$MD"

if [ -n "$SIGN_THREADS" ] && command -v gnuplot >/dev/null 2>&1; then
	for alg in ecdsa ed25519 rsa; do
		for w in $SIGN_WAYS; do
			awk -F, -v a=$alg -v w=$w '$1 == "sign" && $3 == a && $2 == w && $15 > 0 { print $4, $6 }' "$MED" >"$OUT/.$alg-$w.dat"
		done
	done
	gnuplot <<EOF
set terminal pngcairo size 1500,520 font ",10"
set output "$OUT/throughput.png"
set multiplot layout 1,3 title "Signatures per second against calling threads, median of ${REPS:-1} runs (same machine, $(nproc) cores)"
set logscale x 2
set xtics ($(echo $SIGN_THREADS | sed 's/ /, /g'))
set xlabel "threads"
set ylabel "signatures/s"
set key below horizontal
set yrange [0:*]
do for [alg in "ecdsa ed25519 rsa"] {
	set title (alg eq "ecdsa" ? "ECDSA P-256" : alg eq "ed25519" ? "Ed25519" : "RSA-2048")
	plot for [w in "$SIGN_WAYS"] \
		"$OUT/.".alg."-".w.".dat" using 1:2 with linespoints title w
}
unset multiplot
EOF
	rm -f "$OUT"/.*.dat
fi
cat "$MD"

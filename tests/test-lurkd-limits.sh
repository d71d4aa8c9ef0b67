#!/bin/bash
# lurkd's limits are the wire's (common/lurk-limits.h): a configuration that
# --check-config accepts can be served. Exactly LURK_WIRE_MAX_KEYS keys load
# and a client lists them all; one more key, a key name longer than a wire
# label, a chain longer than the wire carries, or a client whose keys make a
# list response over the message limit is refused at load, naming the line.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 12

MAX_KEYS=256  # LURK_WIRE_MAX_KEYS
MAX_LABEL=255 # LURK_WIRE_MAX_LABEL
MAX_CHAIN=16  # LURK_WIRE_MAX_CHAIN

# Ed25519 keys with self-signed certificates: quick to make, and distinct
# (lurkd refuses the same key under two names).
setup() {
	mkdir -p "$D/k" || return 1
	"$ADMIN" genkey "$D/server.key" >"$D/server.pub" || return 1
	"$ADMIN" genkey "$D/a.key" >"$D/a.pub" || return 1
	for i in $(seq 0 $MAX_KEYS); do
		openssl req -x509 -newkey ed25519 -nodes -keyout "$D/k/$i.key" -out "$D/k/$i.pem" \
			-subj "/CN=k$i.lurk.test" -days 30 </dev/null >/dev/null 2>&1 || return 1
	done
	chmod 600 "$D"/k/*.key
}
if setup; then ok "setup: $((MAX_KEYS + 1)) Ed25519 keys"; else not_ok "setup: $((MAX_KEYS + 1)) Ed25519 keys"; fi

# write_conf FILE N [CHAIN-SUFFIX]: [server], keys k0..k(N-1), client a using them all.
write_conf() {
	{
		echo "[server]"
		echo "listen = unix:$D/lurkd.sock"
		echo "static-key = $D/server.key"
		echo "audit-log = none"
		echo "workers = 1"
		for i in $(seq 0 $(($2 - 1))); do
			printf '\n[key k%s]\nsource = %s\nchain = %s\n' "$i" "$D/k/$i.key" "$D/k/$i.pem${3:-}"
		done
		printf '\n[client a]\npublic-key = %s\nkeys =' "$(cat "$D/a.pub")"
		for i in $(seq 0 $(($2 - 1))); do printf ' k%s' "$i"; done
		echo
	} >"$1"
}

# refused FILE REGEX NAME: --check-config fails and says REGEX ("lurkd: FILE:LINE: ...").
refused() {
	out=$("$LURKD" --check-config "$1" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && echo "$out" | grep -qE "$2"; then
		ok "$3"
	else
		not_ok "$3"
		diag "rc=$rc: $(echo "$out" | head -5)"
	fi
}

# --- exactly the limit loads and is served ------------------------------------
write_conf "$D/lurkd.conf" $MAX_KEYS
out=$("$LURKD" --check-config "$D/lurkd.conf" 2>&1)
case $out in
*"$D/lurkd.conf: ok"*"$MAX_KEYS keys"*) ok "--check-config accepts $MAX_KEYS keys" ;;
*) not_ok "--check-config accepts $MAX_KEYS keys"; diag "$(echo "$out" | head -5)" ;;
esac
check "lurkd starts with $MAX_KEYS keys" lurkd_start "$D"
list=$(lc "$D" a list 2>"$D/err")
check "client a lists all $MAX_KEYS keys" test "$(echo "$list" | grep -c ' type=3 ')" -eq $MAX_KEYS
check "... each once" test "$(echo "$list" | cut -d' ' -f1 | sort -u | wc -l)" -eq $MAX_KEYS
check "lurkd stops cleanly" lurkd_stop "$D"

# --- one key more -------------------------------------------------------------
write_conf "$D/over.conf" $((MAX_KEYS + 1))
line=$(grep -n "^\[key k$MAX_KEYS\]" "$D/over.conf" | cut -d: -f1)
refused "$D/over.conf" "$D/over.conf:$line: more than $MAX_KEYS keys" \
	"$((MAX_KEYS + 1)) keys refused at the extra key's line"

# --- key names: a label's length ----------------------------------------------
long=$(printf 'n%.0s' $(seq 1 $((MAX_LABEL + 1))))
write_conf "$D/name.conf" 1
printf '\n[key %s]\nsource = %s\nchain = %s\n' "$long" "$D/k/1.key" "$D/k/1.pem" >>"$D/name.conf"
line=$(grep -n "^\[key $long\]" "$D/name.conf" | cut -d: -f1)
refused "$D/name.conf" "$D/name.conf:$line: key name of $((MAX_LABEL + 1)) bytes, over the limit of $MAX_LABEL" \
	"a key name of $((MAX_LABEL + 1)) bytes refused at its line"
write_conf "$D/name-ok.conf" 1
printf '\n[key %s]\nsource = %s\nchain = %s\n' "${long:1}" "$D/k/1.key" "$D/k/1.pem" >>"$D/name-ok.conf"
check "a key name of $MAX_LABEL bytes loads" quiet "$LURKD" --check-config "$D/name-ok.conf"

# --- chains: the wire's certificate count ---------------------------------------
for n in $MAX_CHAIN $((MAX_CHAIN + 1)); do
	for i in $(seq 1 "$n"); do cat "$D/k/0.pem"; done >"$D/k/0.pem.$n"
	cp "$D/k/0.pem.$n" "$D/k/1.pem.$n"
done
write_conf "$D/chain.conf" 1 ".$((MAX_CHAIN + 1))"
line=$(grep -n '^\[key k0\]' "$D/chain.conf" | cut -d: -f1)
refused "$D/chain.conf" "$D/chain.conf:$line: key 'k0': .*0\.pem\.$((MAX_CHAIN + 1)): $((MAX_CHAIN + 1)) certificates, more than the limit of $MAX_CHAIN" \
	"a chain of $((MAX_CHAIN + 1)) certificates refused with the reason"
write_conf "$D/chain-ok.conf" 1 ".$MAX_CHAIN"
check "a chain of $MAX_CHAIN certificates loads" quiet "$LURKD" --check-config "$D/chain-ok.conf"

# --- the list response: every key with a long chain is over the message limit ---
# (printf, not cat: thousands of processes are slow on a loaded machine)
for i in $(seq 0 $((MAX_KEYS - 1))); do
	pem=$(<"$D/k/$i.pem")
	for j in $(seq 1 $MAX_CHAIN); do printf '%s\n' "$pem"; done >"$D/k/$i.pem.long"
done
write_conf "$D/big.conf" $MAX_KEYS ".long"
line=$(grep -n '^keys =' "$D/big.conf" | cut -d: -f1)
refused "$D/big.conf" "$D/big.conf:$line: client 'a': its $MAX_KEYS keys and chains make a list response of [0-9]+ bytes, over the limit of 1048576" \
	"a client whose list response would pass the message limit refused at its keys line"

#!/bin/bash
# lurk-pkcs11.so loaded as consumers load it (dlopen + C_GetFunctionList)
# against a real lurkd: PKCS#11 conformance (test-module-p11), every key and
# mechanism signed and verified, decryption, refusals, threads and fork
# (test-module-ops), fork while other threads sign (test-module-fork), then
# a lurkd that dies and restarts, pooled connections the server closes,
# failover to a second server, and a broken module configuration.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D/replica" >/dev/null 2>&1; lurkd_stop "$D/aged" >/dev/null 2>&1; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 21

LURK_TEST_MODULE=$(cd "$top_builddir" && pwd)/.libs/lurk-pkcs11.so
export LURK_TEST_MODULE

# module_conf FILE [extra server sections first]: the module's file for client a.
module_conf() {
	{
		printf '[module]\nclient-key = %s\nconnect-timeout = 1000\ntimeout = 2000\n\n' "$D/a.key"
		[ -n "$2" ] && printf '%s\n\n' "$2"
		printf '[server one]\naddress = unix:%s\npublic-key = %s\n' "$D/lurkd.sock" "$(cat "$D/server.pub")"
	} >"$1"
}

# run NAME PROGRAM: one TAP line for a whole program; its own lines become comments.
run() {
	_name=$1
	shift
	if out=$("$@" 2>&1); then ok "$_name"; else not_ok "$_name"; fi
	echo "$out" | sed 's/^/# /'
}

check "setup and start lurkd" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_setup '$D' >/dev/null && lurkd_start '$D'"
module_conf "$D/module.conf"
export LURK_PKCS11_CONF="$D/module.conf"

run "PKCS#11 conformance" "$top_builddir/tests/test-module-p11"
run "sign, decrypt, refusals, threads, fork" env LURK_TEST_MODE=ops "$top_builddir/tests/test-module-ops"
ops_out=$out
run "fork while other threads sign: each child signs in time, with or without C_Initialize" \
	"$top_builddir/tests/test-module-fork"

# The key server dies and comes back.
# (lurkd_stop's own status is wait's, meaningless outside the shell that started it.)
LURK_TEST_STOP=". '$top_srcdir/tests/lib-lurkd.sh'; p=\$(cat '$D/lurkd.bgpid'); lurkd_stop '$D'; ! kill -0 \$p 2>/dev/null"
LURK_TEST_START=". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_start '$D' >/dev/null"
export LURK_TEST_STOP LURK_TEST_START
run "a dead server gives CKR_DEVICE_ERROR in time; a restart costs a reconnect" \
	env LURK_TEST_MODE=outage "$top_builddir/tests/test-module-ops"
check "refusals and the outage are in the module's log lines, with the reason" \
	sh -c "echo \"\$0\" | grep -q 'lurkd refused sign with key ed25519: refused by usage policy (reason 4: ' &&
		echo \"\$1\" | grep -q 'no such socket: is lurkd running?'" "$ops_out" "$out"

# The server closes pooled connections (a relay in front of lurkd does it):
# while idle, replaced before use; as a request arrives, one retry on a new
# connection to the same server. No warning, no server down.
LURK_PKCS11_LOG=info LURK_TEST_DIR=$D run "connections the server closes are replaced, not errors" \
	env LURK_TEST_MODE=reuse "$top_builddir/tests/test-module-ops"
retried=$(echo "$out" | grep -c 'on a pooled connection (session [0-9a-f]*): retrying on a new connection')
replaced=$(echo "$out" | grep -c 'pooled connection (session [0-9a-f]*) closed by the server: replaced')
check "and the module logged no warning, $retried retry (1), $replaced replaced (3)" \
	sh -c '! echo "$0" | grep -q "warning:" && [ "$1" -eq 1 ] && [ "$2" -eq 3 ]' "$out" "$retried" "$replaced"

# lurkd with session-max-age = 10 (the least it takes) closes every session
# at that age: signing across it costs no error and no warning.
D3=$D/aged
mkdir -p "$D3"
cp -r "$D/pki" "$D/server.key" "$D/a.pub" "$D/b.pub" "$D3/"
lurkd_pick_port 5 >"$D3/port"
lurkd_write_conf "$D3" ""
sed -i 's/^\[server\]$/[server]\nsession-max-age = 10/' "$D3/lurkd.conf"
check "a lurkd with session-max-age = 10 starts" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_start '$D3' >/dev/null"
module_conf "$D/aged.conf"
# (Generous timeouts: this is about sessions closing, not a slow machine.)
sed -i -e "s|unix:$D/lurkd.sock|unix:$D3/lurkd.sock|" -e 's/^connect-timeout = .*/connect-timeout = 5000/' \
	-e 's/^timeout = .*/timeout = 5000/' "$D/aged.conf"
LURK_PKCS11_CONF="$D/aged.conf" LURK_PKCS11_LOG=info LURK_TEST_AGE_S=12 run "signing every 250 ms for 12 s across session-max-age" \
	env LURK_TEST_MODE=age "$top_builddir/tests/test-module-ops"
renewed=$(echo "$out" | grep -cE 'closed by the server: replaced|on a pooled connection .*: retrying on a new connection')
check "no warning; the session the server closed was replaced ($renewed times)" \
	sh -c '! echo "$0" | grep -q "warning:" && [ "$1" -ge 1 ]' "$out" "$renewed"
sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_stop '$D3'" >/dev/null 2>&1

# Failover: the first server listed is not there.
module_conf "$D/failover.conf" "$(printf '[server gone]\naddress = unix:%s\npublic-key = %s' "$D/nothing.sock" "$(cat "$D/server.pub")")"
LURK_PKCS11_CONF="$D/failover.conf" run "failover to the second server" \
	env LURK_TEST_MODE=failover "$top_builddir/tests/test-module-ops"

# Load spreading: two live replicas; concurrent callers' connections go to both.
D2=$D/replica
mkdir -p "$D2"
cp -r "$D/pki" "$D/server.key" "$D/a.pub" "$D/b.pub" "$D2/"
lurkd_pick_port 3 >"$D2/port"
lurkd_write_conf "$D2" ""
check "a second lurkd with the same keys starts" sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_start '$D2' >/dev/null"
module_conf "$D/spread.conf" "$(printf '[server two]\naddress = unix:%s\npublic-key = %s' "$D2/lurkd.sock" "$(cat "$D/server.pub")")"
cp "$D/audit.log" "$D/audit.log.before"
LURK_PKCS11_CONF="$D/spread.conf" run "8 threads signing through two replicas" \
	env LURK_TEST_MODE=threads "$top_builddir/tests/test-module-ops"
sh -c ". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_stop '$D2'" >/dev/null 2>&1
n1=$(($(grep -c '"key":"ec256"' "$D/audit.log") - $(grep -c '"key":"ec256"' "$D/audit.log.before")))
n2=$(grep -c '"key":"ec256"' "$D2/audit.log")
check "both replicas signed ($n1 and $n2 of 320)" test "$n1" -gt 0 -a "$n2" -gt 0 -a $((n1 + n2)) -ge 320

LURK_TEST_DIR=$D run "a server that never answers gives CKR_DEVICE_ERROR after the connect timeout" \
	env LURK_TEST_MODE=hang "$top_builddir/tests/test-module-ops"

# A PIN-protected client key: client p, allowed ec256 only.
echo 2468 >"$D/pin"
chmod 600 "$D/pin"
"$ADMIN" genkey --pin-file "$D/pin" "$D/p.key" >"$D/p.pub"
printf '\n[client p]\npublic-key = %s\nkeys = ec256\n' "$(cat "$D/p.pub")" >>"$D/lurkd.conf"
reloads=$(grep -c "configuration reloaded" "$D/lurkd.log")
kill -HUP "$(cat "$D/lurkd.pid")"
for _i in $(seq 1 100); do
	[ "$(grep -c "configuration reloaded" "$D/lurkd.log")" -gt "$reloads" ] && break
	sleep 0.1
done
sed "s|client-key = .*|client-key = $D/p.key|" "$D/module.conf" >"$D/pin.conf"
LURK_PKCS11_CONF="$D/pin.conf" LURK_TEST_PIN=2468 run "a PIN-protected client key: login required, wrong PIN refused, logout closes it" \
	env LURK_TEST_MODE=pin "$top_builddir/tests/test-module-ops"
out=$(LURK_PKCS11_CONF="$D/pin.conf" GNUTLS_PIN=2468 $TOOL_ENV p11tool --provider "$LURK_TEST_MODULE" \
	--list-privkeys --login "pkcs11:token=lurk" 2>&1)
check "p11tool --list-privkeys --login with the PIN lists the key" sh -c 'echo "$0" | grep -q "object=ec256;type=private"' "$out"
out=$(LURK_PKCS11_CONF="$D/pin.conf" $TOOL_ENV p11tool --provider "$LURK_TEST_MODULE" \
	--list-privkeys "pkcs11:token=lurk" 2>&1)
check "and without a login nothing" sh -c '! echo "$0" | grep -q "type=private"' "$out"

# A broken file: no slot, one clear line, no crash.
printf '[module]\nclient-key = %s\nbogus = 1\n' "$D/a.key" >"$D/broken.conf"
LURK_PKCS11_CONF="$D/broken.conf" run "a broken configuration gives no slot" \
	env LURK_TEST_MODE=noconf "$top_builddir/tests/test-module-ops"
check "and says which file, line and setting" sh -c "echo \"\$0\" | grep -q 'broken.conf:3: unknown key .bogus.'" "$out"

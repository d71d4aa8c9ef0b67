#!/bin/bash
# lurk-pkcs11.so loaded as consumers load it (dlopen + C_GetFunctionList)
# against a real lurkd: PKCS#11 conformance (test-module-p11), every key and
# mechanism signed and verified, decryption, refusals, threads and fork
# (test-module-ops), then a lurkd that dies and restarts, failover to a
# second server, and a broken module configuration.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D/replica" >/dev/null 2>&1; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 15

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

# The key server dies and comes back.
# (lurkd_stop's own status is wait's, meaningless outside the shell that started it.)
LURK_TEST_STOP=". '$top_srcdir/tests/lib-lurkd.sh'; p=\$(cat '$D/lurkd.bgpid'); lurkd_stop '$D'; ! kill -0 \$p 2>/dev/null"
LURK_TEST_START=". '$top_srcdir/tests/lib-lurkd.sh'; lurkd_start '$D' >/dev/null"
export LURK_TEST_STOP LURK_TEST_START
run "a dead server gives CKR_DEVICE_ERROR in time; a restart costs a reconnect" \
	env LURK_TEST_MODE=outage "$top_builddir/tests/test-module-ops"
check "refusals and the outage are in the module's log lines, with the reason" \
	sh -c "echo \"\$0\" | grep -q 'lurkd refused sign with key ed25519: refused by usage policy (reason 4: ' &&
		echo \"\$1\" | grep -q 'no key server answered'" "$ops_out" "$out"

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

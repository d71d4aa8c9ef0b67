#!/bin/bash
# Revocation and log rotation in the two ways lurkd is run:
#   1. started as root with user = nobody (privilege separated; key files
#      root-only): revoke a client while it signs — its next request fails,
#      the other client is undisturbed; rotate the audit log (rename + SIGHUP);
#      at exit the socket and pid file are gone;
#   2. started as the unprivileged user itself (systemd's User=): the same.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'touch "$D/stop" "$D/u/stop" 2>/dev/null; lurkd_stop "$D" >/dev/null 2>&1; lurkd_stop "$D/u" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 23

if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	echo "# this test needs root and a user 'nobody' (CI runs as root)" >&2
	for i in $(seq 1 23); do not_ok "needs root"; done
	exit 1
fi

# drill DIR LABEL: revocation while signing, then log rotation, on a running lurkd.
drill() {
	_d=$1
	_l=$2
	rm -f "$_d/stop"
	lc "$_d" a load "$_d/stop" ec256 >"$_d/load.a" 2>&1 &
	_pa=$!
	rm -f "$_d/b.hashes"
	lc "$_d" b load "$_d/stop" ec384 "$_d/b.hashes" >"$_d/load.b" 2>&1 &
	_pb=$!
	# Both are signing once the audit log shows each of them.
	lurkd_wait_audit() { # $1 client
		for _i in $(seq 1 3000); do
			grep -q "\"client\":\"$1\".*\"verdict\":\"allowed\"" "$_d/audit.log" && return 0
			sleep 0.02
		done
		return 1
	}
	check "$_l: clients a and b are signing" eval "lurkd_wait_audit a && lurkd_wait_audit b"
	sed '/^\[client b\]/,/^keys = ec384$/d' "$_d/lurkd.conf.full" >"$_d/lurkd.conf"
	check "$_l: revoking b (section removed, SIGHUP) reloads" lurkd_reload "$_d"
	_at_reload=$(wc -l <"$_d/b.hashes")
	# b's loader stops at its first request after the reload.
	_ok=0
	for _i in $(seq 1 3000); do
		kill -0 $_pb 2>/dev/null || { _ok=1; break; }
		sleep 0.02
	done
	wait $_pb
	_after=$(($(wc -l <"$_d/b.hashes") - _at_reload))
	check "$_l: b's next request fails ($(grep signed= "$_d/load.b"); $_after after the reload)" \
		test $_ok -eq 1 -a -n "$(grep 'failed=1' "$_d/load.b")" -a "$_after" -le 1
	check "$_l: lurkd closed b's connection for the reload" \
		grep -q "client removed from the configuration: connection closed" "$_d/lurkd.log"
	touch "$_d/stop"
	wait $_pa
	check "$_l: a was undisturbed ($(grep signed= "$_d/load.a"))" grep -q "failed=0" "$_d/load.a"
	check "$_l: b cannot connect again" sh -c "! lc '$_d' b ping >/dev/null 2>&1"
	# Rotation: rename, SIGHUP, the next lines go to a new file.
	mv "$_d/audit.log" "$_d/audit.log.1"
	lurkd_reload "$_d"
	_old=$(wc -l <"$_d/audit.log.1")
	lc_q "$_d" a sign ec256 ecdsa "$(rand_hex 32)"
	check "$_l: after rotation a signature is audited in a new audit.log" \
		grep -q '"client":"a","key":"ec256".*"verdict":"allowed"' "$_d/audit.log"
	check "$_l: ... and not in the renamed file" test "$(wc -l <"$_d/audit.log.1")" -eq "$_old"
}

# 1. Root, privilege separated.
lurkd_setup "$D" || exit 1
sed -i "s/^workers = 2$/workers = 2\nuser = nobody/" "$D/lurkd.conf"
cp "$D/lurkd.conf" "$D/lurkd.conf.full"
check "root + user = nobody: lurkd starts" lurkd_start "$D"
drill "$D" "privilege separated"
# A live TCP connection whose source prefix is removed by a reload is closed.
sed "s|^keys = ec384$|keys = ec384\nsources = 127.0.0.0/8|" "$D/lurkd.conf.full" >"$D/lurkd.conf"
lurkd_reload "$D"
sed "s|^keys = ec384$|keys = ec384\nsources = 192.0.2.0/24|" "$D/lurkd.conf.full" >"$D/lurkd.conf.moved"
lurkd_hold_reload "$D" lc_tcp b "$D/lurkd.conf.moved"
check "a live connection is closed when a reload removes its source prefix" \
	grep -q "second ping: failed" "$D/hold.out"
check "... and lurkd says why" grep -q "client b from 127.0.0.1:[0-9]*: source no longer allowed" "$D/lurkd.log"
check "privilege separated: SIGTERM stops lurkd" lurkd_stop "$D"
check "privilege separated: socket and pid file are removed" \
	test ! -e "$D/lurkd.sock" -a ! -e "$D/lurkd.pid"

# 2. Started as nobody (as under systemd User=): its own files, one process.
U=$D/u
mkdir -p "$U/pki"
cp "$D/pki/"* "$U/pki/"
cp "$D/server.key" "$D/server.pub" "$D/a.key" "$D/b.key" "$D/a.pub" "$D/b.pub" "$D/port" "$U/"
lurkd_pick_port 7 >"$U/port"
lurkd_write_conf "$U" ""
sed -i "s/^workers = 2$/workers = 2\nuser = nobody/" "$U/lurkd.conf"
cp "$U/lurkd.conf" "$U/lurkd.conf.full"
cp "$LURKD" "$U/lurkd"
chown -R nobody:nogroup "$U"
chmod 711 "$D"
(cd "$U" && exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
	./lurkd -c "$U/lurkd.conf" --pid-file "$U/lurkd.pid" 2>>"$U/lurkd.log") &
echo $! >"$U/lurkd.bgpid"
check "started as nobody: lurkd starts" lurkd_wait_log "$U" "lurkd ready" 1
drill "$U" "started as nobody"
check "started as nobody: SIGTERM stops lurkd" lurkd_stop "$U"
finish

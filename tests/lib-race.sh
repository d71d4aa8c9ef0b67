# The lurkd that test-module-race.sh and test-module-tsan.sh run their
# programs against (source tests/lib.sh and tests/lib-lurkd.sh first).
#   race_start       a scratch folder D (removed at exit, its lurkd stopped),
#                    B the build folder, LURK_TEST_MODULE; then race_lurkd "$D"
#   race_lurkd DIR   lurkd_setup and lurkd_start, with a client p whose key
#                    is sealed under the PIN LURK_TEST_PIN and may use ec256;
#                    and the module's files (timeouts generous for a loaded
#                    or TSan machine): DIR/a.conf for client a; DIR/race.conf
#                    (client a) and DIR/pin.conf (client p) with fewer idle
#                    connections than signing threads, so that connections
#                    are made all the time and a logout or a finalize meets
#                    handshakes under way as well as pooled connections
LURK_TEST_PIN=2468
export LURK_TEST_PIN

# race_conf DIR CLIENT FILE [MODULE LINES]
race_conf() {
	{
		printf '[module]\nclient-key = %s\nconnect-timeout = 5000\ntimeout = 10000\n%s\n\n' "$1/$2.key" "$4"
		printf '[server one]\naddress = unix:%s\npublic-key = %s\n' "$1/lurkd.sock" "$(cat "$1/server.pub")"
	} >"$1/$3"
}

race_lurkd() {
	_d=$1
	lurkd_setup "$_d" >/dev/null || return 1
	echo "$LURK_TEST_PIN" >"$_d/pin" && chmod 600 "$_d/pin" || return 1
	"$ADMIN" genkey --pin-file "$_d/pin" "$_d/p.key" >"$_d/p.pub" || return 1
	printf '\n[client p]\npublic-key = %s\nkeys = ec256\n' "$(cat "$_d/p.pub")" >>"$_d/lurkd.conf"
	race_conf "$_d" a a.conf
	race_conf "$_d" a race.conf "idle-connections = 2"
	race_conf "$_d" p pin.conf "idle-connections = 2"
	lurkd_start "$_d" 2>/dev/null && return 0
	# A TSan lurkd on a loaded machine loads its keys slower than lurkd_start
	# waits for (5 s): while it lives, its socket and pid file are to come.
	_end=$(($(date +%s) + 60))
	until [ -S "$_d/lurkd.sock" ] && [ -f "$_d/lurkd.pid" ]; do
		if ! kill -0 "$(cat "$_d/lurkd.bgpid")" 2>/dev/null || [ "$(date +%s)" -ge "$_end" ]; then
			sed 's/^/# lurkd: /' "$_d/lurkd.log" >&2
			return 1
		fi
		sleep 0.05
	done
}

race_start() {
	make_tmpdir
	D=$TEST_TMP
	trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
	B=$(cd "$top_builddir" && pwd)
	LURK_TEST_MODULE=$B/.libs/lurk-pkcs11.so
	export LURK_TEST_MODULE
	race_lurkd "$D"
}

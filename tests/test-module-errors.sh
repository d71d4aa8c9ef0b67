#!/bin/bash
# An operator's first mistakes, each made for real, each answered by one
# exact line on the module's stderr saying what to fix: lurkd not running
# (stopped: no socket; crashed: a socket nobody listens on; TCP), a socket
# this user may not open, a wrong server public key, a client key lurkd does
# not know (with the fingerprint lurkd logs and lurk-admin prints), a client
# outside its validity window, a lurkd at max-connections, and a key label
# that is not in the token. A stale msg1 (the clocks) and an older lurkd that
# closes without a refusal come from a small fake server.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; for p in fake hold; do [ -f "$D/$p.pid" ] && kill "$(cat "$D/$p.pid")"; done 2>/dev/null; rm -rf "$D"' EXIT
plan 21

MODULE=$(cd "${top_builddir:-.}" && pwd)/.libs/lurk-pkcs11.so
LIMIT="timeout 20 $TOOL_ENV" # no tool may hang the test
URI="pkcs11:token=lurk"

# conf FILE CLIENT_KEY ADDRESS SERVER_PUB: the module's file, one server "a".
conf() {
	printf '[module]\nclient-key = %s\nconnect-timeout = 2000\n\n[server a]\naddress = %s\npublic-key = %s\n' \
		"$2" "$3" "$4" >"$1"
}

# p11 CONF NAME ARGS...: p11tool on the module with CONF; stderr in $D/NAME.err.
p11() {
	_c=$1
	_n=$2
	shift 2
	LURK_PKCS11_CONF=$_c $LIMIT p11tool --provider "$MODULE" "$@" </dev/null >"$D/$_n.out" 2>"$D/$_n.err"
}

# The module's warnings in a stderr file, the "lurk-pkcs11[PID]: warning: " prefix removed.
warnings() {
	sed -n 's/^lurk-pkcs11\[[0-9]*\]: warning: //p' "$1"
}

# says NAME FILE LINE: ok when the module warned exactly LINE (a whole line).
says() {
	if warnings "$2" | grep -qxF -- "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diag "expected: $3"
		sed 's/^/# got: /' "$2"
	fi
}

# --- a running lurkd ------------------------------------------------------------
# Client "late" is known but its validity window is over.
if lurkd_setup "$D" >"$D/setup.log" 2>&1 &&
	"$ADMIN" genkey "$D/late.key" >"$D/late.pub" &&
	lurkd_write_conf "$D" "$(printf '\n[client late]\npublic-key = %s\nkeys = ec256\nnot-after = 2001-01-01T00:00:00Z' "$(cat "$D/late.pub")")" &&
	lurkd_start "$D" 2>>"$D/setup.log"; then
	ok "setup and start lurkd"
else
	not_ok "setup and start lurkd"
	sed 's/^/# /' "$D/setup.log"
	exit 1
fi
SOCK=unix:$D/lurkd.sock
TCP=tcp:127.0.0.1:$(cat "$D/port")
SPUB=$(cat "$D/server.pub")
conf "$D/good.conf" "$D/a.key" "$SOCK" "$SPUB"

p11 "$D/good.conf" good --list-privkeys "$URI"
check "a good configuration lists the keys; the module logs nothing" \
	sh -c 'grep -q "object=ec256;type=private" "$0" && ! grep -q "^lurk-pkcs11" "$1"' "$D/good.out" "$D/good.err"

# --- 5. a label that is not in the token ------------------------------------------
p11 "$D/good.conf" label --test-sign "$URI;object=ec265"
says "a wrong label in a URI names the labels there are" "$D/label.err" \
	"no key labelled 'ec265' in token 'lurk' (this client has: rsa2048, rsa3072, ec256, ec384, ec521, ed25519)"
check "once for the one search" test "$(grep -c 'no key labelled' "$D/label.err")" -eq 1
p11 "$D/good.conf" right --test-sign "$URI;object=ec256"
check "a right label signs and the module logs nothing" \
	sh -c '[ "$0" -eq 0 ] && ! grep -q "^lurk-pkcs11" "$1"' $? "$D/right.err"

# --- 3. a wrong server public key ---------------------------------------------------
conf "$D/wrong-pk.conf" "$D/a.key" "$SOCK" "$(cat "$D/b.pub")"
p11 "$D/wrong-pk.conf" wrong-pk --list-privkeys "$URI"
says "a wrong public-key for the server: check it" "$D/wrong-pk.err" \
	"the key server at $SOCK did not accept our handshake: check public-key for server a in $D/wrong-pk.conf"

# --- 4. a client key lurkd does not know ---------------------------------------------
conf "$D/stranger.conf" "$D/stranger.key" "$TCP" "$SPUB"
p11 "$D/stranger.conf" stranger --list-privkeys "$URI"
FP=$("$ADMIN" fingerprint "$(cat "$D/stranger.pub")")
says "an unknown client key: its fingerprint, and what to add to lurkd.conf" "$D/stranger.err" \
	"the key server at $TCP refused this client key (fingerprint $FP): add it to lurkd.conf as a [client] with public-key = $(cat "$D/stranger.pub")"
check "lurkd's log names the same fingerprint" grep -q "warning: unknown client key $FP from 127.0.0.1" "$D/lurkd.log"

# --- a known client refused now ---------------------------------------------------------
conf "$D/late.conf" "$D/late.key" "$SOCK" "$SPUB"
p11 "$D/late.conf" late --list-privkeys "$URI"
says "a client outside its validity window: see lurkd's log" "$D/late.err" \
	"the key server at $SOCK refused this client now (source address or validity window): see lurkd's log"
check "which says why" grep -q "client late refused from .*: outside its validity window" "$D/lurkd.log"

# --- 2. a user that may not open the socket (socket-mode 0660, root's group) -------------
mkdir -p "$D/nobody"
cp "$D/a.key" "$D/nobody/a.key"
conf "$D/nobody/module.conf" "$D/nobody/a.key" "$SOCK" "$SPUB"
chown -R nobody:nogroup "$D/nobody"
chmod 0711 "$D"
AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=$D/nobody"
if $AS_NOBODY test -r "$D/nobody/module.conf"; then
	LURK_PKCS11_CONF=$D/nobody/module.conf $AS_NOBODY $LIMIT p11tool --provider "$MODULE" \
		--list-privkeys "$URI" </dev/null >"$D/eacces.out" 2>"$D/eacces.err"
	says "another user: permission denied on the socket, see socket-mode" "$D/eacces.err" \
		"key server a ($SOCK): permission denied: this user may not use lurkd's socket (see socket-mode in lurkd.conf)"
else
	ok "# SKIP nobody cannot reach $D (a parent folder is closed to others)"
fi

# --- 1. lurkd not running ------------------------------------------------------------------
# Crashed: its socket file is left with nobody listening.
LPID=$(cat "$D/lurkd.bgpid")
kill -KILL "$LPID"
wait "$LPID" 2>/dev/null
rm -f "$D/lurkd.bgpid"
check "a killed lurkd leaves its socket file" test -S "$D/lurkd.sock"
p11 "$D/good.conf" crashed --list-privkeys "$URI"
says "a socket nobody listens on: connection refused, is lurkd running?" "$D/crashed.err" \
	"key server a ($SOCK): connection refused: is lurkd running?"
check "and no other line: one line per server failure, not one per call" \
	test "$(grep -c "lurk-pkcs11" "$D/crashed.err")" -eq 1
conf "$D/tcp.conf" "$D/a.key" "$TCP" "$SPUB"
p11 "$D/tcp.conf" tcp --list-privkeys "$URI"
says "TCP: connection refused, is lurkd running?" "$D/tcp.err" \
	"key server a ($TCP): connection refused: is lurkd running?"
# Stopped: lurkd removes its socket when it exits.
rm -f "$D/lurkd.pid"
lurkd_start "$D" >/dev/null 2>&1
started=$?
lurkd_stop "$D" >/dev/null 2>&1
check "lurkd started again, then stopped, removes its socket file" \
	test "$started" -eq 0 -a ! -e "$D/lurkd.sock"
p11 "$D/good.conf" stopped --list-privkeys "$URI"
says "no socket file: is lurkd running?" "$D/stopped.err" \
	"key server a ($SOCK): no such socket: is lurkd running?"

# --- a lurkd at max-connections -----------------------------------------------------------
# With max-connections = 1 and one authenticated connection held (a client
# that has pinged and waits), the module's connection is refused: only
# connections still in their handshake give way to newcomers.
sed -i 's/^workers = 2$/workers = 1\nmax-connections = 1/' "$D/lurkd.conf"
if lurkd_start "$D" >/dev/null 2>&1; then
	lc "$D" a hold "$D/release" >"$D/hold.out" 2>&1 &
	hold_pid=$!
	for _i in $(seq 1 500); do grep -q . "$D/hold.out" 2>/dev/null && break; sleep 0.02; done
	p11 "$D/good.conf" busy --list-privkeys "$URI"
	says "a lurkd at max-connections says so" "$D/busy.err" \
		"the key server at $SOCK is busy: at max-connections, or at its cap per source address or per client key (lurkd's log says which); try again later or raise the limit in lurkd.conf"
	p11 "$D/tcp.conf" busy-tcp --list-privkeys "$URI"
	says "the same over TCP" "$D/busy-tcp.err" \
		"the key server at $TCP is busy: at max-connections, or at its cap per source address or per client key (lurkd's log says which); try again later or raise the limit in lurkd.conf"
	touch "$D/release"
	wait "$hold_pid"
	lurkd_stop "$D" >/dev/null 2>&1
else
	not_ok "lurkd with max-connections = 1 and one connection held"
	not_ok "the same over TCP"
fi

# --- a fake server: a stale msg1, and a lurkd too old to send refusals -------------------------
# fake ANSWER_HEX: a server on $D/fake.sock that answers each whole msg1 (a
# frame of 112 bytes) with ANSWER_HEX, then closes. It goes to the
# background once listening, so the socket is ready when it returns.
cat >"$D/fake.py" <<'EOF'
import os, socket, sys
path, answer, pidfile = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
pid = os.fork()
if pid > 0:
    with open(pidfile, "w") as f:
        f.write(str(pid))
    os._exit(0)
while True:
    c, _ = s.accept()
    got = b""
    while len(got) < 114:
        d = c.recv(114 - len(got))
        if not d:
            break
        got += d
    if got[:2] == bytes([0, 112]) and len(got) == 114:
        c.sendall(answer)
    c.close()
EOF
fake() {
	[ -f "$D/fake.pid" ] && kill "$(cat "$D/fake.pid")" 2>/dev/null
	python3 "$D/fake.py" "$D/fake.sock" "$1" "$D/fake.pid" </dev/null >/dev/null 2>&1
}
FAKE=unix:$D/fake.sock
conf "$D/fake.conf" "$D/a.key" "$FAKE" "$SPUB"
if command -v python3 >/dev/null 2>&1 && fake 0002ff04; then
	p11 "$D/fake.conf" stale --list-privkeys "$URI"
	says "a stale or replayed msg1 (refusal 4): check the clocks" "$D/stale.err" \
		"the key server at $FAKE refused our handshake as replayed or out of its time window: check both machines' clocks"
	fake ""
	p11 "$D/fake.conf" old --list-privkeys "$URI"
	FP=$("$ADMIN" fingerprint "$(cat "$D/a.pub")")
	says "a lurkd that closes without a refusal: both likely causes" "$D/old.err" \
		"the key server at $FAKE closed the connection during the handshake: check public-key for server a in $D/fake.conf, and that lurkd.conf has this client key (fingerprint $FP)"
else
	for t in stale old; do ok "# SKIP no python3 for the fake server ($t)"; done
fi

finish

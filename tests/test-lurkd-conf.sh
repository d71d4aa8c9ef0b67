#!/bin/bash
# lurkd.conf as a person writes it: the README's sample, inline comments
# included, copied with its paths pointed at real files, passes
# --check-config; and a unix socket in a directory that does not exist yet
# gets that directory (mode 0750, logged), or a refusal that says why.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D/b" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 17

setup() {
	make_pki "$D/pki" || return 1
	"$ADMIN" genkey "$D/server.key" >"$D/server.pub" || return 1
	"$ADMIN" genkey "$D/a.key" >"$D/a.pub" || return 1
	# The same key encrypted, for the sample's commented-out password-file.
	openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$D/pki/ec256.key" -passin pass: -passout pass:s3cret \
		-out "$D/www-ec-enc.key" </dev/null 2>/dev/null || return 1
	printf 's3cret\n' >"$D/www-ec.pass"
	chmod 600 "$D/www-ec-enc.key" "$D/www-ec.pass"
}
# Not through check: make_pki's helpers reuse check's variables.
if setup; then ok "setup: PKI, server and client keys"; else not_ok "setup: PKI, server and client keys"; fi

# --- a. The README's lurkd.conf sample, copied -------------------------------

# The ```ini block right after the line "`lurkd.conf`:".
awk '
	$0 == "`lurkd.conf`:" { state = 1; next }
	state == 1 && $0 == "```ini" { state = 2; next }
	state == 1 && NF { exit }
	state == 2 && /^```/ { exit }
	state == 2 { print }
' "${top_srcdir:-.}/README.md" >"$D/sample.conf"
check "README.md has the lurkd.conf sample" grep -q '^\[server\]' "$D/sample.conf"
# The point of copying it: a value followed by blanks and a '#' comment.
check "the sample has inline comments" grep -qE '^[a-z-]+ *= *[^ #]+.*[ 	]#' "$D/sample.conf"

# The sample's key names onto make_pki's files: www-ec is a P-256 key.
port=$(lurkd_pick_port 2)
sed -e "s|unix:/run/lurk/|unix:$D/run/lurk/|" \
	-e "s|^\(listen *= *tcp:127\.0\.0\.1:\)[0-9]*|\1$port|" \
	-e "s|/etc/lurk/server\.key|$D/server.key|g" \
	-e "s|/var/log/lurk/audit\.log|$D/audit.log|" \
	-e "s|/etc/lurk/keys/www-ec\.pem|$D/pki/ec256.key|" \
	-e "s|/etc/lurk/keys/www-ec-chain\.pem|$D/pki/ec256-chain.pem|" \
	-e "s|/etc/lurk/keys/www-ec\.pass|$D/www-ec.pass|" \
	-e "s|^user *= *[^ ]*|user = nobody|" \
	-e "s|^public-key *= *<[^>]*>|public-key = $(cat "$D/a.pub")|" \
	"$D/sample.conf" >"$D/lurkd.conf"
# A path the rewrite missed would point lurkd at this machine's files.
left=$(sed "s|$D|@TMP@|g" "$D/lurkd.conf" | grep -nE '(^|[ =:])/(etc|run|var)/|<[^>]*>')
check "the copied sample names no system path and no placeholder" test -z "$left"
[ -z "$left" ] || diag "$left"

out=$("$LURKD" --check-config "$D/lurkd.conf" 2>&1)
rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -q "^$D/lurkd.conf: ok"; then
	ok "--check-config accepts the README sample"
else
	not_ok "--check-config accepts the README sample"
	diag "rc=$rc: $out"
fi
# The values were read without their comments: every listen, key and client counted.
want="$(grep -c '^listen *=' "$D/lurkd.conf") listen, $(grep -c '^\[key ' "$D/lurkd.conf") keys, $(grep -c '^\[client ' "$D/lurkd.conf") clients"
case $out in
*"($want)"*) ok "--check-config counts the sample's $want" ;;
*) not_ok "--check-config counts the sample's $want" ;;
esac

# Its commented-out password-file line, uncommented, works as it stands.
sed -e "s|^# *\(password-file *=\)|\1|" -e "s|^\(source *= *\)$D/pki/ec256\.key|\1$D/www-ec-enc.key|" \
	"$D/lurkd.conf" >"$D/lurkd-pass.conf"
if grep -q "^password-file = $D/www-ec.pass " "$D/lurkd-pass.conf" &&
	out=$("$LURKD" --check-config "$D/lurkd-pass.conf" 2>&1); then
	ok "the sample's password-file line, uncommented, opens an encrypted key"
else
	not_ok "the sample's password-file line, uncommented, opens an encrypted key"
	diag "$out"
fi

# --- b. A unix socket in a missing directory ---------------------------------

# lurkd_start waits for $D/b/lurkd.sock and the pid file, written once every
# listen socket is open; the first socket's directory does not exist yet.
mkdir -p "$D/b"
cat >"$D/b/lurkd.conf" <<EOC
[server]
listen = unix:$D/b/run/sub/lurkd.sock   # its directory is created
listen = unix:$D/b/lurkd.sock
static-key = $D/server.key
audit-log = $D/b/audit.log
workers = 1

[key ec256]
source = $D/pki/ec256.key
chain = $D/pki/ec256-chain.pem

[client a]
public-key = $(cat "$D/a.pub")
keys = ec256
EOC
check "lurkd starts with a unix socket in a missing directory" lurkd_start "$D/b"
check "the socket is in the new directory" test -S "$D/b/run/sub/lurkd.sock"
check "the new directory has mode 750" test "$(stat -c %a "$D/b/run/sub" 2>&1)" = 750
check "its missing parent too has mode 750" test "$(stat -c %a "$D/b/run" 2>&1)" = 750
check "the log says, at info level, which directory was created for which socket" grep -qF \
	": info: created directory $D/b/run/sub (mode 0750) for unix socket $D/b/run/sub/lurkd.sock" \
	"$D/b/lurkd.log"
check "a client reaches lurkd through it" quiet "$LURK_CLIENT" -a "unix:$D/b/run/sub/lurkd.sock" \
	-s "$(cat "$D/server.pub")" -k "$D/a.key" ping
check "lurkd stops" lurkd_stop "$D/b"

created=$(grep -c 'created directory' "$D/b/lurkd.log")
if lurkd_start "$D/b" && [ "$(grep -c 'created directory' "$D/b/lurkd.log")" -eq "$created" ]; then
	ok "a second start uses the directory as it is"
else
	not_ok "a second start uses the directory as it is"
fi
check "lurkd stops again" lurkd_stop "$D/b"

# A directory that cannot be created: a file stands where a parent should be.
mkdir -p "$D/c"
echo "a file" >"$D/c/file"
sed "s|unix:$D/b/run/sub/|unix:$D/c/file/sub/|; s|unix:$D/b/lurkd.sock|unix:$D/c/lurkd.sock|" \
	"$D/b/lurkd.conf" >"$D/c/lurkd.conf"
timeout 60 "$LURKD" -c "$D/c/lurkd.conf" >/dev/null 2>"$D/c/lurkd.log"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ ! -e "$D/c/file/sub" ] &&
	grep -qE "(cannot create directory|directory) $D/c/file/sub (for unix socket|does not exist and cannot be created).*: .*[Nn]ot a directory" "$D/c/lurkd.log"; then
	ok "lurkd refuses a socket directory it cannot create, saying why"
else
	not_ok "lurkd refuses a socket directory it cannot create, saying why"
	diag "rc=$rc: $(cat "$D/c/lurkd.log")"
fi
finish

#!/bin/bash
# The systemd files lurkd ships (systemd/, issue 17), checked offline: no
# running systemd is needed (CI runs in a container where it is not PID 1).
#   - systemd-analyze verify accepts the generated lurkd.service (a copy whose
#     ExecStart names the built lurkd; Documentation= resolves to the built
#     man pages);
#   - systemd-analyze security --offline scores its sandbox at most
#     MAX_EXPOSURE (2.0), and --threshold enforces it;
#   - every system call lurkd makes (start, signatures over unix and TCP,
#     reload, stop, its sd_notify datagrams; traced with strace) passes the
#     unit's SystemCallFilter=, every socket it opens RestrictAddressFamilies=;
#   - systemd-sysusers and systemd-tmpfiles, in a scratch root, make _lurk
#     and the folders with the owners and modes the unit and docs state;
#   - logrotate rotates the audit log with the shipped rules and runs the
#     reload (a recording systemctl on PATH).
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
RECV_PID=""
trap 'lurkd_stop "$D/run" >/dev/null 2>&1; [ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null; rm -rf "$D"' EXIT
plan 25

MAX_EXPOSURE=2.0
B=$(cd "$top_builddir" && pwd)
UNIT=$B/systemd/lurkd.service
LURKD_ABS=$B/lurkd

# --- the unit ------------------------------------------------------------------------
check "lurkd.service is generated with no @...@ left" \
	sh -c "test -f '$UNIT' && ! grep -q '@[a-z]*@' '$UNIT'"
check "ExecStart runs lurkd in the foreground on /etc/lurk/lurkd.conf" \
	grep -qx 'ExecStart=.*/lurkd -c /etc/lurk/lurkd.conf' "$UNIT"
check "Type=notify, User=_lurk, reload by SIGHUP" \
	sh -c "grep -qx Type=notify '$UNIT' && grep -qx User=_lurk '$UNIT' &&
		grep -qx 'ExecReload=/bin/kill -HUP \$MAINPID' '$UNIT'"

# A copy naming the built lurkd: verify checks that ExecStart's program exists.
mkdir -p "$D/unit" "$D/man/man8" "$D/man/man5"
sed -e "s|^\(ExecStart[A-Za-z]*=\)[^ ]*/lurkd |\1$LURKD_ABS |" "$UNIT" >"$D/unit/lurkd.service"
cp "$B/man/lurkd.8" "$D/man/man8/" && cp "$B/man/lurkd.conf.5" "$D/man/man5/"
if MANPATH="$D/man" systemd-analyze verify "$D/unit/lurkd.service" >"$D/verify.out" 2>&1; then
	ok "systemd-analyze verify accepts the unit"
else
	not_ok "systemd-analyze verify accepts the unit"
	sed 's/^/# /' "$D/verify.out"
fi

systemd-analyze security --offline=yes "$D/unit/lurkd.service" >"$D/security.out" 2>&1
score=$(sed -n 's/.*Overall exposure level for lurkd.service: \([0-9.]*\).*/\1/p' "$D/security.out")
diag "systemd-analyze security: exposure $score (at most $MAX_EXPOSURE; 0 best, 10 worst)"
grep '✗' "$D/security.out" | sed 's/  */ /g; s/^/#   /'
check "the exposure score is at most $MAX_EXPOSURE" \
	awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s != "" && s + 0 <= m + 0) }'
limit=$(awk -v m="$MAX_EXPOSURE" 'BEGIN { printf "%d", m * 10 }')
check "systemd-analyze security --threshold=$limit passes" \
	quiet systemd-analyze security --offline=yes --threshold="$limit" "$D/unit/lurkd.service"
check_fails "the threshold bites: --threshold=5 (0.5) fails" \
	quiet systemd-analyze security --offline=yes --threshold=5 "$D/unit/lurkd.service"

# --- the system call filter against what lurkd does ------------------------------------
# expand GROUP: the system calls of a systemd group, nested groups included.
expand() {
	systemd-analyze syscall-filter "$1" | sed 's/#.*//' | awk 'NR > 1 && NF { print $1 }' |
		while read -r _s; do
			case $_s in
			@*) expand "$_s" ;;
			*) echo "$_s" ;;
			esac
		done
}
: >"$D/allow"
: >"$D/deny"
sed -n 's/^SystemCallFilter=//p' "$UNIT" >"$D/filters"
while read -r line; do
	case $line in
	"~"*) out=deny line=${line#\~} ;;
	*) out=allow ;;
	esac
	for item in $line; do
		case $item in
		@*) expand "$item" >>"$D/$out" ;;
		*) echo "$item" >>"$D/$out" ;;
		esac
	done
done <"$D/filters"
sort -u "$D/allow" -o "$D/allow"
sort -u "$D/deny" -o "$D/deny"
comm -23 "$D/allow" "$D/deny" >"$D/effective"
diag "filter: $(wc -l <"$D/allow") allowed, $(wc -l <"$D/deny") taken back"
check "the filter allows some and denies some" test -s "$D/effective" -a -s "$D/deny"

R=$D/run
lurkd_setup "$R" >/dev/null 2>&1 || exit 1
# LeakSanitizer (an --enable-asan build) cannot work under ptrace: off here.
printf '#!/bin/sh\nASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \\\n\texec strace -f -qq -o "%s/trace" "%s" "$@"\n' \
	"$R" "$LURKD_ABS" >"$R/traced"
chmod +x "$R/traced"
LURKD=$R/traced
# A service manager's notification socket, so the notify calls are traced too.
"${top_builddir:-.}/tests/notify-recv" "$R/notify.sock" "$R/notify.out" 120 &
RECV_PID=$!
for i in $(seq 1 1000); do [ -f "$R/notify.out.ready" ] && break; sleep 0.01; done
start_traced() { NOTIFY_SOCKET="$R/notify.sock" lurkd_start "$R"; }
check "lurkd starts under strace" start_traced
check "a signature over the unix socket" lc_q "$R" a sign ec256 ecdsa "$(rand_hex 32)"
check "a signature over TCP" lc_tcp_q "$R" a sign rsa2048 sha256-rsa-pss "$(tls13_content 32)"
check "a reload" lurkd_reload "$R"
# SIGTERM to lurkd itself (the background job is strace), then strace's end.
kill -TERM "$(cat "$R/lurkd.pid")"
check "lurkd stops" wait "$(cat "$R/lurkd.bgpid")"
rm -f "$R/lurkd.bgpid"
# "PID name(args" lines; resumed, signal and exit lines carry no name.
awk '{ s = $2; sub(/\(.*/, "", s); if (s ~ /^[a-z_0-9]+$/) print s }' "$R/trace" |
	sort -u >"$R/made"
diag "lurkd made $(wc -l <"$R/made") distinct system calls"
comm -23 "$R/made" "$D/effective" >"$R/refused"
check "the trace has lurkd's calls (signalfd4, accept4, prctl)" \
	sh -c "grep -qx signalfd4 '$R/made' && grep -qx accept4 '$R/made' && grep -qx prctl '$R/made'"
if [ -s "$R/refused" ]; then
	not_ok "every system call lurkd made passes the unit's filter"
	diag "refused: $(tr '\n' ' ' <"$R/refused")"
else
	ok "every system call lurkd made passes the unit's filter"
fi
kill "$RECV_PID" 2>/dev/null
wait "$RECV_PID" 2>/dev/null
RECV_PID=""
check "the trace includes lurkd's READY=1 and STOPPING=1 datagrams" \
	sh -c "grep -q '^READY=1' '$R/notify.out' && grep -q '^STOPPING=1' '$R/notify.out'"
# The socket families lurkd opened, against RestrictAddressFamilies=.
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$UNIT")
used=$(sed -n 's/^[0-9]* *socket(\(AF_[A-Z0-9]*\),.*/\1/p' "$R/trace" | sort -u | tr '\n' ' ')
bad=""
for f in $used; do
	case " $families " in *" $f "*) ;; *) bad="$bad $f" ;; esac
done
diag "socket families used: $used(allowed: $families)"
check "lurkd opened only families RestrictAddressFamilies= allows${bad:+ (not:$bad)}" \
	sh -c "test -n '$used' && test -z '$bad'"

# --- sysusers.d and tmpfiles.d in a scratch root -------------------------------------------
ROOT=$D/root
mkdir -p "$ROOT/etc"
check "systemd-sysusers --root creates _lurk" \
	quiet systemd-sysusers --root="$ROOT" "$B/systemd/sysusers.d/lurk.conf"
uid=$(awk -F: '$1 == "_lurk" { print $3 }' "$ROOT/etc/passwd" 2>/dev/null)
gid=$(awk -F: '$1 == "_lurk" { print $3 }' "$ROOT/etc/group" 2>/dev/null)
check "_lurk is a system user with no login shell" \
	sh -c "test -n '$uid' && test -n '$gid' && test '$uid' -lt 1000 &&
		grep -q '^_lurk:.*:/usr/sbin/nologin$' '$ROOT/etc/passwd'"
check "systemd-tmpfiles --root --create applies lurk.conf" \
	quiet systemd-tmpfiles --root="$ROOT" --create "$B/systemd/tmpfiles.d/lurk.conf"
check "/etc/lurk is root:root 0755 (the module's file in it is read by TLS servers)" test "$(stat -c '%u:%g %a' "$ROOT/etc/lurk")" = "0:0 755"
bad=""
for f in run/lurk var/log/lurk var/lib/lurk; do
	[ "$(stat -c '%u:%g %a' "$ROOT/$f" 2>/dev/null)" = "$uid:$gid 750" ] || bad="$bad /$f"
done
check "/run/lurk, /var/log/lurk, /var/lib/lurk are _lurk:_lurk 0750${bad:+ (not:$bad)}" test -z "$bad"

# --- logrotate ------------------------------------------------------------------------
# The shipped rules on a scratch audit log: its path, and the user logrotate
# switches to (_lurk may not exist on this machine), are the only changes.
L=$D/log
mkdir -p "$L/bin"
me=$(id -un)
grp=$(id -gn)
sed -e "s|/var/log/lurk/audit.log|$L/audit.log|" -e "s/_lurk _lurk/$me $grp/g" \
	"$B/systemd/logrotate.d/lurkd" >"$L/lurkd"
printf '#!/bin/sh\necho "$*" >>"%s/systemctl.calls"\n' "$L" >"$L/bin/systemctl"
chmod +x "$L/bin/systemctl"
echo '{"op":"sign"}' >"$L/audit.log"
if PATH="$L/bin:$PATH" logrotate -f -s "$L/state" "$L/lurkd" >"$L/out" 2>&1; then
	ok "logrotate runs the rules"
else
	not_ok "logrotate runs the rules"
	sed 's/^/# /' "$L/out"
fi
check "the audit log was rotated and a new one created 0640" \
	sh -c "test -s '$L/audit.log.1' && test -f '$L/audit.log' && test ! -s '$L/audit.log' &&
		test \"\$(stat -c %a '$L/audit.log')\" = 640"
check "postrotate reloaded lurkd.service" grep -qx "reload lurkd.service" "$L/systemctl.calls"
finish

#!/bin/bash
# The audit log survives a crash of lurkd: a signature never leaves lurkd
# before its record is written. Eight clients sign, each noting the SHA-256
# of every input whose signature came back; lurkd is killed with SIGKILL
# mid-load; every noted input must be in the audit log. Then audit-sync,
# and an audit log that cannot be written: requests are refused with the
# reason (never served unaudited), and served again once it can be.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'touch "$D/stop"; lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 13

lurkd_setup "$D" || exit 1
check "lurkd starts" lurkd_start "$D"
for i in 1 2 3 4 5 6 7 8; do
	lc "$D" a load "$D/stop" ec256 "$D/hashes.$i" >"$D/load.$i" 2>&1 &
	echo $! >>"$D/loaders"
done
# Kill it once the load is well under way (state: the audit log's size).
for _i in $(seq 1 3000); do
	n=$(grep -c '"verdict":"allowed"' "$D/audit.log" 2>/dev/null)
	[ "${n:-0}" -ge 2000 ] && break
	sleep 0.02
done
kill -KILL "$(cat "$D/lurkd.bgpid")"
wait "$(cat "$D/lurkd.bgpid")" 2>/dev/null
rm -f "$D/lurkd.bgpid"
for p in $(cat "$D/loaders"); do wait "$p"; done
check "every client stopped at the crash" test "$(grep -l 'failed=1' "$D"/load.* | wc -l)" -eq 8
cat "$D"/hashes.* | sort -u >"$D/received"
sed -n 's/.*"input_sha256":"\([0-9a-f]*\)".*"verdict":"allowed".*/\1/p' "$D/audit.log" |
	sort -u >"$D/audited"
received=$(wc -l <"$D/received")
missing=$(comm -23 "$D/received" "$D/audited" | wc -l)
check "signatures received before the crash: $received (at least 2000)" test "$received" -ge 2000
check "every one of them is in the audit log ($missing missing)" test "$missing" -eq 0
check "the audit log holds only whole lines" sh -c "! grep -qv '^{.*}\$' '$D/audit.log'"

# audit-sync = yes: an fdatasync per batch; still served and audited.
sed -i "s/^workers = 2$/workers = 2\naudit-sync = yes/" "$D/lurkd.conf"
check "lurkd starts with audit-sync = yes" lurkd_start "$D"
h=$(rand_hex 32)
lc_q "$D" a sign ec256 ecdsa "$h"
sum=$(echo "$h" | xxd -r -p | sha256sum | cut -d' ' -f1)
check "a signature with audit-sync is audited" grep -q "\"input_sha256\":\"$sum\".*\"allowed\"" "$D/audit.log"
lurkd_stop "$D"

# An audit log that cannot be written (a full disk: /dev/full).
mv "$D/audit.log" "$D/audit.kept"
ln -s /dev/full "$D/audit.log"
sed -i "/^audit-sync = yes$/d" "$D/lurkd.conf"
check "lurkd starts on a full audit log" lurkd_start "$D"
lc "$D" a sign ec256 ecdsa "$(rand_hex 32)" >"$D/full1.out" 2>&1
first=$?
lc "$D" a sign ec256 ecdsa "$(rand_hex 32)" >"$D/full2.out" 2>&1
second=$?
check "the first signature is not sent (status $first)" test "$first" -ne 0
check "the next request is refused: 'the audit log cannot be written'" \
	grep -q "the audit log cannot be written" "$D/full2.out"
check "lurkd's log says so" grep -q "audit log $D/audit.log cannot be written (No space left on device)" "$D/lurkd.log"
# The disk is fixed: the log points at a file again, and a reload reopens it.
rm "$D/audit.log"
lurkd_reload "$D"
check "once it can be written, signing works again" lc_q "$D" a sign ec256 ecdsa "$(rand_hex 32)"
check "and lurkd says so" grep -q "audit log $D/audit.log reopened: trying it again" "$D/lurkd.log"
finish

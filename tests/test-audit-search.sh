#!/bin/bash
# "Which client had this digest (or this content) signed, when": lurk-admin
# audit answers from the audit log a real lurkd wrote.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 9

lurkd_setup "$D" || exit 1
lurkd_start "$D" || exit 1
content=$(tls13_content 32)
hash=$(rand_hex 48)
never=$(rand_hex 48)
lc_q "$D" a sign ed25519 eddsa "$content"
lc_q "$D" b sign ec384 ecdsa "$hash"
lc_q "$D" b sign ec256 ecdsa "$never" # refused: not b's key
lurkd_stop "$D" # flushes the audit log

out=$("$ADMIN" audit --hex "$content" "$D/audit.log")
check "content search finds who had it signed" sh -c "echo '$out' | grep -q 'client=a key=ed25519 op=sign mechanism=CKM_EDDSA verdict=allowed'"
printf '%s' "$content" | xxd -r -p >"$D/content.bin"
check "search by a content file" quiet "$ADMIN" audit --content "$D/content.bin" "$D/audit.log"
sha=$(printf '%s' "$hash" | xxd -r -p | sha256sum | cut -d' ' -f1)
check "search by SHA-256 of the input" quiet "$ADMIN" audit --sha256 "$sha" --client b "$D/audit.log"
quiet "$ADMIN" audit --sha256 "$sha" --client a "$D/audit.log"
check "filters narrow it down (no match: exit 1)" test $? -eq 1
out=$("$ADMIN" audit --hex "$never" --verdict refused "$D/audit.log")
check "refused attempts are found too" sh -c "echo '$out' | grep -q 'client=b key= .*verdict=refused'"
quiet "$ADMIN" audit --hex "$(rand_hex 32)" "$D/audit.log"
check "an unknown digest: exit 1" test $? -eq 1
echo 'not json at all {' >>"$D/audit.log"
"$ADMIN" audit --hex "$content" "$D/audit.log" >/dev/null 2>"$D/err"
check "a malformed line is skipped and counted" grep -q "1 line(s) skipped" "$D/err"
cp "$D/audit.log" "$D/audit.log.1"
check "several (rotated) logs are searched" test "$("$ADMIN" audit --hex "$content" "$D/audit.log.1" "$D/audit.log" 2>/dev/null | wc -l)" -eq 2
quiet "$ADMIN" audit --sha256 xyz "$D/audit.log"
check "bad arguments: exit 2" test $? -eq 2
finish

#!/bin/sh
# lurk-admin: genkey writes a private 0600 key file and prints the public key; pubkey reads it back.
. "${top_srcdir:-.}/tests/lib.sh"
ADMIN="${top_builddir:-.}/lurk-admin"
make_tmpdir
plan 12

pub=$("$ADMIN" genkey "$TEST_TMP/client.key")
check "genkey exits 0" test $? -eq 0
check "genkey prints 44 base64 characters" sh -c "printf '%s' '$pub' | grep -Eq '^[A-Za-z0-9+/]{43}=\$'"
check "key file is mode 600" test "$(stat -c %a "$TEST_TMP/client.key")" = 600
check "pubkey reads the same public key" test "$("$ADMIN" pubkey "$TEST_TMP/client.key")" = "$pub"
check_fails "genkey refuses to overwrite" "$ADMIN" genkey "$TEST_TMP/client.key" 2>/dev/null
pub2=$("$ADMIN" genkey -f "$TEST_TMP/client.key")
check "genkey -f replaces it with a new key" test -n "$pub2" -a "$pub2" != "$pub"
chmod 644 "$TEST_TMP/client.key"
err=$("$ADMIN" pubkey "$TEST_TMP/client.key" 2>&1)
check "pubkey refuses a group/world-readable file and says why" sh -c "echo '$err' | grep -q 'group or others'"
check_fails "pubkey of a missing file fails" "$ADMIN" pubkey "$TEST_TMP/nope" 2>/dev/null
fp=$("$ADMIN" fingerprint "$pub2")
check "fingerprint is 16 hex" sh -c "printf '%s' '$fp' | grep -Eq '^[0-9a-f]{16}\$'"
check_fails "fingerprint refuses junk" "$ADMIN" fingerprint "not-a-key" 2>/dev/null
check_fails "unknown command fails" "$ADMIN" frobnicate 2>/dev/null
printf '1357\n' >"$TEST_TMP/open.pin"
chmod 644 "$TEST_TMP/open.pin"
out=$("$ADMIN" genkey --pin-file "$TEST_TMP/open.pin" "$TEST_TMP/sealed.key" 2>&1)
check "genkey refuses a PIN file others can read" \
	sh -c "echo '$out' | grep -q 'PIN file is accessible by group or others' && test ! -e '$TEST_TMP/sealed.key'"
finish

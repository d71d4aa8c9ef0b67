#!/bin/bash
# A replayed msg1 cannot hold a connection. lurkd refuses a msg1 it has seen
# (replay cache); a lurkd restarted inside the replay window has an empty
# cache and completes the replayed handshake, but the replayer cannot use it
# (no key to decrypt msg2), and a connection that sends no request is closed
# at the handshake timeout like a handshake in progress.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 6

lurkd_setup "$D" >/dev/null || exit 1
sed -i "s/^workers = 2$/workers = 2\nhandshake-timeout = 2/" "$D/lurkd.conf"
check "lurkd starts with handshake-timeout = 2" lurkd_start "$D"
out=$(lc "$D" a replay "$D/msg1")
check "a fresh msg1 completes; the silent connection is closed at the timeout ($out)" \
	eval 'echo "$out" | grep -Eq "^handshake completed, closed after [2-6] s$"'
out=$(lc "$D" a replay "$D/msg1")
check "the same msg1 again is refused as a replay ($out)" \
	eval 'echo "$out" | grep -Eq "^refused \(code 4\), closed after [0-2] s$"'
lurkd_stop "$D"
check "lurkd restarts (its replay cache is empty)" lurkd_start "$D"
out=$(lc "$D" a replay "$D/msg1")
check "after the restart the replay completes a handshake, closed at the timeout ($out)" \
	eval 'echo "$out" | grep -Eq "^handshake completed, closed after [2-6] s$"'
check "lurkd still serves" lc_q "$D" a ping
finish

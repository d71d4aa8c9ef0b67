#!/bin/bash
# Per-client and per-key controls in a running lurkd: rate limits refuse what
# is over the limit and recover, a client outside its validity window or its
# allowed source addresses is refused.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 10

lurkd_setup "$D" || exit 1
"$ADMIN" genkey "$D/expired.key" >"$D/expired.pub"
"$ADMIN" genkey "$D/elsewhere.key" >"$D/elsewhere.pub"
# Client b gets 5 operations per second with a burst of 5; key ec521 10/s burst 3.
sed -i "s/^keys = ec384$/keys = ec384\nrate-limit = 5\nrate-burst = 5/" "$D/lurkd.conf"
sed -i "/^\[key ec521\]/a rate-limit = 10\nrate-burst = 3" "$D/lurkd.conf"
cat >>"$D/lurkd.conf" <<EOC

[client expired]
public-key = $(cat "$D/expired.pub")
keys = ec256
not-after = 2020-01-01T00:00:00Z

[client elsewhere]
public-key = $(cat "$D/elsewhere.pub")
keys = ec256
sources = 192.0.2.0/24 2001:db8::/32
EOC
check "lurkd starts with rate limits, a validity window and sources" lurkd_start "$D"

out=$(lc "$D" b burst 12 ec384)
check "client limit: the burst of 5 passes, the rest is refused ($out)" test "$out" = "allowed=5 refused=7"
check "refusals say why in lurkd's log" grep -q "client b key ec384 .*: client rate limit exceeded" "$D/lurkd.log"
sleep 1.1
out=$(lc "$D" b burst 3 ec384)
check "client limit recovers after a second ($out)" test "$out" = "allowed=3 refused=0"
out=$(lc "$D" a burst 6 ec521)
check "key limit: burst of 3 ($out)" test "$out" = "allowed=3 refused=3"
out=$(lc "$D" a burst 4 ec256)
check "other keys of the same client are not limited ($out)" test "$out" = "allowed=4 refused=0"

lc "$D" expired ping >/dev/null 2>&1
check "a client past not-after is refused" test $? -ne 0
check "... and the log says so" grep -q "client expired refused .*validity window" "$D/lurkd.log"
lc_tcp "$D" elsewhere ping >/dev/null 2>&1
check "a TCP client from a source not listed is refused" test $? -ne 0
check "... and the log names the source rule" grep -q "client elsewhere refused from 127.0.0.1:.*source address not allowed" "$D/lurkd.log"
finish

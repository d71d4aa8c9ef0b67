#!/bin/sh
# The folders tell the truth (docs/architecture.md, "Folders"): includes
# go one way only (common <- client <- module; common <- server), checked
# by scripts/check-layout.sh, which is shown to catch a crossing; and each
# binary holds only its side's code: no lurkd part in the module, no client
# core in lurkd.
. "${top_srcdir:-.}/tests/lib.sh"
plan 8
make_tmpdir

checker="$top_srcdir/scripts/check-layout.sh"
check "the source tree keeps to the one direction of includes" sh "$checker" "$top_srcdir"

# A copy with one crossing each way must be caught, naming file and line.
tree="$TEST_TMP/tree"
mkdir -p "$tree"
(cd "$top_srcdir" && cp -R common client module server "$tree/") && chmod -R u+w "$tree"
printf '#include "server/conf.h"\n' >>"$tree/module/p11.c"
line=$(wc -l <"$tree/module/p11.c")
out=$(sh "$checker" "$tree" 2>&1)
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "^module/p11.c:$line: includes server/conf.h"; then
	ok "a module file including a server header is caught with its file:line"
else
	not_ok "a module file including a server header is caught with its file:line"
	diag "rc=$rc: $out"
fi

rm -rf "$tree" && mkdir -p "$tree"
(cd "$top_srcdir" && cp -R common client module server "$tree/") && chmod -R u+w "$tree"
first=$(cd "$tree" && ls client/*.c | head -n 1)
printf '#include "module/module.h"\n' >>"$tree/$first"
line=$(wc -l <"$tree/$first")
out=$(sh "$checker" "$tree" 2>&1)
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "^$first:$line: includes module/module.h"; then
	ok "a client core file including a module header is caught with its file:line"
else
	not_ok "a client core file including a module header is caught with its file:line"
	diag "rc=$rc: $out"
fi

rm -rf "$tree" && mkdir -p "$tree"
(cd "$top_srcdir" && cp -R common client module server "$tree/") && chmod -R u+w "$tree"
printf '#include "keystore.h"\n' >>"$tree/common/buf.c"
out=$(sh "$checker" "$tree" 2>&1)
if echo "$out" | grep -q "^common/buf.c:.*keystore.h, found neither in common/"; then
	ok "a common file reaching a server header by its bare name is caught"
else
	not_ok "a common file reaching a server header by its bare name is caught"
	diag "$out"
fi

# What each binary links. Local symbols stay in the unstripped build
# output, so nm sees every function that was linked in.
so="$top_builddir/.libs/lurk-pkcs11.so"
lurkd="$top_builddir/lurkd"
check "nm reads the module's symbols" sh -c "nm '$so' | grep -q ' [tT] C_GetFunctionList'"
srv=$(nm "$so" | grep -E ' [tTdDbBrR] (lurkd_|lurk_replay_|lurk_acl_|lurk_ratelimit_|lurk_policy_|lurk_tls_key_|lurk_keystore_)' | head -n 5)
if [ -z "$srv" ]; then
	ok "the module holds no lurkd code (replay cache, allow-list, rate limits, policy, keystore)"
else
	not_ok "the module holds no lurkd code (replay cache, allow-list, rate limits, policy, keystore)"
	diag "$srv"
fi
check "nm reads lurkd's symbols" sh -c "nm '$lurkd' | grep -q ' [tT] main'"
cli=$(nm "$lurkd" | grep -E ' [tTdDbBrR] (lurk_client_|lc_|lp_)' | head -n 5)
if [ -z "$cli" ]; then
	ok "lurkd holds no client core or module code"
else
	not_ok "lurkd holds no client core or module code"
	diag "$cli"
fi
finish

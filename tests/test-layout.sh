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

# A copy of the tree with one crossing added at the end of FILE must be
# caught, the checker naming FILE, the line and the reason.
# crossing NAME FILE INCLUDE REASON
crossing() {
	tree="$TEST_TMP/tree"
	rm -rf "$tree" && mkdir -p "$tree"
	(cd "$top_srcdir" && cp -R common client module server "$tree/") && chmod -R u+w "$tree"
	printf '#include "%s"\n' "$3" >>"$tree/$2"
	line=$(wc -l <"$tree/$2")
	out=$(sh "$checker" "$tree" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && echo "$out" | grep -qF "$2:$line: includes $3$4"; then
		ok "$1"
	else
		not_ok "$1"
		diag "rc=$rc: $out"
	fi
}
crossing "a module file including a server header is caught with its file:line" \
	module/p11.c server/conf.h ", which module/ may not use"
crossing "a client core file including a module header is caught with its file:line" \
	"$(cd "$top_srcdir" && ls client/*.c | head -n 1)" module/module.h ", which client/ may not use"
crossing "a common file reaching a server header by its bare name is caught" \
	common/buf.c keystore.h ", not found in common/"

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

#!/bin/sh
# The manual pages (man/*.in, built into man/): each renders with man(1)
# without a single warning, and each has an entry (a .TP/.TQ tag) for
# everything the code reads, names taken from the code itself:
#   lurkd.conf(5)        every strcmp(k, "...") setting of server/conf*.c, under its section
#   lurk-pkcs11.conf(5)  the same for client/conf.c and module/conf.c
#   lurkd(8)             every long and short option of server/main.c
#   lurk-admin(1)        every command of server/admin.c, every option of the commands
#   lurk-pkcs11(8), lurkd(8)  every environment variable their code reads
#   lurk-provider(7)     every environment variable and openssl.cnf setting of provider/
# A setting read in a function NAME_item or NAME_key belongs to section
# [NAME] (server_item, lurkd_conf_client_item, token_key, ...) and must be
# documented under the page's .SS "[NAME ...]"; one read elsewhere (a shared
# helper) must be documented somewhere in the page. Each extraction must find
# at least a minimum number of names, so a change in the code's shape cannot
# make a check pass by finding nothing.
. "${top_srcdir:-.}/tests/lib.sh"
S=$top_srcdir
M=$top_builddir/man
make_tmpdir
T=$TEST_TMP
plan 20

PAGES="lurkd.8 lurkd.conf.5 lurk-admin.1 lurk-pkcs11.8 lurk-pkcs11.conf.5 lurk-provider.7"

# render PAGE: man's and groff's warnings for PAGE, on stdout.
render() {
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$1" 2>&1 >/dev/null
}

# tags PAGE: "SECTION<TAB>POSITION<TAB>WORD" for each word of each .TP/.TQ tag.
# SECTION is the first word in [...] of the .SS heading above ("-" if none);
# POSITION is 1 for the tag's first word, 2 for the others. Font escapes,
# quotes and the separators , | = are dropped; \- is -.
tags() {
	awk '
	/^\.SH/ { sec = "-"; next }
	/^\.SS/ { sec = "-"; if (match($0, /\[[a-z0-9-]+/)) sec = substr($0, RSTART + 1, RLENGTH - 1); next }
	/^\.T[PQ]/ { want = 1; next }
	want {
		want = 0
		line = $0
		gsub(/\\f[BIRP]/, "", line); gsub(/\\f\(../, "", line)
		gsub(/\\-/, "-", line); gsub(/\\[&%]/, "", line); gsub(/\\c/, "", line)
		sub(/^\.(B|I|BI|BR|IB|IR|RB|RI) /, "", line)
		gsub(/["|,=]/, " ", line)
		n = split(line, w, /[ \t]+/)
		pos = 1
		for (i = 1; i <= n; i++)
			if (w[i] != "") { print sec "\t" pos "\t" w[i]; pos = 2 }
	}' "$1"
}

# settings FILE...: "SECTION<TAB>NAME" for each strcmp(k, "NAME"); SECTION is
# from the enclosing function's name (see the header), "*" when it says none.
settings() {
	awk '
	/^[a-z_][a-z0-9_]*\(/ {
		fn = substr($0, 1, index($0, "(") - 1)
		n = split(fn, p, "_")
		sec = (n >= 2 && (p[n] == "item" || p[n] == "key")) ? p[n - 1] : "*"
	}
	{
		s = $0
		while (match(s, /strcmp\(k, "[a-z0-9-]+"\)/)) {
			lit = substr(s, RSTART, RLENGTH)
			sub(/^strcmp\(k, "/, "", lit); sub(/"\)$/, "", lit)
			print sec "\t" lit
			s = substr(s, RSTART + RLENGTH)
		}
	}' "$@" | sort -u
}

# sections FILE...: the section names the code compares it->section with.
sections() {
	grep -ho 'strcmp(it->section, "[a-z0-9-]*")' "$@" | sed 's/.*"\(.*\)")/\1/' | sort -u
}

# missing TAGS WANTS MODE: the wants ("SECTION<TAB>NAME") without an entry.
# MODE first: NAME must be a tag's first word, under SECTION unless SECTION is
# "*"; MODE any: NAME may be any word of any tag. Prints "[SECTION] NAME" or NAME.
missing() {
	awk -F '\t' -v mode="$3" '
	FNR == NR { first[$1 SUBSEP $3] = first[$1 SUBSEP $3] || $2 == 1
		anyfirst[$3] = anyfirst[$3] || $2 == 1; anyword[$3] = 1; next }
	{
		if (mode == "any") ok = ($2 in anyword)
		else if ($1 == "*") ok = anyfirst[$2]
		else ok = first[$1 SUBSEP $2]
		if (!ok) printf "%s%s ", ($1 == "*" || mode == "any") ? "" : "[" $1 "] ", $2
	}' "$1" "$2"
}

# check_entries NAME PAGE WANTS MODE MIN: ok when WANTS holds at least MIN
# names and PAGE has an entry for each; the TAP line names what is missing.
check_entries() {
	_n=$(wc -l <"$3")
	tags "$M/$2" >"$T/tags"
	_miss=$(missing "$T/tags" "$3" "$4")
	if [ "$_n" -lt "$5" ]; then
		not_ok "$1: only $_n names found in the code (expected at least $5): has its shape changed?"
	elif [ -n "$_miss" ]; then
		not_ok "$1 ($_n names): missing from $2: $_miss"
	else
		ok "$1 ($_n names)"
	fi
}

# check_sections NAME PAGE FILE...: every section the code knows has a
# '.SS "[section ...]"' heading in PAGE.
check_sections() {
	_name=$1
	_page=$2
	shift 2
	sections "$@" >"$T/code.sections"
	sed -n 's/^\.SS "*\[\([a-z0-9-]*\).*/\1/p' "$M/$_page" | sort -u >"$T/page.sections"
	_n=$(wc -l <"$T/code.sections")
	_miss=$(comm -23 "$T/code.sections" "$T/page.sections" | tr '\n' ' ')
	if [ "$_n" -lt 3 ]; then
		not_ok "$_name: only $_n sections found in the code"
	elif [ -n "$_miss" ]; then
		not_ok "$_name: no heading in $_page for: $_miss"
	else
		ok "$_name ($_n sections)"
	fi
}

# names_paths: the default configuration lurkd was built with is in its
# pages, and no @...@ was left unreplaced in any page.
names_paths() {
	[ -n "$1" ] || return 1
	for _p in lurkd.8 lurkd.conf.5; do
		sed 's/\\://g' "$M/$_p" | grep -qF "$1" || return 1
	done
	for _p in $PAGES; do
		! grep -q '@[a-zA-Z0-9_]*@' "$M/$_p" || return 1
	done
}

# 1-6. Every page renders without warnings.
if ! command -v man >/dev/null 2>&1; then
	diag "man(1) is missing: sh scripts/deps.sh installs man-db"
fi
for p in $PAGES; do
	if [ ! -s "$M/$p" ]; then
		not_ok "$p was built"
		continue
	fi
	out=$(render "$M/$p")
	if [ $? -eq 0 ] && [ -z "$out" ]; then
		ok "$p renders without warnings"
	else
		not_ok "$p renders without warnings: $(echo "$out" | head -3 | tr '\n' ' ')"
	fi
done

# 7. The rendering check can fail: a page with an unknown macro warns.
cp "$M/lurkd.8" "$T/bad.8"
printf '.XQ not a macro\n' >>"$T/bad.8"
out=$(render "$T/bad.8")
check "a page with an unknown macro is caught" sh -c 'echo "$1" | grep -q "XQ"' sh "$out"

# 8-9. lurkd.conf(5): every setting under its section, every section.
settings "$S"/server/conf*.c >"$T/lurkd.conf.wants"
check_entries "lurkd.conf(5) has an entry for every setting of server/conf*.c" \
	lurkd.conf.5 "$T/lurkd.conf.wants" first 30
check_sections "lurkd.conf(5) has a heading for every section" lurkd.conf.5 "$S"/server/conf*.c

# 10-11. lurk-pkcs11.conf(5): the core's [module] and [server], the module's [token].
settings "$S"/client/conf.c "$S"/module/conf.c >"$T/p11.wants"
check_entries "lurk-pkcs11.conf(5) has an entry for every setting of client/conf.c and module/conf.c" \
	lurk-pkcs11.conf.5 "$T/p11.wants" first 8
check_sections "lurk-pkcs11.conf(5) has a heading for every section" lurk-pkcs11.conf.5 \
	"$S"/client/conf.c "$S"/module/conf.c

# 12. lurkd(8): the long options of the option table, the short ones of getopt_long.
{
	grep -o '{"[a-z-]*", *[a-z]*_argument' "$S/server/main.c" | sed 's/{"\([a-z-]*\)".*/*\t--\1/'
	grep -o 'getopt_long(argc, argv, "[^"]*"' "$S/server/main.c" | sed 's/.*"\(.*\)"/\1/' |
		tr -d ':' | fold -w1 | sed 's/^/*\t-/'
} >"$T/lurkd.wants"
check_entries "lurkd(8) has an entry for every option of server/main.c" lurkd.8 "$T/lurkd.wants" any 9

# 13-14. lurk-admin(1): the command table, and every option its code compares.
grep -o '^[[:space:]]*{"[a-z-]*", [a-z_]*},' "$S/server/admin.c" | sed 's/.*{"\([a-z-]*\)".*/*\t\1/' >"$T/cmds"
check_entries "lurk-admin(1) has an entry for every command of server/admin.c" lurk-admin.1 "$T/cmds" first 4
grep -ho 'strcmp([a-z_]*\(\[[a-z0-9]*\]\)*, "-[a-zA-Z0-9-]*")' "$S/server/admin.c" "$S/server/audit-search.c" |
	sed 's/.*"\(-[a-zA-Z0-9-]*\)")/*\t\1/' | sort -u >"$T/admin.opts"
check_entries "lurk-admin(1) has an entry for every option of server/admin.c and audit-search.c" \
	lurk-admin.1 "$T/admin.opts" any 12

# 15-16. The environment variables each side reads (common/ is linked into both).
# A library's log level comes through lurk_log_init_env(IDENT, "VAR") (common/log.c).
grep -hoE 'getenv\("[A-Z0-9_]*"\)|lurk_log_init_env\("[^"]*", "[A-Z0-9_]*"\)' \
	"$S"/module/*.c "$S"/client/*.c "$S"/common/*.c |
	sed 's/.*"\(.*\)")/*\t\1/' | sort -u >"$T/env.module"
check_entries "lurk-pkcs11(8) has an entry for every environment variable of module/, client/, common/" \
	lurk-pkcs11.8 "$T/env.module" first 4
grep -ho 'getenv("[A-Z0-9_]*")' "$S"/server/*.c "$S"/common/*.c |
	sed 's/.*"\(.*\)")/*\t\1/' | sort -u >"$T/env.lurkd"
check_entries "lurkd(8) has an entry for every environment variable of server/, common/" \
	lurkd.8 "$T/env.lurkd" first 1

# 17-18. The provider's environment variables and its openssl.cnf settings
# (the OSSL_PARAM names it asks the core for: #define LPROV_*_PARAM "name").
grep -hoE 'getenv\("[A-Z0-9_]*"\)|lurk_log_init_env\("[^"]*", "[A-Z0-9_]*"\)' "$S"/provider/*.c |
	sed 's/.*"\(.*\)")/*\t\1/' | sort -u >"$T/env.provider"
check_entries "lurk-provider(7) has an entry for every environment variable of provider/" \
	lurk-provider.7 "$T/env.provider" first 1
sed -n 's/^#define LPROV_[A-Z_]*_PARAM *"\([a-z-]*\)".*/*\t\1/p' "$S"/provider/*.h | sort -u >"$T/cnf.provider"
check_entries "lurk-provider(7) has an entry for every openssl.cnf setting of provider/" \
	lurk-provider.7 "$T/cnf.provider" first 1

# 19. The entry check can fail: without frame-memory's entry, it is named missing.
awk '/^\.TP/ { held = $0; next } held != "" { if ($0 !~ /frame-memory/) print held; held = "" }
	{ print }' "$M/lurkd.conf.5" >"$T/cut.5"
tags "$T/cut.5" >"$T/cut.tags"
check "an entry removed from lurkd.conf(5) is named missing" \
	test "$(missing "$T/cut.tags" "$T/lurkd.conf.wants" first)" = "[server] frame-memory "

# 20. The installed pages name the installed paths: lurkd's compiled-in default.
default=$("$top_builddir/lurkd" --help | sed -n 's/.*(default \(.*\))$/\1/p')
check "lurkd(8) and lurkd.conf(5) name lurkd's default file ($default); no @...@ is left" \
	names_paths "$default"
finish

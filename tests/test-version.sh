#!/bin/sh
# lurkd and lurk-admin answer --version with "NAME VERSION" (PACKAGE_VERSION
# in config.h) and --help with their usage on stdout, exit 0; a wrong option
# or command gets the usage on stderr, nothing on stdout, exit 2. (The
# module is a library: its version is what C_GetInfo reports.)
. "${top_srcdir:-.}/tests/lib.sh"
B=${top_builddir:-.}
make_tmpdir
T=$TEST_TMP
plan 15

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$B/config.h")
check "config.h has a PACKAGE_VERSION ($version)" test -n "$version"

# run NAME ARGS...: runs the program, leaving rc, out and err.
run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}

# answers RC STDOUT-PATTERN STDERR-PATTERN: the last run exited RC, and each
# stream matches its pattern ("" = must be empty).
answers() {
	[ "$rc" -eq "$1" ] || return 1
	if [ -z "$2" ]; then [ -z "$out" ] || return 1; else echo "$out" | grep -q -- "$2" || return 1; fi
	if [ -z "$3" ]; then [ -z "$err" ] || return 1; else echo "$err" | grep -q -- "$3" || return 1; fi
}

for prog in lurkd lurk-admin; do
	run "$B/$prog" --version
	check "$prog --version prints '$prog $version' and exits 0" \
		sh -c '[ "$1" -eq 0 ] && [ "$2" = "$3" ] && [ -z "$4" ]' sh "$rc" "$out" "$prog $version" "$err"
	run "$B/$prog" -V
	check "$prog -V is --version" \
		sh -c '[ "$1" -eq 0 ] && [ "$2" = "$3" ]' sh "$rc" "$out" "$prog $version"
	run "$B/$prog" --help
	check "$prog --help: usage on stdout, exit 0, nothing on stderr" answers 0 "^usage: $prog" ""
	check "$prog --help names --help and --version" \
		sh -c 'echo "$1" | grep -q -- --help && echo "$1" | grep -q -- --version' sh "$out"
	run "$B/$prog" --no-such-option
	check "$prog --no-such-option: usage on stderr, exit 2, nothing on stdout" \
		answers 2 "" "usage: $prog"
done

run "$B/lurkd" -c /nonexistent extra-argument
check "lurkd with an argument it does not take: usage on stderr, exit 2" answers 2 "" "usage: lurkd"

run "$B/lurk-admin"
check "lurk-admin without a command: usage on stderr, exit 2" answers 2 "" "usage: lurk-admin"

fails=""
cmds=$(sed -n 's/^[[:space:]]*{"\([a-z-]*\)", [a-z_]*},$/\1/p' "${top_srcdir:-.}/server/admin.c")
[ "$(echo "$cmds" | wc -w)" -ge 4 ] || fails="(only '$cmds' found in server/admin.c)"
for cmd in $cmds; do
	run "$B/lurk-admin" "$cmd" --help
	answers 0 "^usage: lurk-admin" "" || fails="$fails $cmd"
done
check "lurk-admin CMD --help prints the usage on stdout, exit 0${fails:+ (not for:$fails)}" test -z "$fails"

run "$B/lurk-admin" frobnicate --help
check "lurk-admin frobnicate --help: an unknown command, exit 2" answers 2 "" "unknown command 'frobnicate'"
finish

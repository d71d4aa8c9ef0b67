# Shared helpers for shell tests that speak TAP.
# Source it, call `plan N`, then `check "name" cmd...` or `ok`/`not_ok`.

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
TAP_N=0
TAP_FAILED=0

plan() {
	echo "1..$1"
}

ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N $1"
}

not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N $1"
}

diag() {
	echo "# $*"
}

# check NAME CMD...: ok when CMD exits 0.
check() {
	_name=$1
	shift
	if "$@"; then ok "$_name"; else not_ok "$_name"; fi
}

# check_fails NAME CMD...: ok when CMD exits non-zero.
check_fails() {
	_name=$1
	shift
	if "$@"; then not_ok "$_name"; else ok "$_name"; fi
}

# A private scratch folder, removed at exit.
make_tmpdir() {
	TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/lurk-test.XXXXXX")
	trap 'rm -rf "$TEST_TMP"' EXIT
}

finish() {
	[ "$TAP_FAILED" -eq 0 ]
}

# Programs we did not build (p11tool, pkcs11-tool, gnutls-serv, ...) that load
# our module: in a sanitizer build the module needs the sanitizer runtimes
# loaded first (configure --enable-asan sets LURK_TOOL_PRELOAD). Leak checks
# stay with our own programs; those tools' leaks are not ours to judge.
TOOL_ENV=""
if [ -n "${LURK_TOOL_PRELOAD:-}" ]; then
	TOOL_ENV="env LD_PRELOAD=$LURK_TOOL_PRELOAD ASAN_OPTIONS=detect_leaks=0"
fi

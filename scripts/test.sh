#!/bin/sh
# The test command: installs what is missing, builds lurk with warnings as
# errors, and runs the whole test suite and the fault drills (make drills);
# then the test suite under AddressSanitizer and UndefinedBehaviorSanitizer,
# the module's threads under ThreadSanitizer, the module under valgrind, the
# demo's --check, the Debian packages (make check-package: built from the
# release tarball, lintian, installed, used and purged; needs root), and
# `make distcheck`.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

sh scripts/deps.sh
./autogen.sh >/dev/null 2>&1 || ./autogen.sh

run_build() {
	dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -j"$jobs" && make -j"$jobs" check) || {
		echo "test: failures in $dir (configure $*); logs:" >&2
		find "$dir" -name 'test-suite.log' -exec cat {} \; >&2
		return 1
	}
}

echo "== build and make check (strict)"
run_build _build/strict --enable-strict
echo "== fault drills (make drills)"
(cd _build/strict && make drills) || {
	echo "test: a fault drill failed (see above; all of it in _build/strict/drills.log)" >&2
	exit 1
}
echo "== make check under AddressSanitizer + UndefinedBehaviorSanitizer"
run_build _build/asan --enable-strict --enable-asan
echo "== the module's threads under ThreadSanitizer (make check-tsan)"
# Only what tests/test-module-tsan.sh loads is built: a few minutes, not a
# whole `make check` under TSan. Any TSan report fails the run.
rm -rf _build/tsan
mkdir -p _build/tsan
(cd _build/tsan && "$top/configure" -q --enable-strict --enable-tsan && make -j"$jobs" check-tsan) || {
	echo "test: ThreadSanitizer reported, a program crashed, or the TSan build failed (see above)" >&2
	exit 1
}
echo "== the module under valgrind's memcheck (make check-valgrind)"
(cd _build/strict && make check-valgrind) || {
	echo "test: memcheck found errors or leaks (see above)" >&2
	exit 1
}
echo "== the main job: scripts/demo.sh --check"
bash scripts/demo.sh --check || {
	echo "test: scripts/demo.sh --check failed" >&2
	exit 1
}
echo "== the Debian packages (make check-package)"
(cd _build/strict && make check-package) || {
	echo "test: the Debian packages failed to build, pass lintian, install or purge (see above; all of it in _build/strict/check-package.log)" >&2
	exit 1
}
echo "== make distcheck"
# The release tarball holds every tracked file (check-dist.sh), and builds,
# installs and uninstalls from a read-only source tree. Inside it, one test
# of each kind (C unit tests; lurkd, the module, the provider, GnuTLS, split
# keys through the shell libraries) shows the tests find their files there;
# the whole suite already ran twice above (strict and ASan), and a third
# time here cost CI about ten minutes.
sh scripts/check-dist.sh "$(ls _build/strict/lurk-*.tar.gz | head -1)" || exit 1
dist_tests="tests/test-tap tests/test-buf tests/test-wire tests/test-frost tests/test-layout.sh
	tests/test-man.sh tests/test-admin.sh tests/test-lurkd.sh tests/test-module.sh
	tests/test-client-split.sh tests/test-provider-tls.sh tests/test-tls-gnutls.sh"
(cd _build/strict && make -j"$jobs" distcheck TESTS="$(echo $dist_tests)" >distcheck.log 2>&1) || {
	tail -50 _build/strict/distcheck.log >&2
	exit 1
}
echo "== format check"
(cd _build/strict && make format-check)
# One closing line for the whole run, counted from both test suites and the drills.
passed=0
failed=0
for log in _build/strict/test-suite.log _build/asan/test-suite.log _build/strict/drills.log; do
	p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
	f=$(sed -n 's/^# FAIL: *//p' "$log" | head -1)
	e=$(sed -n 's/^# ERROR: *//p' "$log" | head -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${e:-0}))
done
passed=$((passed + $(grep -c '^ok ' _build/strict/check-package.log)))
echo "test: all passed"
echo "$passed passed, $failed failed"

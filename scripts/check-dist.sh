#!/bin/sh
# Every file git tracks is in the release tarball, but for the repository's
# own tools below: a file left out of EXTRA_DIST fails here, in seconds,
# where before only the whole suite run again inside `make distcheck`
# noticed (scripts/test.sh now runs a part of it there).
#
# Usage: check-dist.sh TARBALL (run from the top of a git checkout).
set -u
tarball=$1
not_shipped='^(\.ci/run|\.gitignore|build-aux/\.keep|m4/\.keep|scripts/(demo|deps|test)\.sh)$'
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
tar tzf "$tarball" | sed 's|^[^/]*/||' | sort >"$tmp/dist" || exit 2
git ls-files | grep -Ev "$not_shipped" | sort >"$tmp/git" || exit 2
missing=$(comm -13 "$tmp/dist" "$tmp/git")
if [ -n "$missing" ]; then
	echo "check-dist: tracked files missing from $tarball (add them to EXTRA_DIST):" >&2
	echo "$missing" | sed 's/^/  /' >&2
	exit 1
fi
echo "check-dist: $(wc -l <"$tmp/git") tracked files, all in $(basename "$tarball")"

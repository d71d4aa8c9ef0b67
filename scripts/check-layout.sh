#!/bin/sh
# The one allowed direction of dependencies between lurk's folders
# (docs/architecture.md, "Folders"):
#
#   common  <-  client  <-  module        common  <-  server
#
# A file may include headers of its own folder and of the folders it
# depends on, nothing else. Bare includes ("buf.h") resolve as the
# compiler resolves them: the file's own folder first, then common/ (the
# build's -I). Other folders are named: #include "client/pool.h".
#
# Usage: check-layout.sh [SRCDIR]. Prints one line per crossing
# (FILE:LINE: includes X, which FOLDER may not use) and exits 1 if any.
set -u
src=${1:-.}
cd "$src" || exit 2

allowed() { # folder -> folders it may include from, besides itself
	case $1 in
	common) echo "" ;;
	client) echo "common" ;;
	module) echo "client common" ;;
	server) echo "common" ;;
	*) echo "" ;;
	esac
}

bad=0
for dir in common client module server; do
	[ -d "$dir" ] || continue
	ok=$(allowed "$dir")
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -f "$f" ] || continue
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
			sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' >"${TMPDIR:-/tmp}/layout.$$"
		while read -r line inc; do
			[ "$inc" = config.h ] && continue
			case $inc in
			*/*)
				top=${inc%%/*}
				found=no
				for d in $ok; do
					[ "$d" = "$top" ] && found=yes
				done
				if [ "$found" = no ] || [ ! -f "$inc" ]; then
					echo "$f:$line: includes $inc, which $dir/ may not use"
					bad=1
				fi
				;;
			*)
				if [ -f "$dir/$inc" ]; then
					:
				elif [ -f "common/$inc" ]; then
					:
				else
					if [ "$dir" = common ]; then
						echo "$f:$line: includes $inc, not found in common/"
					else
						echo "$f:$line: includes $inc, found neither in $dir/ nor in common/"
					fi
					bad=1
				fi
				;;
			esac
		done <"${TMPDIR:-/tmp}/layout.$$"
		rm -f "${TMPDIR:-/tmp}/layout.$$"
	done
done
exit $bad

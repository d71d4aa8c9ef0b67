#!/bin/bash
# lurkd under systemd: when its stderr is the stream systemd connected to the
# journal (JOURNAL_STREAM=DEVICE:INODE names it), each line starts with its
# syslog priority as "<N>" (sd-daemon(3)) so the journal files warnings as
# warnings; on any other stderr the lines stay "lurkd[PID]: LEVEL: ...".
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 6

lurkd_setup "$D" >/dev/null || exit 1

# run NAME JOURNAL_STREAM-VALUE: lurkd started and stopped, its stderr in $D/NAME.log.
run() {
	rm -f "$D/lurkd.log"
	: >"$D/lurkd.log"
	if [ "$2" = self ]; then
		JOURNAL_STREAM=$(stat -c %d:%i "$D/lurkd.log")
	else
		JOURNAL_STREAM=$2
	fi
	export JOURNAL_STREAM
	[ -n "$JOURNAL_STREAM" ] || unset JOURNAL_STREAM
	lurkd_start "$D" || return 1
	lurkd_stop "$D" >/dev/null 2>&1
	unset JOURNAL_STREAM
	cp "$D/lurkd.log" "$D/$1.log"
}

run journal self
# The default configuration warns at load that use = server is not enforced
# for its RSA and ECDSA keys (their clients may send bare hashes).
check "under the journal, warnings start with <4>" grep -q '^<4>warning: .*use = server is not enforced' "$D/journal.log"
check "under the journal, information starts with <6>" grep -q '^<6>info: ' "$D/journal.log"
check "under the journal, every line has a priority and no name or pid" \
	sh -c "[ -s '$D/journal.log' ] && ! grep -v '^<[0-7]>' '$D/journal.log'"

run plain ""
check "without JOURNAL_STREAM, lines are 'lurkd[PID]: warning: ...'" \
	sh -c "grep -q '^lurkd\[[0-9]*\]: warning: .*use = server is not enforced' '$D/plain.log' && ! grep -q '^<[0-7]>' '$D/plain.log'"

other=$(stat -c %d:%i "$D/lurkd.conf")
run other "$other"
check "a JOURNAL_STREAM naming another file leaves lines plain" \
	sh -c "[ -s '$D/other.log' ] && ! grep -q '^<[0-7]>' '$D/other.log'"

run junk "12:34:extra"
check "a malformed JOURNAL_STREAM leaves lines plain" \
	sh -c "[ -s '$D/junk.log' ] && ! grep -q '^<[0-7]>' '$D/junk.log'"
finish

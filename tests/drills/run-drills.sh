#!/bin/bash
# run-drills.sh LOG DRILL...: runs each fault drill (at most DRILL_TIMEOUT
# seconds each, default 150: a drill that hangs is killed and counted as
# failed), prints what each printed and a summary, and writes it all to LOG
# with "# PASS: N" / "# FAIL: N" lines as test-suite.log has them.
# Exit status 0 when every drill passed.
log=$1
shift
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
export top_srcdir top_builddir
passed=0
failed=0
failed_names=""
summary=""
t0=$(date +%s)
: >"$log"
for drill in "$@"; do
	name=$(basename "$drill" .sh)
	t=$(date +%s)
	timeout -k 10 "${DRILL_TIMEOUT:-150}" bash "$drill" </dev/null 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
	took=$(($(date +%s) - t))
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		summary="$summary
PASS: $name (${took} s)"
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		[ "$rc" -eq 124 ] && echo "   FAIL: $name ran over ${DRILL_TIMEOUT:-150} s and was killed" | tee -a "$log"
		summary="$summary
FAIL: $name (${took} s, status $rc)"
	fi
done
{
	echo "============================================================"
	echo "fault drills:$summary"
	echo "# TOTAL: $((passed + failed))"
	echo "# PASS: $passed"
	echo "# FAIL: $failed"
	echo "drills: $passed passed, $failed failed in $(($(date +%s) - t0)) s${failed_names:+ (failed:$failed_names)}"
} | tee -a "$log"
[ "$failed" -eq 0 ]

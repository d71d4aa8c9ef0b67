#!/bin/bash
# The hardened build (configure's default): the programs and the module we
# install are PIE (programs), full RELRO with immediate binding, built with
# the stack protector and (where optimised, without sanitizers) FORTIFY, and
# the module exports its three PKCS#11 entry points and nothing else.
. "${top_srcdir:-.}/tests/lib.sh"
B=${top_builddir:-.}
MODULE=$B/.libs/lurk-pkcs11.so
plan 15

for f in "$B/lurkd" "$B/lurk-admin" "$MODULE"; do
	n=$(basename "$f")
	check "$n: full RELRO (a GNU_RELRO segment)" sh -c "readelf -lW '$f' | grep -q GNU_RELRO"
	check "$n: immediate binding (BIND_NOW)" sh -c "readelf -dW '$f' | grep -Eq 'BIND_NOW|Flags:.* NOW'"
	check "$n: stack protector (__stack_chk_fail)" sh -c "nm -D '$f' | grep -q __stack_chk_fail"
	if [ "${LURK_FORTIFY:-no}" = yes ]; then
		check "$n: FORTIFY (checked libc calls)" sh -c "nm -D '$f' | grep -q '_chk@'"
	else
		# Sanitizer builds replace FORTIFY's checks with their own.
		check "$n: no FORTIFY promised in this build (sanitizers)" \
			test -n "${LURK_TOOL_PRELOAD:-}"
	fi
done
for f in "$B/lurkd" "$B/lurk-admin"; do
	check "$(basename "$f"): position-independent executable" \
		sh -c "readelf -hW '$f' | grep -q 'Type: *DYN'"
done
exports=$(nm -D --defined-only "$MODULE" | awk '$2 == "T" || $2 == "D" || $2 == "B" { print $3 }' | sort | tr '\n' ' ')
check "the module exports C_GetFunctionList, C_GetInterface, C_GetInterfaceList only ($exports)" \
	test "$exports" = "C_GetFunctionList C_GetInterface C_GetInterfaceList "
finish

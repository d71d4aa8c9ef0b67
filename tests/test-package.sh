#!/bin/sh
# The Debian packages (issue 17), built from a release tarball, checked by
# lintian, installed on this machine, used and purged again:
#   - `dpkg-buildpackage -us -uc -b` (DEB_BUILD_OPTIONS=nocheck and the
#     nocheck profile: the test suite runs on its own, and its tools are not
#     needed to build) builds lurkd, lurk-admin, lurk-pkcs11 and
#     lurk-openssl-provider from `make dist`'s tarball, not the working tree;
#   - lintian reports no error (its warnings are printed);
#   - installed with dpkg -i: p11-kit, as an unprivileged user, lists the lurk
#     module; lurkd --check-config passes on the shipped /etc/lurk/lurkd.conf
#     (as root and as _lurk, whom lurkd.service runs as) with the Noise key
#     the postinst made; lurkd --version; man finds the pages; OpenSSL loads
#     the provider from its modules folder;
#   - dpkg --purge leaves none of their files in /usr, /lib or /etc.
# It installs system packages, so it needs root and is not part of make
# check: `make check-package` (tests/package.am) runs it, scripts/test.sh
# calls that. Whatever happens, the exit trap purges what it installed and
# removes the _lurk user if it did not exist before.
#
# Usage: test-package.sh TARBALL
. "${top_srcdir:-.}/tests/lib.sh"

tarball=$1
PKGS="lurkd lurk-admin lurk-pkcs11 lurk-openssl-provider"
NPLAN=28

if [ "$(id -u)" -ne 0 ]; then
	echo "test-package: needs root (it installs and purges Debian packages)" >&2
	exit 1
fi
if [ -z "$tarball" ] || [ ! -f "$tarball" ]; then
	echo "test-package: usage: test-package.sh TARBALL (make dist's lurk-*.tar.gz)" >&2
	exit 1
fi
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")

# installed_pkgs: those of ours dpkg knows in any state but not-installed.
installed_pkgs() {
	for p in $PKGS; do
		s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || continue
		[ "$s" = "not-installed" ] || echo "$p"
	done
}

if [ -n "$(installed_pkgs)" ]; then
	echo "test-package: lurk packages are already installed ($(installed_pkgs | tr '\n' ' ')):" \
		"this test would remove them; purge them first" >&2
	exit 1
fi
had_user=0
getent passwd _lurk >/dev/null && had_user=1
had_group=0
getent group _lurk >/dev/null && had_group=1
had_run=0
[ -e /run/lurk ] && had_run=1

T=$(mktemp -d "${TMPDIR:-/tmp}/lurk-package.XXXXXX")
cleanup() {
	left=$(installed_pkgs)
	# shellcheck disable=SC2086
	[ -z "$left" ] || dpkg --purge $left >"$T/cleanup-purge.log" 2>&1 ||
		cat "$T/cleanup-purge.log" >&2
	[ $had_user -eq 1 ] || ! getent passwd _lurk >/dev/null || userdel _lurk
	[ $had_group -eq 1 ] || ! getent group _lurk >/dev/null || groupdel _lurk
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

plan $NPLAN

# 1. Build from the tarball.
tar -C "$T" -xzf "$tarball"
src=$(find "$T" -mindepth 1 -maxdepth 1 -type d -name 'lurk-*' | head -1)
version=$(basename "$src" | sed 's/^lurk-//')
check "make dist's tarball unpacks into lurk-VERSION ($version) and holds debian/" \
	test -x "$src/debian/rules"
check "debian/changelog's version is the release's ($version, a native package)" \
	test "$(cd "$src" && dpkg-parsechangelog -S Version)" = "$version"

jobs=$(nproc 2>/dev/null || echo 2)
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$jobs" dpkg-buildpackage -us -uc -b -Pnocheck) \
	>"$T/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b builds from the tarball"
else
	not_ok "dpkg-buildpackage -us -uc -b builds from the tarball"
	tail -40 "$T/build.log" | sed 's/^/# /'
	echo "Bail out! no packages to check"
	exit 1
fi
changes=$(find "$T" -maxdepth 1 -name 'lurk_*.changes' | head -1)
debs=""
for p in $PKGS; do
	f=$(find "$T" -maxdepth 1 -name "${p}_${version}_*.deb" | head -1)
	[ -n "$f" ] && debs="$debs $f"
done
check "it makes the four packages ($PKGS) and a .changes" \
	sh -c '[ -n "$1" ] && [ $(echo $2 | wc -w) -eq 4 ]' sh "$changes" "$debs"

# 2. lintian: no error; its warnings are printed. Exit status 2 is lintian
# itself failing (it would then report nothing): that fails too.
lintian --tag-display-limit 0 "$changes" >"$T/lintian.log" 2>&1
lrc=$?
grep '^[EW]: ' "$T/lintian.log" | sed 's/^/# lintian: /'
check "lintian checks the packages and reports no error (E:)" \
	sh -c '[ -n "$1" ] && [ "$2" -le 1 ] && ! grep -q "^E: " "$3"' sh "$changes" "$lrc" "$T/lintian.log"
[ "$lrc" -le 1 ] || sed 's/^/# lintian: /' "$T/lintian.log"

# What each package holds (files only), for the checks below and after purge.
for f in $debs; do
	dpkg-deb -c "$f" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|'
done >"$T/files"
check "no libtool .la file is shipped" sh -c '! grep -q "\.la$" "$1"' sh "$T/files"
check "the module is in p11-kit's module folder" \
	grep -qx "$(pkg-config --variable=p11_module_path p11-kit-1)/lurk-pkcs11.so" "$T/files"
check "the provider is in OpenSSL's modules folder" \
	grep -qx "$(openssl version -m | sed 's/^MODULESDIR: "\(.*\)"$/\1/')/lurk-provider.so" "$T/files"
# systemd/ (lurkd.service, sysusers.d, tmpfiles.d, logrotate) goes into lurkd
# once it is in the release; dh_missing --fail-missing makes the build fail
# if make install puts it in debian/tmp and no package takes it.
if [ -f "$src/systemd/lurkd.service.in" ]; then
	check "lurkd ships lurkd.service where systemd looks" \
		grep -qx /lib/systemd/system/lurkd.service "$T/files"
else
	ok "no systemd/lurkd.service.in in this release: no unit to ship"
fi

# 3. Install, onto a machine that holds none of those files yet: a `make
# install` to /usr would be overwritten, then removed by the purge, so the
# test stops there rather than change the machine.
left=""
while read -r f; do
	[ -e "$f" ] && left="$left $f"
done <"$T/files"
check "none of the packages' files is on the machine before installing" test -z "$left"
if [ -n "$left" ]; then
	echo "Bail out! already on this machine (not from these packages):$left"
	exit 1
fi
# shellcheck disable=SC2086
if dpkg -i $debs >"$T/install.log" 2>&1; then
	ok "dpkg -i installs the four packages"
else
	not_ok "dpkg -i installs the four packages"
	sed 's/^/# /' "$T/install.log"
fi
check "the postinst made the system user _lurk" sh -c 'getent passwd _lurk >/dev/null'
check "the postinst made lurkd's Noise key, owner _lurk, mode 0600" \
	test "$(stat -c '%U %a' /etc/lurk/server.key 2>/dev/null)" = "_lurk 600"
check "/etc/lurk/lurkd.conf is a conffile of lurkd" \
	sh -c 'dpkg-query -W -f="\${Conffiles}\n" lurkd | grep -q " /etc/lurk/lurkd.conf "'

# nobody reads no configuration (none is shipped for the module): p11-kit
# still lists the module, which shows no token and, the file being absent,
# prints nothing into the program (it would in every p11-kit program).
out=$(runuser -u nobody -- p11-kit list-modules 2>&1)
check "p11-kit list-modules, run as nobody, shows the lurk module" \
	sh -c 'echo "$1" | grep -q "^lurk: .*/lurk-pkcs11.so"' sh "$out"
check "and the unconfigured module logs nothing into it" \
	sh -c '! echo "$1" | grep -q "lurk-pkcs11\["' sh "$out"
echo "$out" | grep -i lurk | sed 's/^/# as nobody: /'
out=$(runuser -u nobody -- env LURK_PKCS11_CONF=/nonexistent/lurk.conf p11-kit list-modules 2>&1)
check "a missing file LURK_PKCS11_CONF names is an error on stderr" \
	sh -c 'echo "$1" | grep -q "lurk-pkcs11\[[0-9]*\]: error: /nonexistent/lurk.conf: cannot open"' sh "$out"

check "lurkd --check-config passes on the shipped /etc/lurk/lurkd.conf" \
	lurkd --check-config /etc/lurk/lurkd.conf
check "and as _lurk (lurkd.service's user)" \
	runuser -u _lurk -- lurkd --check-config /etc/lurk/lurkd.conf
check "lurkd --version says lurkd $version" test "$(lurkd --version)" = "lurkd $version"
check "lurk-admin pubkey reads the key the postinst made" \
	sh -c 'lurk-admin pubkey /etc/lurk/server.key | grep -Eq "^[A-Za-z0-9+/]{43}=$"'
check "man -w finds lurkd(8), lurkd.conf(5), lurk-admin(1), lurk-pkcs11.conf(5), lurk-provider(7)" \
	sh -c 'man -w lurkd >/dev/null && man -w 5 lurkd.conf >/dev/null &&
		man -w lurk-admin >/dev/null && man -w 5 lurk-pkcs11.conf >/dev/null &&
		man -w 7 lurk-provider >/dev/null'
out=$(OPENSSL_CONF=/dev/null openssl list -providers -provider lurk-provider -provider default 2>&1)
check "OpenSSL loads the provider from its modules folder by name (lurk-provider)" \
	sh -c 'echo "$1" | sed -n "/^  lurk-provider$/,/status:/p" | grep -q "status: active$"' \
	sh "$out"
[ "$TAP_FAILED" -eq 0 ] || echo "$out" | sed 's/^/# /'

# 4. Purge: nothing of ours stays.
# shellcheck disable=SC2086
if dpkg --purge $PKGS >"$T/purge.log" 2>&1; then
	ok "dpkg --purge removes the four packages"
else
	not_ok "dpkg --purge removes the four packages"
	sed 's/^/# /' "$T/purge.log"
fi
check "dpkg knows none of them any more" test -z "$(installed_pkgs)"
left=""
while read -r f; do
	[ -e "$f" ] && left="$left $f"
done <"$T/files"
check "none of their files stays in /usr, /lib or /etc" test -z "$left"
[ -z "$left" ] || diag "left:$left"
check "the purge removed /etc/lurk (with the Noise key), /var/log/lurk, /var/lib/lurk, /run/lurk" \
	sh -c '! [ -e /etc/lurk ] && ! [ -e /var/log/lurk ] && ! [ -e /var/lib/lurk ] &&
		{ [ "$1" -eq 1 ] || ! [ -e /run/lurk ]; }' sh "$had_run"
out=$(runuser -u nobody -- p11-kit list-modules 2>&1)
check "p11-kit no longer lists the lurk module" sh -c '! echo "$1" | grep -q "lurk-pkcs11"' sh "$out"

[ "$TAP_N" -eq "$NPLAN" ] || not_ok "ran $TAP_N checks of the $NPLAN planned"
finish

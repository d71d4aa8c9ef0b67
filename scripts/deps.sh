#!/bin/sh
# Installs the Debian 12 packages lurk needs to build and test, when missing.
# Runs apt-get as root (directly, or through sudo when available).
set -e

PACKAGES="build-essential autoconf automake libtool pkg-config
libsodium-dev libgnutls28-dev libp11-kit-dev libjansson-dev libssl-dev
gnutls-bin p11-kit softhsm2 clang-format openssl xxd curl
opensc opensc-pkcs11 libengine-pkcs11-openssl nginx valgrind
man-db groff-base haproxy stunnel4
libmicrohttpd-dev debhelper lintian prometheus libcurl4-openssl-dev
systemd logrotate strace"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: not root and no sudo; run as root: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Packages with services (nginx) must not start them: the tests run their own
# servers on loopback, and nothing of ours listens on other addresses.
guard=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	guard=1
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing || rc=$?
[ $guard -eq 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit ${rc:-0}

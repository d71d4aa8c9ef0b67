#!/bin/bash
# lurk's main job, today: a key server holding TLS keys that signs only what
# a TLS handshake needs. Installs what is missing, builds lurk, makes a demo
# CA with RSA, ECDSA P-256 and Ed25519 server keys, starts lurkd on loopback
# holding them, and has a client (which never sees a key) get handshake
# signatures, each verified with the certificate's public key — and get
# refused when it asks for anything else. Then it keeps serving until
# interrupted; --check stops after the checks.
#
# Everything it makes lives in ./demo. (The PKCS#11 module and a real TLS
# server on these keys come with the next issues.)
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
check_only=0
[ "${1:-}" = "--check" ] && check_only=1

sh scripts/deps.sh
./autogen.sh >/dev/null 2>&1 || ./autogen.sh
mkdir -p _build/demo
(cd _build/demo && { [ -f Makefile ] || "$top/configure" -q; } &&
	make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null)

export top_srcdir="$top" top_builddir="$top/_build/demo"
. "$top/tests/lib-lurkd.sh"
D="$top/demo"
mkdir -p "$D"
chmod 700 "$D"
echo "lurk demo: everything lives in $D"
if [ ! -f "$D/lurkd.conf" ]; then
	lurkd_setup "$D" >/dev/null
fi
lurkd_stop "$D" >/dev/null 2>&1 || true
lurkd_start "$D"
trap 'lurkd_stop "$D" >/dev/null 2>&1' EXIT
echo "lurkd is running (pid $(cat "$D/lurkd.pid")): unix:$D/lurkd.sock and tcp:127.0.0.1:$(cat "$D/port")"
echo

say() { printf '  %-58s %s\n' "$1" "$2"; }
try() { # label, then lurk-client arguments
	label=$1
	shift
	if out=$(lc "$D" a "$@" 2>&1 >/dev/null); then
		say "$label" "signed, signature verified"
	else
		say "$label" "refused: ${out##*: }"
	fi
}
echo "client 'a' asks lurkd for signatures (it holds no private key):"
try "Ed25519, TLS 1.3 CertificateVerify (whole content)" sign ed25519 eddsa "$(tls13_content 32)"
try "ECDSA P-256, TLS 1.3 transcript hash" sign ec256 ecdsa "$(rand_hex 32)"
try "RSA-PSS 2048, SHA-256 hash" sign rsa2048 rsa-pss "$(rand_hex 32)"
try "RSA PKCS#1 2048, DigestInfo(SHA-384)" sign rsa2048 rsa-pkcs "$(digest_info 384)"
try "Ed25519 over arbitrary bytes (not a handshake)" sign ed25519 eddsa "$(printf 'transfer 1000 EUR' | od -An -tx1 | tr -d ' \n')"
try "raw RSA (generic decryption/signing oracle)" sign rsa2048 rsa-x509 "$(rand_hex 256)"
LURK_CLIENT_PSS_SALT=0 try "RSA-PSS with salt 0 (not what TLS uses)" sign rsa2048 rsa-pss "$(rand_hex 32)"
echo
lurkd_stop "$D" >/dev/null 2>&1 || true # flushes the audit log
echo "the audit log ($D/audit.log), last three records:"
tail -3 "$D/audit.log" | sed 's/^/  /'
echo
if [ $check_only -eq 1 ]; then
	echo "demo check done."
	exit 0
fi
lurkd_start "$D"
echo "lurkd keeps serving; from another shell try:"
echo "  $top/_build/demo/tests/lurk-client -a unix:$D/lurkd.sock -s $(cat "$D/server.pub") -k $D/a.key list"
echo "Ctrl-C stops it."
while kill -0 "$(cat "$D/lurkd.bgpid")" 2>/dev/null; do sleep 1; done

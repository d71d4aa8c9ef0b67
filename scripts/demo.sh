#!/bin/sh
# lurk's main job. Today: installs what is missing, builds lurk, and makes the
# Noise key pairs for a key server and one client in ./demo/. The key server,
# the module and a TLS server on remote keys come with the next issues.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/deps.sh
./autogen.sh >/dev/null 2>&1 || ./autogen.sh
mkdir -p _build/demo
(cd _build/demo && "$top/configure" -q && make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null)
demo="$top/demo"
mkdir -p "$demo"
admin="$top/_build/demo/lurk-admin"
[ -f "$demo/server.key" ] || "$admin" genkey "$demo/server.key" >/dev/null
[ -f "$demo/client.key" ] || "$admin" genkey "$demo/client.key" >/dev/null
echo "lurk demo folder: $demo"
echo "  key server public key: $("$admin" pubkey "$demo/server.key")"
echo "  client public key:     $("$admin" pubkey "$demo/client.key")"

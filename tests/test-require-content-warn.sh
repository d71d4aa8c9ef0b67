#!/bin/bash
# lurkd warns at load, naming file and line, when a key's `use` cannot be
# enforced (docs/policy.md): an RSA or ECDSA key limited to server (or client)
# use, without require-content, that some client without require-content may
# use, since a bare hash does not show the TLS context. No warning once the
# key, or every client of it, has require-content = yes, for use = server
# client, for Ed25519, or for a key no client may use. And the demo
# certificates have keyEncipherment only for keys with rsa-decrypt = yes.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D=$TEST_TMP
trap 'lurkd_stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
plan 18

# Not through check: make_pki's helpers reuse check's variables.
if lurkd_setup "$D" && make_key_cert "$D/pki" p256 --key-type ecdsa --curve secp256r1; then
	ok "setup: PKI, Noise keys and lurkd.conf"
else
	not_ok "setup"
fi

# The line of [key NAME] in FILE.
key_line() { grep -n "^\[key $2\]\$" "$1" | cut -d: -f1; }
# warned FILE KEY: --check-config's output (in $D/out) has the warning for KEY at its line.
warned() {
	grep -qE "warning: $1:$(key_line "$1" "$2"): key '$2' \((RSA|ECDSA)\): use = (server|client) is not enforced" "$D/out"
}
# conf NAME TEXT: lurkd.conf with TEXT appended, as $D/NAME.conf, checked into $D/out.
conf() {
	cp "$D/lurkd.conf" "$D/$1.conf"
	printf '%s\n' "$2" >>"$D/$1.conf"
	"$LURKD" --check-config "$D/$1.conf" >"$D/out" 2>&1
}
count() { grep -c "is not enforced" "$D/out"; }
# unwarned FILE KEY: --check-config accepted FILE ($D/out) and did not warn for KEY.
unwarned() { grep -q "$1: ok" "$D/out" && ! grep -q "key '$2'" "$D/out"; }

# The demo certificates (lib-pki.sh): keyEncipherment exactly where the key has
# rsa-decrypt = yes, so no TLS stack picks RSA key exchange lurkd would refuse.
encipher_matches() {
	for k in rsa2048 rsa3072 ec256 ec384 ec521 ed25519; do
		has=0
		openssl x509 -noout -ext keyUsage -in "$D/pki/$k.pem" | grep -q "Key Encipherment" && has=1
		want=$(sed -n "/^\[key $k\]\$/,/^\[/p" "$D/lurkd.conf" | grep -c "^rsa-decrypt = yes")
		[ "$has" -eq "$want" ] || { diag "$k: keyEncipherment $has, rsa-decrypt $want"; return 1; }
	done
}
check "demo certificates: keyEncipherment only on rsa-decrypt keys (rsa2048)" encipher_matches

# The demo configuration: every key server-only, clients a and b without require-content.
"$LURKD" --check-config "$D/lurkd.conf" >"$D/out" 2>&1
check "--check-config still accepts it" grep -q "lurkd.conf: ok" "$D/out"
check "it warns for rsa2048 at its line" warned "$D/lurkd.conf" rsa2048
check "... and for ec256, naming the client" \
	grep -q "key 'ec256' (ECDSA): use = server is not enforced: client 'a' may send bare hashes" "$D/out"
check "... ec384 names a and one more (b)" grep -q "key 'ec384' (ECDSA).*client 'a' (and 1 more)" "$D/out"
check "... five keys (RSA and ECDSA), not ed25519" test "$(count)" -eq 5
check_fails "... nothing for ed25519" grep -q "key 'ed25519'" "$D/out"

# The same warnings in lurkd's own log when it starts.
check "lurkd starts" lurkd_start "$D"
check "its log has the warning with file and line" \
	grep -q "warning: $D/lurkd.conf:$(key_line "$D/lurkd.conf" ec521): key 'ec521' (ECDSA): use = server is not enforced" "$D/lurkd.log"
check "lurkd stops" lurkd_stop "$D"

# require-content on the key: no warning for it.
conf key "$(printf '[key p256]\nsource = %s\nchain = %s\nrequire-content = yes\n[client k]\npublic-key = %s\nkeys = p256' \
	"$D/pki/p256.key" "$D/pki/p256-chain.pem" "$(cat "$D/stranger.pub")")"
check "require-content = yes on the key: no warning for it" unwarned "$D/key.conf" p256

# require-content on every client of a key: no warning; on only one of them: still one.
sed 's/^keys = ec384$/keys = ec384\nrequire-content = yes/' "$D/lurkd.conf" >"$D/b-only.conf"
"$LURKD" --check-config "$D/b-only.conf" >"$D/out" 2>&1
check "client b alone with require-content: ec384 still warned (client a)" \
	grep -q "key 'ec384' (ECDSA).*client 'a' may send" "$D/out"
sed 's/^keys = \(.*\)$/keys = \1\nrequire-content = yes/' "$D/lurkd.conf" >"$D/all.conf"
"$LURKD" --check-config "$D/all.conf" >"$D/out" 2>&1
check "every client with require-content: accepted" grep -q "all.conf: ok" "$D/out"
check "... and no warning at all" test "$(count)" -eq 0

# use = server client: nothing to enforce. use = client: warned as such.
sed '/^\[key rsa3072\]/a use = server client' "$D/lurkd.conf" | sed '/^\[key ec521\]/a use = client' >"$D/use.conf"
"$LURKD" --check-config "$D/use.conf" >"$D/out" 2>&1
check "use = server client: no warning" unwarned "$D/use.conf" rsa3072
check "use = client: warned as use = client" grep -q "key 'ec521' (ECDSA): use = client is not enforced" "$D/out"

# A key no client may use: no client can send it anything.
sed 's/^keys = rsa2048 rsa3072 ec256 ec384 ec521 ed25519$/keys = rsa3072 ec256 ec384 ec521 ed25519/' \
	"$D/lurkd.conf" >"$D/unused.conf"
"$LURKD" --check-config "$D/unused.conf" >"$D/out" 2>&1
check "a key no client may use: no warning" unwarned "$D/unused.conf" rsa2048
finish

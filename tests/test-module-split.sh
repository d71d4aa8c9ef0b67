#!/bin/bash
# Split keys through lurk-pkcs11.so (issue 18, docs/split-keys.md): an
# Ed25519 and an RSA-2048 key from the demo CA, each split with lurk-admin
# split, share 1 at one lurkd and share 2 at another (its own Noise key and
# audit log; privilege separated as nobody when run as root). p11tool lists
# each once as a private key of its type; gnutls-serv serves TLS 1.3 with
# Ed25519 and RSA-PSS and TLS 1.2 with PKCS#1 v1.5 through the module, with
# gnutls-cli verifying against the demo CA, and both audit logs record their
# half. One server stopped or hung: C_Sign fails with CKR_DEVICE_ERROR within
# the module's timeout, a handshake fails (no fallback to one share). Each
# server's own tls-versions refuses a TLS 1.2 handshake at that server.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib-lurkd.sh"
make_tmpdir
D1=$TEST_TMP/s1
D2=$TEST_TMP/s2
SERV=
P11PID=
cleanup() {
	[ -n "$P11PID" ] && kill "$P11PID" 2>/dev/null
	[ -n "$SERV" ] && kill "$SERV" 2>/dev/null
	# a SIGSTOPped lurkd would never see the SIGTERM
	for _p in $(lurkd_tree "$D2"); do kill -CONT "$_p" 2>/dev/null; done
	lurkd_stop "$D1" >/dev/null 2>&1
	lurkd_stop "$D2" >/dev/null 2>&1
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT
PRIVSEP=0
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then PRIVSEP=1; fi
plan $((24 + PRIVSEP))

MODULE=$(cd "$top_builddir" && pwd)/.libs/lurk-pkcs11.so
PORT=$(lurkd_pick_port 11)
TIMEOUT_MS=3000
# An upper bound only: the module's timeout and a generous slack for a busy machine.
BOUND_S=$((TIMEOUT_MS / 1000 + 10))
PKI=$D1/pki

# lurkd_tree DIR: the pids of DIR's lurkd and of its child processes.
lurkd_tree() {
	[ -f "$1/lurkd.bgpid" ] || return 0
	_top=$(cat "$1/lurkd.bgpid")
	echo "$_top"
	cat /proc/"$_top"/task/*/children 2>/dev/null
}

# --- two lurkd, each with one share of each key ------------------------------
lurkd_setup "$D1" >"$TEST_TMP/setup.log" 2>&1 || {
	echo "Bail out! lurkd_setup failed"
	exit 1
}
mkdir -p "$D2"
ln -s "$D1/pki" "$D2/pki"
"$ADMIN" genkey "$D2/server.key" >"$D2/server.pub"
"$ADMIN" genkey "$D1/c.key" >"$D1/c.pub"
for f in a.key a.pub b.key b.pub c.pub; do cp -p "$D1/$f" "$D2/$f"; done
lurkd_pick_port 2 >"$D2/port"

# sed: Ed25519; srsa: RSA-2048 (sections 2-4); ra, rb: RSA-2048 with each
# server's own tls-versions (section 5). Keys of their own: lurkd refuses
# one key twice, and lib-lurkd.sh configures the PKI's keys whole.
made=0
make_key_cert "$PKI" sed --key-type ed25519 && made=$((made + 1))
for k in srsa ra rb; do
	make_key_cert "$PKI" $k --key-type rsa --bits 2048 && made=$((made + 1))
done
split_ok=0
for k in sed srsa ra rb; do
	"$ADMIN" split "$PKI/$k.key" "$D1/$k.share" "$D2/$k.share" >>"$TEST_TMP/setup.log" 2>&1 &&
		test -s "$D1/$k.share" -a -s "$D2/$k.share" && split_ok=$((split_ok + 1))
done
check "four keys with demo CA certificates, each split in two with lurk-admin split ($made, $split_ok)" \
	test "$made" = 4 -a "$split_ok" = 4

# split_conf DIR RA-VERSIONS RB-VERSIONS
split_conf() {
	lurkd_write_conf "$1" "
[key sed]
share = $1/sed.share

[key srsa]
share = $1/srsa.share

[key ra]
share = $1/ra.share
tls-versions = $2

[key rb]
share = $1/rb.share
tls-versions = $3

[client c]
public-key = $(cat "$D1/c.pub")
keys = sed srsa ra rb"
}
split_conf "$D1" "1.3" "1.2, 1.3"
split_conf "$D2" "1.2, 1.3" "1.3"
if [ "$PRIVSEP" = 1 ]; then
	sed -i "s/^workers = 2$/workers = 2\nuser = nobody/" "$D2/lurkd.conf"
	chmod 711 "$TEST_TMP" # nobody may pass through to s2 (its files stay root-owned 0600)
else
	diag "not root: lurkd 2 runs without privilege separation"
fi
lurkd_start "$D1" || echo "Bail out! lurkd 1 did not start"
lurkd_start "$D2" || echo "Bail out! lurkd 2 did not start"
if [ "$PRIVSEP" = 1 ]; then
	check "lurkd 2 serves as nobody, its shares read by the root parent" \
		grep -q "serving as user nobody" "$D2/lurkd.log"
fi

cat >"$TEST_TMP/lurk-pkcs11.conf" <<EOF
[module]
client-key = $D1/c.key
connect-timeout = 1000
timeout = $TIMEOUT_MS

[server owner]
address = unix:$D1/lurkd.sock
public-key = $(cat "$D1/server.pub")
share = 1

[server cdn]
address = unix:$D2/lurkd.sock
public-key = $(cat "$D2/server.pub")
share = 2
EOF
export LURK_PKCS11_CONF=$TEST_TMP/lurk-pkcs11.conf
unset GNUTLS_PIN GNUTLS_SO_PIN

# --- the token lists each split key once, as a private key ---------------------
timeout 20 $TOOL_ENV p11tool --provider "$MODULE" --list-all pkcs11:token=lurk \
	>"$TEST_TMP/all.out" 2>&1
# listed KEY TYPE-PATTERN: one private key object labelled KEY, of TYPE, no certificate.
listed() {
	_n=$(grep -c "URL: pkcs11:.*;object=$1;type=private$" "$TEST_TMP/all.out")
	_c=$(grep -c "URL: pkcs11:.*;object=$1;type=cert$" "$TEST_TMP/all.out")
	_t=$(awk -v k="$1" '/^Object / { u = "" } $1 == "URL:" { u = $2 }
		$1 == "Type:" && u ~ (";object=" k ";type=private$") { sub(/^[^:]*: */, ""); print; exit }' \
		"$TEST_TMP/all.out")
	if [ "$_n" = 1 ] && [ "$_c" = 0 ] && echo "$_t" | grep -q "$2"; then
		ok "p11tool lists $1 once, as a private key ($_t), with no certificate"
	else
		not_ok "p11tool lists $1 once, as a private key of type $2, with no certificate"
		diag "private: $_n, certificates: $_c, type: $_t"
		sed -n '1,40s/^/# /p' "$TEST_TMP/all.out"
	fi
}
listed sed "Private key (EdDSA"
listed srsa "Private key (RSA-2048)"

# --- TLS handshakes through the module -------------------------------------------
stop_serv() {
	if [ -n "$SERV" ]; then
		kill "$SERV" 2>/dev/null
		wait "$SERV" 2>/dev/null
		SERV=
	fi
}

# serve KEY: gnutls-serv with the split KEY through the module, its chain from the PKI.
serve() {
	stop_serv
	$TOOL_ENV gnutls-serv --provider "$MODULE" --port "$PORT" \
		--x509keyfile "pkcs11:token=lurk;object=$1;type=private" \
		--x509certfile "$PKI/$1-chain.pem" --echo >"$TEST_TMP/serv.log" 2>&1 &
	SERV=$!
	for _i in $(seq 1 200); do
		(echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		kill -0 "$SERV" 2>/dev/null || break
		sleep 0.1
	done
	diag "gnutls-serv did not start:"
	sed 's/^/# /' "$TEST_TMP/serv.log"
	return 1
}

# handshake PRIORITY: a handshake verified against the demo CA; the session in $desc.
handshake() {
	out=$(echo | timeout 30 gnutls-cli --x509cafile "$PKI/ca.pem" --port "$PORT" \
		--priority "$1" localhost 2>&1)
	desc=$(echo "$out" | sed -n 's/^- Description: //p')
	echo "$out" | grep -q "^- Handshake was completed" &&
		echo "$out" | grep -q "The certificate is trusted"
}

# audit_count DIR KEY OP MECHANISM VERDICT: that server's audit records of it.
audit_count() {
	grep -F "\"key\":\"$2\"" "$1/audit.log" 2>/dev/null | grep -F "\"op\":\"$3\"" |
		grep -F "\"mechanism\":\"$4\"" | grep -cF "\"verdict\":\"$5\""
}

# audit_grew DIR KEY OP MECHANISM VERDICT BEFORE: waits (10 s at most) until
# that server has more such records than BEFORE.
audit_grew() {
	for _i in $(seq 1 500); do
		[ "$(audit_count "$1" "$2" "$3" "$4" "$5")" -gt "$6" ] && return 0
		sleep 0.02
	done
	return 1
}

# tls NAME KEY PRIORITY DESC-PATTERN OP MECHANISM: the handshake succeeds
# with that scheme, and both servers audit an allowed OP with MECHANISM.
tls() {
	_b1=$(audit_count "$D1" "$2" "$5" "$6" allowed)
	_b2=$(audit_count "$D2" "$2" "$5" "$6" allowed)
	if serve "$2" && handshake "$3" && echo "$desc" | grep -q -- "$4"; then
		ok "$1: $desc"
	else
		not_ok "$1"
		diag "desc=$desc"
		echo "$out" | grep -v "^ \|^[A-Za-z0-9+/=]*$" | head -20 | sed 's/^/# /'
		tail -5 "$TEST_TMP/serv.log" | sed 's/^/# /'
	fi
	if audit_grew "$D1" "$2" "$5" "$6" allowed "$_b1" &&
		audit_grew "$D2" "$2" "$5" "$6" allowed "$_b2"; then
		ok "$1: both audit logs have the $5 $6, allowed"
	else
		not_ok "$1: both audit logs have the $5 $6, allowed"
		grep -hF "\"key\":\"$2\"" "$D1/audit.log" "$D2/audit.log" | tail -6 | sed 's/^/# /'
	fi
}

T13="NORMAL:-VERS-ALL:+VERS-TLS1.3"
T12="NORMAL:-VERS-ALL:+VERS-TLS1.2"
T12P="$T12:-KX-ALL:+ECDHE-RSA:-SIGN-ALL:+SIGN-RSA-SHA256"
tls "TLS 1.3 with the split Ed25519 key" sed "$T13" "(TLS1.3-X.509)-.*-(EdDSA-Ed25519)" \
	frost-sign CKM_EDDSA
tls "TLS 1.3 with the split RSA key (RSA-PSS)" srsa "$T13" "(TLS1.3-X.509)-.*-(RSA-PSS-RSAE-SHA256)" \
	rsa-partial CKM_RSA_PKCS_PSS
tls "TLS 1.2 with the split RSA key (ECDHE-RSA, PKCS#1 v1.5)" srsa "$T12P" \
	"(TLS1.2-X.509)-(ECDHE-.*)-(RSA-SHA256)" rsa-partial CKM_RSA_PKCS
stop_serv

# --- one server down or hung ------------------------------------------------------
# pkcs11-tool signs a TLS 1.3 CertificateVerify input (server 1's policy takes it).
tls13_content 32 | xxd -r -p >"$TEST_TMP/tls13"
openssl x509 -pubkey -noout -in "$PKI/sed.pem" >"$TEST_TMP/sed.pub"
timeout 20 $TOOL_ENV pkcs11-tool --module "$MODULE" -O --type privkey >"$TEST_TMP/privkeys.txt" 2>&1
# (pkcs11-tool 0.23 picks the key for --sign by --id only, never by --label.)
SED_ID=$(awk '$1 == "label:" { f = ($2 == "sed") } f && $1 == "ID:" { print $2; exit }' \
	"$TEST_TMP/privkeys.txt")
SPY=
for f in /usr/lib/*/pkcs11-spy.so /usr/lib*/pkcs11-spy.so /usr/local/lib/pkcs11-spy.so; do
	if [ -f "$f" ]; then SPY=$f; break; fi
done

rm -f "$TEST_TMP/sig"
timeout 20 $TOOL_ENV pkcs11-tool --module "$MODULE" --sign --id "${SED_ID:-0}" -m EDDSA \
	-i "$TEST_TMP/tls13" -o "$TEST_TMP/sig" >"$TEST_TMP/sign.out" 2>&1 &&
	openssl pkeyutl -verify -pubin -inkey "$TEST_TMP/sed.pub" -rawin -in "$TEST_TMP/tls13" \
		-sigfile "$TEST_TMP/sig" >>"$TEST_TMP/sign.out" 2>&1
rc=$?
check "both servers up: pkcs11-tool signs the input with the split key, openssl verifies it" test "$rc" = 0
[ "$rc" = 0 ] || sed -n '1,20s/^/# /p' "$TEST_TMP/sign.out"

# sign_while CMD: pkcs11-tool lists the token while both servers answer and
# waits for its input on a pipe; CMD then stops server 2, and the input is
# released. C_Sign must give CKR_DEVICE_ERROR (0x30) within BOUND_S, seen
# by pkcs11-spy (pkcs11-tool 0.23 prints only the C_SignUpdate it retries with).
# The elapsed seconds go to $elapsed.
sign_while() {
	rm -f "$TEST_TMP/go" "$TEST_TMP/spy.log" "$TEST_TMP/sig"
	[ -n "$SPY" ] || {
		diag "no pkcs11-spy.so (opensc-pkcs11, scripts/deps.sh): cannot see C_Sign's return value"
		return 1
	}
	{
		for _i in $(seq 1 1500); do
			[ -f "$TEST_TMP/go" ] && break
			sleep 0.02
		done
		cat "$TEST_TMP/tls13"
	} | PKCS11SPY=$MODULE PKCS11SPY_OUTPUT=$TEST_TMP/spy.log $TOOL_ENV pkcs11-tool \
		--module "$SPY" --sign --id "${SED_ID:-0}" -m EDDSA -o "$TEST_TMP/sig" \
		>"$TEST_TMP/sign.out" 2>&1 &
	P11PID=$!
	# State, not time: pkcs11-tool blocked in read(2) on fd 0 (x86-64 syscall 0)
	# has found the key, so the list came from both servers.
	_reading=0
	for _i in $(seq 1 1500); do
		case $(cat "/proc/$P11PID/syscall" 2>/dev/null) in
		"0 0x0 "*)
			_reading=1
			break
			;;
		esac
		kill -0 "$P11PID" 2>/dev/null || break
		sleep 0.02
	done
	[ "$_reading" = 1 ] || diag "pkcs11-tool never waited for its input"
	"$@"
	_t0=$(date +%s.%N)
	touch "$TEST_TMP/go"
	_done=0
	for _i in $(seq 1 $((BOUND_S * 50 + 500))); do
		kill -0 "$P11PID" 2>/dev/null || {
			_done=1
			break
		}
		sleep 0.02
	done
	elapsed=$(awk -v a="$_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	[ "$_done" = 1 ] || kill "$P11PID" 2>/dev/null
	wait "$P11PID"
	_rc=$?
	P11PID=
	# the return value of each call, one "C_Sign 48" a line
	: >"$TEST_TMP/rets"
	[ -f "$TEST_TMP/spy.log" ] && awk '/^[0-9]+: C_/ { f = $2 } /^Returned:/ { print f, $2 }' \
		"$TEST_TMP/spy.log" >"$TEST_TMP/rets"
	grep -q "^C_Sign 48$" "$TEST_TMP/rets"
	_dev=$?
	[ "$_reading" = 1 ] && [ "$_rc" -ne 0 ] && [ "$_dev" = 0 ] && [ ! -s "$TEST_TMP/sig" ] &&
		awk -v e="$elapsed" -v b="$BOUND_S" 'BEGIN { exit !(e <= b) }'
}

stop2() {
	lurkd_stop "$D2" >/dev/null 2>&1
}
if sign_while stop2; then
	ok "lurkd 2 stopped: C_Sign with the split key fails with CKR_DEVICE_ERROR (${elapsed}s <= ${BOUND_S}s)"
else
	not_ok "lurkd 2 stopped: C_Sign with the split key fails with CKR_DEVICE_ERROR (${elapsed}s <= ${BOUND_S}s)"
	sed -n '1,20s/^/# /p' "$TEST_TMP/sign.out"
	[ -f "$TEST_TMP/rets" ] && diag "returns: $(grep '^C_Sign' "$TEST_TMP/rets" | tr '\n' ' ')"
fi

# A handshake with lurkd 2 down: gnutls-serv listed its key with both up.
lurkd_start "$D2" >/dev/null 2>&1
if serve sed && handshake "$T13"; then
	stop2
	if handshake "$T13"; then
		not_ok "lurkd 2 stopped: a TLS 1.3 handshake with the split key fails (no fallback)"
		diag "desc=$desc"
	else
		ok "lurkd 2 stopped: a TLS 1.3 handshake with the split key fails (no fallback)"
	fi
else
	not_ok "lurkd 2 stopped: a TLS 1.3 handshake with the split key fails (no fallback)"
	diag "no handshake with both servers up: desc=$desc"
	echo "$out" | grep -v "^ \|^[A-Za-z0-9+/=]*$" | head -10 | sed 's/^/# /'
fi
stop_serv

# Hung: lurkd 2 (and its serving process) stopped with SIGSTOP.
lurkd_start "$D2" >/dev/null 2>&1
hang2() {
	for _p in $(lurkd_tree "$D2"); do kill -STOP "$_p"; done
}
if sign_while hang2; then
	ok "lurkd 2 hung (SIGSTOP): C_Sign fails with CKR_DEVICE_ERROR (${elapsed}s <= ${BOUND_S}s)"
else
	not_ok "lurkd 2 hung (SIGSTOP): C_Sign fails with CKR_DEVICE_ERROR (${elapsed}s <= ${BOUND_S}s)"
	sed -n '1,20s/^/# /p' "$TEST_TMP/sign.out"
	[ -f "$TEST_TMP/rets" ] && diag "returns: $(grep '^C_Sign' "$TEST_TMP/rets" | tr '\n' ' ')"
fi
for _p in $(lurkd_tree "$D2"); do kill -CONT "$_p"; done
rm -f "$TEST_TMP/sig"
timeout 20 $TOOL_ENV pkcs11-tool --module "$MODULE" --sign --id "${SED_ID:-0}" -m EDDSA \
	-i "$TEST_TMP/tls13" -o "$TEST_TMP/sig" >"$TEST_TMP/sign.out" 2>&1 &&
	openssl pkeyutl -verify -pubin -inkey "$TEST_TMP/sed.pub" -rawin -in "$TEST_TMP/tls13" \
		-sigfile "$TEST_TMP/sig" >>"$TEST_TMP/sign.out" 2>&1
check "lurkd 2 resumed (SIGCONT): the split key signs again" test $? = 0

# --- each server's own policy --------------------------------------------------------
# ra: TLS 1.3 only at server 1; rb: TLS 1.3 only at server 2. A TLS 1.2
# handshake (PKCS#1 v1.5 DigestInfo) fails, refused by that server alone.
# refused12 KEY DIR-REFUSING DIR-ALLOWING N
refused12() {
	_r=$(audit_count "$2" "$1" rsa-partial CKM_RSA_PKCS refused)
	_a=$(audit_count "$3" "$1" rsa-partial CKM_RSA_PKCS allowed)
	if serve "$1" && ! handshake "$T12P"; then
		ok "$1 (TLS 1.3 only at server $4): a TLS 1.2 handshake fails"
	else
		not_ok "$1 (TLS 1.3 only at server $4): a TLS 1.2 handshake fails"
		diag "desc=$desc"
	fi
	if audit_grew "$2" "$1" rsa-partial CKM_RSA_PKCS refused "$_r"; then
		ok "$1: server $4's audit log has the refused rsa-partial CKM_RSA_PKCS"
	else
		not_ok "$1: server $4's audit log has the refused rsa-partial CKM_RSA_PKCS"
		grep -F "\"key\":\"$1\"" "$2/audit.log" | tail -3 | sed 's/^/# /'
	fi
	if audit_grew "$3" "$1" rsa-partial CKM_RSA_PKCS allowed "$_a" &&
		[ "$(audit_count "$3" "$1" rsa-partial CKM_RSA_PKCS refused)" = 0 ]; then
		ok "$1: the other server allowed its half (its own policy takes TLS 1.2)"
	else
		not_ok "$1: the other server allowed its half (its own policy takes TLS 1.2)"
		grep -F "\"key\":\"$1\"" "$3/audit.log" | tail -3 | sed 's/^/# /'
	fi
	tls "$1: TLS 1.3 still served" "$1" "$T13" "(TLS1.3-X.509)-.*-(RSA-PSS-RSAE-SHA256)" \
		rsa-partial CKM_RSA_PKCS_PSS
}
refused12 ra "$D1" "$D2" 1
refused12 rb "$D2" "$D1" 2
stop_serv
finish

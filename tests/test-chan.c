/*
 * The IK channel (chan.c) and the Noise primitives it rests on, mostly
 * negative: every single-byte change of msg1 and msg2, replays, stale and
 * malformed payloads, unknown clients, wrong lengths, tampered and reordered
 * transport messages, session limits, nonce exhaustion, a wrong server key,
 * misuse of the state machine, and wiping. The known-answer side is
 * test-noise-vectors.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chan.h"
#include "err.h"
#include "noise.h"
#include "server/replay.h"
#include "tap.h"

#include "fuzz/msg1_fixture.h"

#define WINDOW 60

struct clk {
	time_t real;
	long nsec;
	time_t mono;
};

static void
clk_fn(void *ctx, clockid_t id, struct timespec *ts)
{
	const struct clk *k = ctx;

	ts->tv_sec = id == CLOCK_MONOTONIC ? k->mono : k->real;
	ts->tv_nsec = id == CLOCK_MONOTONIC ? 0 : k->nsec;
}

struct allow {
	uint8_t pk[LURK_NOISE_KEY_LEN]; /* the one allowed client */
	uint8_t seen[LURK_NOISE_KEY_LEN];
	int calls;
	int force; /* if non-zero, returned whatever the key */
};

static int
allow_fn(void *ctx, const uint8_t pk[LURK_NOISE_KEY_LEN])
{
	struct allow *a = ctx;

	a->calls++;
	memcpy(a->seen, pk, LURK_NOISE_KEY_LEN);
	if (a->force != 0)
		return a->force;
	return memcmp(pk, a->pk, LURK_NOISE_KEY_LEN) == 0 ? 0 : LURK_ERR_UNKNOWN_PEER;
}

/* One client and one server with fixed static keys, sharing clocks. */
struct pair {
	struct lurk_replay *rc;
	struct lurk_chan *ci, *cr;
	struct clk ck, sk; /* client's and server's clocks */
	struct allow al;
	uint8_t spk[LURK_NOISE_KEY_LEN];
	uint8_t msg1[LURK_MSG1_LEN], msg2[LURK_MSG2_LEN];
};

static void
new_responder(struct pair *p)
{
	lurk_chan_free(p->cr);
	assert_ok(lurk_chan_new_responder(
		FIX_SERVER_SK, p->spk, lurk_replay_fresh, p->rc, allow_fn, &p->al, &p->cr));
	lurk_chan_set_clock(p->cr, clk_fn, &p->sk);
}

static void
new_initiator(struct pair *p, const uint8_t client_sk[LURK_NOISE_KEY_LEN])
{
	lurk_chan_free(p->ci);
	assert_ok(lurk_chan_new_initiator(client_sk, p->spk, &p->ci));
	lurk_chan_set_clock(p->ci, clk_fn, &p->ck);
}

static void
pair_new(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	p->ck.real = p->sk.real = FIX_TIME;
	p->ck.mono = p->sk.mono = 1000;
	assert_ok(lurk_noise_pubkey(p->spk, FIX_SERVER_SK));
	assert_ok(lurk_noise_pubkey(p->al.pk, FIX_CLIENT_SK));
	assert_ok(lurk_replay_new(64, WINDOW, &p->rc));
	new_initiator(p, FIX_CLIENT_SK);
	new_responder(p);
}

static void
pair_free(struct pair *p)
{
	lurk_chan_free(p->ci);
	lurk_chan_free(p->cr);
	lurk_replay_free(p->rc);
}

static void
pair_handshake(struct pair *p)
{
	assert_ok(lurk_chan_write_msg1(p->ci, p->msg1));
	assert_ok(lurk_chan_read_msg1(p->cr, p->msg1, sizeof(p->msg1)));
	assert_ok(lurk_chan_write_msg2(p->cr, p->msg2));
	assert_ok(lurk_chan_read_msg2(p->ci, p->msg2, sizeof(p->msg2)));
	assert_true(lurk_chan_ready(p->ci));
	assert_true(lurk_chan_ready(p->cr));
}

/* Sends len bytes from a to b and checks they arrive. */
static void
send_ok(struct lurk_chan *a, struct lurk_chan *b, size_t len)
{
	static uint8_t pt[LURK_NOISE_MAX_PLAINTEXT], ct[LURK_NOISE_MAX_MSG],
		back[LURK_NOISE_MAX_MSG];
	size_t n, m;

	randombytes_buf(pt, len);
	assert_ok(lurk_chan_encrypt(a, pt, len, ct, sizeof(ct), &n));
	assert_num_eq(n, len + LURK_AEAD_TAG_LEN);
	assert_ok(lurk_chan_decrypt(b, ct, n, back, sizeof(back), &m));
	assert_num_eq(m, len);
	assert_mem_eq(back, pt, len);
}

static void
test_round_trip(void)
{
	struct pair p;
	uint8_t id1[LURK_HASH_LEN], id2[LURK_HASH_LEN], pk[LURK_NOISE_KEY_LEN],
		cpk[LURK_NOISE_KEY_LEN];
	uint8_t buf[64 + LURK_AEAD_TAG_LEN], copy[64];
	size_t n;

	pair_new(&p);
	assert_num_eq(sizeof(p.msg1), 112);
	assert_num_eq(sizeof(p.msg2), 48);
	pair_handshake(&p);
	assert_ok(lurk_chan_session_id(p.ci, id1));
	assert_ok(lurk_chan_session_id(p.cr, id2));
	assert_mem_eq(id1, id2, LURK_HASH_LEN);
	assert_ok(lurk_chan_remote_static(p.cr, pk));
	assert_ok(lurk_noise_pubkey(cpk, FIX_CLIENT_SK));
	assert_mem_eq(pk, cpk, LURK_NOISE_KEY_LEN);
	assert_ok(lurk_chan_remote_static(p.ci, pk));
	assert_mem_eq(pk, p.spk, LURK_NOISE_KEY_LEN);
	assert_true(lurk_chan_test_handshake_wiped(p.ci));
	assert_true(lurk_chan_test_handshake_wiped(p.cr));
	assert_false(lurk_chan_test_secrets_wiped(p.ci));
	assert_num_eq(p.al.calls, 1);
	assert_num_eq(lurk_replay_count(p.rc), 1);

	for (int i = 0; i < 5; i++) {
		send_ok(p.ci, p.cr, 1 + (size_t)i * 100);
		send_ok(p.cr, p.ci, (size_t)i * 7);
	}
	send_ok(p.ci, p.cr, 0);
	send_ok(p.ci, p.cr, LURK_NOISE_MAX_PLAINTEXT);
	send_ok(p.cr, p.ci, LURK_NOISE_MAX_PLAINTEXT);
	assert_err(lurk_chan_encrypt(p.ci, buf, LURK_NOISE_MAX_PLAINTEXT + 1, buf, sizeof(buf), &n),
		LURK_ERR_TOO_LARGE);
	assert_err(lurk_chan_encrypt(p.ci, buf, 64, buf, sizeof(buf) - 1, &n), LURK_ERR_NO_SPACE);

	/* In place, both ways. */
	memset(buf, 0xab, 64);
	memcpy(copy, buf, 64);
	assert_ok(lurk_chan_encrypt(p.cr, buf, 64, buf, sizeof(buf), &n));
	assert_ok(lurk_chan_decrypt(p.ci, buf, n, buf, sizeof(buf), &n));
	assert_num_eq(n, 64);
	assert_mem_eq(buf, copy, 64);
	assert_ok(lurk_chan_check_limits(p.ci));
	pair_free(&p);
}

/* Two handshakes with the same static keys never share an ephemeral or a session. */
static void
test_fresh_ephemeral(void)
{
	struct pair p;
	uint8_t first[LURK_MSG1_LEN], id1[LURK_HASH_LEN], id2[LURK_HASH_LEN];

	pair_new(&p);
	pair_handshake(&p);
	memcpy(first, p.msg1, sizeof(first));
	assert_ok(lurk_chan_session_id(p.ci, id1));
	new_initiator(&p, FIX_CLIENT_SK);
	new_responder(&p);
	pair_handshake(&p);
	assert_ok(lurk_chan_session_id(p.ci, id2));
	assert_true(memcmp(first, p.msg1, LURK_NOISE_KEY_LEN) != 0);
	assert_true(memcmp(id1, id2, LURK_HASH_LEN) != 0);
	pair_free(&p);
}

static void
test_msg1_every_byte(void)
{
	struct pair p;
	uint8_t bad[LURK_MSG1_LEN], m2[LURK_MSG2_LEN];

	pair_new(&p);
	assert_ok(lurk_chan_write_msg1(p.ci, p.msg1));
	for (size_t i = 0; i < LURK_MSG1_LEN; i++) {
		memcpy(bad, p.msg1, sizeof(bad));
		bad[i] ^= 0x01;
		new_responder(&p);
		assert_true(lurk_chan_read_msg1(p.cr, bad, sizeof(bad)) < 0);
		assert_err(lurk_chan_write_msg2(p.cr, m2), LURK_ERR_STATE);
		assert_true(lurk_chan_test_secrets_wiped(p.cr));
	}
	/* Nothing was recorded, and the untouched message still passes. */
	assert_num_eq(lurk_replay_count(p.rc), 0);
	new_responder(&p);
	assert_ok(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)));
	pair_free(&p);
}

static void
test_msg2_every_byte(void)
{
	struct pair p;
	uint8_t bad[LURK_MSG2_LEN], ct[64];
	size_t n;

	pair_new(&p);
	for (size_t i = 0; i < LURK_MSG2_LEN; i++) {
		new_initiator(&p, FIX_CLIENT_SK);
		new_responder(&p);
		assert_ok(lurk_chan_write_msg1(p.ci, p.msg1));
		assert_ok(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)));
		assert_ok(lurk_chan_write_msg2(p.cr, p.msg2));
		memcpy(bad, p.msg2, sizeof(bad));
		bad[i] ^= 0x01;
		assert_true(lurk_chan_read_msg2(p.ci, bad, sizeof(bad)) < 0);
		assert_false(lurk_chan_ready(p.ci));
		assert_err(lurk_chan_encrypt(p.ci, ct, 1, ct, sizeof(ct), &n), LURK_ERR_STATE);
		assert_err(lurk_chan_read_msg2(p.ci, p.msg2, sizeof(p.msg2)), LURK_ERR_STATE);
		assert_true(lurk_chan_test_secrets_wiped(p.ci));
	}
	pair_free(&p);
}

static void
test_msg1_replay(void)
{
	struct pair p;
	struct lurk_replay *other;
	struct lurk_chan *c;

	pair_new(&p);
	pair_handshake(&p);
	/* A fresh responder sharing the cache refuses the same msg1, even later in the window. */
	p.sk.real += 30;
	new_responder(&p);
	assert_err(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)), LURK_ERR_REPLAY);
	/* Without the shared cache it would have gone through: the cache is what stops it. */
	assert_ok(lurk_replay_new(4, WINDOW, &other));
	assert_ok(lurk_chan_new_responder(
		FIX_SERVER_SK, p.spk, lurk_replay_fresh, other, allow_fn, &p.al, &c));
	lurk_chan_set_clock(c, clk_fn, &p.sk);
	assert_ok(lurk_chan_read_msg1(c, p.msg1, sizeof(p.msg1)));
	lurk_chan_free(c);
	lurk_replay_free(other);
	/* Once out of the window, it is stale rather than a replay. */
	p.sk.real += WINDOW;
	new_responder(&p);
	assert_err(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)), LURK_ERR_STALE);
	pair_free(&p);
}

static void
check_clock_offset(long offset, int want)
{
	struct pair p;

	pair_new(&p);
	p.ck.real = FIX_TIME + offset;
	assert_ok(lurk_chan_write_msg1(p.ci, p.msg1));
	assert_err(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)), want);
	pair_free(&p);
}

static void
test_msg1_stale(void)
{
	check_clock_offset(-WINDOW - 1, LURK_ERR_STALE);
	check_clock_offset(WINDOW + 1, LURK_ERR_STALE);
	check_clock_offset(-100000, LURK_ERR_STALE);
	check_clock_offset(-WINDOW, 0);
	check_clock_offset(WINDOW, 0);
}

static void
test_unknown_peer(void)
{
	struct pair p;
	uint8_t other_pk[LURK_NOISE_KEY_LEN], other_sk[LURK_NOISE_KEY_LEN], pk[LURK_NOISE_KEY_LEN];

	pair_new(&p);
	assert_ok(lurk_noise_keypair(other_pk, other_sk));
	new_initiator(&p, other_sk);
	assert_ok(lurk_chan_write_msg1(p.ci, p.msg1));
	assert_err(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)), LURK_ERR_UNKNOWN_PEER);
	assert_num_eq(p.al.calls, 1);
	assert_mem_eq(p.al.seen, other_pk, LURK_NOISE_KEY_LEN);
	assert_err(lurk_chan_write_msg2(p.cr, p.msg2), LURK_ERR_STATE);
	assert_err(lurk_chan_remote_static(p.cr, pk), LURK_ERR_STATE);
	assert_true(lurk_chan_test_secrets_wiped(p.cr));
	assert_num_eq(lurk_replay_count(p.rc), 0);

	/* The hook's own error is passed on; a positive refusal becomes UNKNOWN_PEER. */
	new_initiator(&p, FIX_CLIENT_SK);
	assert_ok(lurk_chan_write_msg1(p.ci, p.msg1));
	p.al.force = LURK_ERR_RATE_LIMIT;
	new_responder(&p);
	assert_err(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)), LURK_ERR_RATE_LIMIT);
	p.al.force = 1;
	new_responder(&p);
	assert_err(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)), LURK_ERR_UNKNOWN_PEER);
	assert_num_eq(lurk_replay_count(p.rc), 0);
	pair_free(&p);
}

/* The hook runs once s is decrypted and before the payload is looked at. */
static void
test_allow_order(void)
{
	struct pair p;
	uint8_t bad[LURK_MSG1_LEN];

	pair_new(&p);
	assert_ok(lurk_chan_write_msg1(p.ci, p.msg1));
	memcpy(bad, p.msg1, sizeof(bad));
	bad[LURK_MSG1_LEN - 1] ^= 0x80; /* payload tag */
	assert_err(lurk_chan_read_msg1(p.cr, bad, sizeof(bad)), LURK_ERR_DECRYPT);
	assert_num_eq(p.al.calls, 1);
	memcpy(bad, p.msg1, sizeof(bad));
	bad[40] ^= 0x80; /* encrypted s */
	new_responder(&p);
	assert_err(lurk_chan_read_msg1(p.cr, bad, sizeof(bad)), LURK_ERR_DECRYPT);
	assert_num_eq(p.al.calls, 1);
	pair_free(&p);
}

static void
test_lengths(void)
{
	static const size_t bad1[] = {0, 1, 32, 80, 96, 111, 113, 128, 200, LURK_NOISE_MAX_MSG + 1};
	static const size_t bad2[] = {0, 1, 32, 47, 49, 64, LURK_NOISE_MAX_MSG + 1};
	static uint8_t big[LURK_NOISE_MAX_MSG + 1];
	struct pair p;

	pair_new(&p);
	assert_ok(lurk_chan_write_msg1(p.ci, p.msg1));
	for (size_t i = 0; i < LURK_ARRAY_LEN(bad1); i++) {
		uint8_t *m = malloc(bad1[i] + 1);

		assert_ptr_not_null(m);
		memset(m, 0, bad1[i] + 1);
		memcpy(m, p.msg1, bad1[i] < LURK_MSG1_LEN ? bad1[i] : LURK_MSG1_LEN);
		new_responder(&p);
		assert_err(lurk_chan_read_msg1(p.cr, m, bad1[i]), LURK_ERR_BAD_FORMAT);
		free(m);
	}
	assert_num_eq(p.al.calls, 0);
	new_responder(&p);
	assert_ok(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)));
	assert_ok(lurk_chan_write_msg2(p.cr, p.msg2));
	for (size_t i = 0; i < LURK_ARRAY_LEN(bad2); i++) {
		memset(big, 0, sizeof(big));
		memcpy(big, p.msg2, bad2[i] < LURK_MSG2_LEN ? bad2[i] : LURK_MSG2_LEN);
		new_initiator(&p, FIX_CLIENT_SK);
		assert_ok(lurk_chan_write_msg1(p.ci, p.msg1));
		assert_err(lurk_chan_read_msg2(p.ci, big, bad2[i]), LURK_ERR_BAD_FORMAT);
		assert_false(lurk_chan_ready(p.ci));
	}
	pair_free(&p);
}

/* A msg1 with any payload, through the test hook; the production responder reads it. */
static int
read_with_payload(const uint8_t *payload, size_t plen)
{
	struct pair p;
	uint8_t m[LURK_NOISE_MAX_MSG];
	size_t n;
	int r;

	pair_new(&p);
	assert_ok(lurk_chan_test_write_msg1_payload(p.ci, payload, plen, m, sizeof(m), &n));
	r = lurk_chan_read_msg1(p.cr, m, n);
	pair_free(&p);
	return r;
}

static void
test_bad_payload(void)
{
	/* version 1, flags 0, reserved 0, TAI64N(FIX_TIME) */
	uint8_t ok[16] = {1, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, p[17];
	uint64_t label = 0x400000000000000aull + (uint64_t)FIX_TIME;

	for (int i = 0; i < 8; i++)
		ok[4 + i] = (uint8_t)(label >> (56 - 8 * i));
	assert_ok(read_with_payload(ok, 16));
	memcpy(p, ok, 16);
	p[0] = 2;
	assert_err(read_with_payload(p, 16), LURK_ERR_BAD_VERSION);
	p[0] = 0;
	assert_err(read_with_payload(p, 16), LURK_ERR_BAD_VERSION);
	for (int i = 1; i < 4; i++) {
		memcpy(p, ok, 16);
		p[i] = 0x01;
		assert_err(read_with_payload(p, 16), LURK_ERR_BAD_FORMAT);
	}
	memcpy(p, ok, 16);
	p[12] = 0x3b, p[13] = 0x9a, p[14] = 0xca, p[15] = 0x00; /* 10^9 ns */
	assert_err(read_with_payload(p, 16), LURK_ERR_BAD_FORMAT);
	memcpy(p, ok, 16);
	p[4] = 0x3f; /* label below 2^62 */
	assert_err(read_with_payload(p, 16), LURK_ERR_BAD_FORMAT);
	memcpy(p, ok, 16);
	p[4] = 0x80; /* label at 2^63 and above */
	assert_err(read_with_payload(p, 16), LURK_ERR_BAD_FORMAT);
	/* Any other payload length makes msg1 the wrong length. */
	assert_err(read_with_payload(ok, 15), LURK_ERR_BAD_FORMAT);
	memcpy(p, ok, 16);
	p[16] = 0;
	assert_err(read_with_payload(p, 17), LURK_ERR_BAD_FORMAT);
	assert_err(read_with_payload(NULL, 0), LURK_ERR_BAD_FORMAT);
}

/* The payload the production initiator builds: version, zeros, coarse TAI64N. */
static void
test_msg1_payload_format(void)
{
	struct pair p;
	uint8_t pl[LURK_MSG1_PAYLOAD_LEN];
	uint64_t label = 0x400000000000000aull + (uint64_t)FIX_TIME;
	size_t n;

	pair_new(&p);
	p.ck.nsec = 999999999;
	assert_ok(lurk_chan_write_msg1(p.ci, p.msg1));
	assert_ok(
		lurk_chan_test_read_msg1_payload(p.cr, p.msg1, sizeof(p.msg1), pl, sizeof(pl), &n));
	assert_num_eq(n, 16);
	assert_num_eq(pl[0], LURK_CHAN_VERSION);
	assert_num_eq(pl[1] | pl[2] | pl[3], 0);
	for (int i = 0; i < 8; i++)
		assert_num_eq(pl[4 + i], (uint8_t)(label >> (56 - 8 * i)));
	/* 999999999 & ~0xffffff = 0x3b000000 */
	assert_num_eq(pl[12], 0x3b);
	assert_num_eq(pl[13] | pl[14] | pl[15], 0);
	pair_free(&p);
}

static void
test_wrong_server_key(void)
{
	struct pair p;
	uint8_t wrong_pk[LURK_NOISE_KEY_LEN], wrong_sk[LURK_NOISE_KEY_LEN];

	pair_new(&p);
	/* The client pins a key the server does not have. */
	assert_ok(lurk_noise_keypair(wrong_pk, wrong_sk));
	lurk_chan_free(p.ci);
	assert_ok(lurk_chan_new_initiator(FIX_CLIENT_SK, wrong_pk, &p.ci));
	lurk_chan_set_clock(p.ci, clk_fn, &p.ck);
	assert_ok(lurk_chan_write_msg1(p.ci, p.msg1));
	assert_err(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)), LURK_ERR_DECRYPT);
	assert_num_eq(p.al.calls, 0);
	/* An impostor server answering with its own ephemeral cannot complete msg2. */
	lurk_chan_free(p.cr);
	assert_ok(lurk_chan_new_responder(
		wrong_sk, wrong_pk, lurk_replay_fresh, p.rc, allow_fn, &p.al, &p.cr));
	lurk_chan_set_clock(p.cr, clk_fn, &p.sk);
	new_initiator(&p, FIX_CLIENT_SK);
	assert_ok(lurk_chan_write_msg1(p.ci, p.msg1));
	assert_err(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)), LURK_ERR_DECRYPT);
	/* A small-order server key is refused by the DH. */
	memset(wrong_pk, 0, sizeof(wrong_pk));
	lurk_chan_free(p.ci);
	assert_ok(lurk_chan_new_initiator(FIX_CLIENT_SK, wrong_pk, &p.ci));
	assert_err(lurk_chan_write_msg1(p.ci, p.msg1), LURK_ERR_DH);
	assert_true(lurk_chan_test_secrets_wiped(p.ci));
	pair_free(&p);
}

static void
test_transport_tamper(void)
{
	struct pair p;
	uint8_t pt[40], ct[40 + LURK_AEAD_TAG_LEN], bad[sizeof(ct)], out[sizeof(ct)];
	size_t n, m;

	memset(pt, 0x5a, sizeof(pt));
	for (size_t i = 0; i < sizeof(ct); i++) {
		pair_new(&p);
		pair_handshake(&p);
		assert_ok(lurk_chan_encrypt(p.ci, pt, sizeof(pt), ct, sizeof(ct), &n));
		memcpy(bad, ct, n);
		bad[i] ^= 0x01;
		assert_err(lurk_chan_decrypt(p.cr, bad, n, out, sizeof(out), &m), LURK_ERR_DECRYPT);
		/* Dead: the good message, and sending, are refused too. */
		assert_err(lurk_chan_decrypt(p.cr, ct, n, out, sizeof(out), &m), LURK_ERR_STATE);
		assert_err(lurk_chan_encrypt(p.cr, pt, 1, out, sizeof(out), &m), LURK_ERR_STATE);
		assert_true(lurk_chan_test_secrets_wiped(p.cr));
		pair_free(&p);
	}
	/* Truncated below a tag, and too large. */
	pair_new(&p);
	pair_handshake(&p);
	assert_err(lurk_chan_decrypt(p.cr, ct, LURK_AEAD_TAG_LEN - 1, out, sizeof(out), &m),
		LURK_ERR_DECRYPT);
	assert_err(lurk_chan_decrypt(p.cr, ct, 1, out, sizeof(out), &m), LURK_ERR_STATE);
	pair_free(&p);
}

static void
test_transport_order(void)
{
	struct pair p;
	uint8_t a[8 + LURK_AEAD_TAG_LEN], b[8 + LURK_AEAD_TAG_LEN], out[32];
	size_t na, nb, n;

	/* Out of order. */
	pair_new(&p);
	pair_handshake(&p);
	assert_ok(lurk_chan_encrypt(p.ci, (const uint8_t *)"message1", 8, a, sizeof(a), &na));
	assert_ok(lurk_chan_encrypt(p.ci, (const uint8_t *)"message2", 8, b, sizeof(b), &nb));
	assert_err(lurk_chan_decrypt(p.cr, b, nb, out, sizeof(out), &n), LURK_ERR_DECRYPT);
	assert_err(lurk_chan_decrypt(p.cr, a, na, out, sizeof(out), &n), LURK_ERR_STATE);
	pair_free(&p);

	/* Replayed. */
	pair_new(&p);
	pair_handshake(&p);
	assert_ok(lurk_chan_encrypt(p.ci, (const uint8_t *)"message1", 8, a, sizeof(a), &na));
	assert_ok(lurk_chan_decrypt(p.cr, a, na, out, sizeof(out), &n));
	assert_err(lurk_chan_decrypt(p.cr, a, na, out, sizeof(out), &n), LURK_ERR_DECRYPT);
	pair_free(&p);

	/* Reflected back to its sender (the two directions have different keys). */
	pair_new(&p);
	pair_handshake(&p);
	assert_ok(lurk_chan_encrypt(p.ci, (const uint8_t *)"message1", 8, a, sizeof(a), &na));
	assert_err(lurk_chan_decrypt(p.ci, a, na, out, sizeof(out), &n), LURK_ERR_DECRYPT);
	pair_free(&p);
}

static void
test_limits(void)
{
	struct pair p;
	uint8_t buf[1 + LURK_AEAD_TAG_LEN], out[16];
	size_t n;

	/* Message count, per direction. */
	pair_new(&p);
	assert_err(lurk_chan_set_limits(p.ci, 0, 10), LURK_ERR_INVALID_ARG);
	assert_err(lurk_chan_set_limits(p.ci, 10, 0), LURK_ERR_INVALID_ARG);
	assert_ok(lurk_chan_set_limits(p.ci, 3600, 3));
	assert_ok(lurk_chan_set_limits(p.cr, 3600, 3));
	pair_handshake(&p);
	for (int i = 0; i < 3; i++) {
		send_ok(p.ci, p.cr, 1);
		send_ok(p.cr, p.ci, 1);
	}
	assert_err(lurk_chan_check_limits(p.ci), LURK_ERR_SESSION_EXPIRED);
	assert_err(lurk_chan_encrypt(p.ci, buf, 1, buf, sizeof(buf), &n), LURK_ERR_SESSION_EXPIRED);
	assert_err(lurk_chan_decrypt(p.ci, buf, sizeof(buf), out, sizeof(out), &n),
		LURK_ERR_SESSION_EXPIRED);
	pair_free(&p);

	/* Age, on the monotonic clock from the end of the handshake. */
	pair_new(&p);
	assert_ok(lurk_chan_set_limits(p.cr, 100, 1000));
	pair_handshake(&p);
	p.sk.mono += 99;
	assert_ok(lurk_chan_check_limits(p.cr));
	send_ok(p.ci, p.cr, 10);
	send_ok(p.cr, p.ci, 10);
	p.sk.mono += 1;
	assert_err(lurk_chan_check_limits(p.cr), LURK_ERR_SESSION_EXPIRED);
	assert_err(lurk_chan_encrypt(p.cr, buf, 1, buf, sizeof(buf), &n), LURK_ERR_SESSION_EXPIRED);
	assert_ok(lurk_chan_encrypt(p.ci, buf, 1, buf, sizeof(buf), &n));
	assert_err(lurk_chan_decrypt(p.cr, buf, n, out, sizeof(out), &n), LURK_ERR_SESSION_EXPIRED);
	/* The default limits come from lurk-limits.h. */
	assert_ok(lurk_chan_check_limits(p.ci));
	p.ck.mono += LURK_SESSION_MAX_AGE_S - 1;
	assert_ok(lurk_chan_check_limits(p.ci));
	p.ck.mono += 1;
	assert_err(lurk_chan_check_limits(p.ci), LURK_ERR_SESSION_EXPIRED);
	pair_free(&p);
}

static void
test_nonce_exhausted(void)
{
	struct pair p;
	uint8_t buf[1 + LURK_AEAD_TAG_LEN], out[16];
	size_t n;

	pair_new(&p);
	assert_ok(lurk_chan_set_limits(p.ci, 3600, UINT64_MAX));
	assert_ok(lurk_chan_set_limits(p.cr, 3600, UINT64_MAX));
	pair_handshake(&p);
	assert_ok(lurk_chan_test_set_nonces(p.ci, UINT64_MAX - 1, 0));
	assert_ok(lurk_chan_test_set_nonces(p.cr, 0, UINT64_MAX - 1));
	send_ok(p.ci, p.cr, 1);
	/* 2^64-1 is reserved (§5.1): no message is ever sent or taken with it. */
	assert_err(lurk_chan_encrypt(p.ci, buf, 1, buf, sizeof(buf), &n), LURK_ERR_NONCE_EXHAUSTED);
	assert_err(lurk_chan_check_limits(p.ci), LURK_ERR_NONCE_EXHAUSTED);
	assert_err(lurk_chan_decrypt(p.cr, buf, sizeof(buf), out, sizeof(out), &n),
		LURK_ERR_NONCE_EXHAUSTED);
	assert_err(lurk_chan_decrypt(p.cr, buf, sizeof(buf), out, sizeof(out), &n), LURK_ERR_STATE);
	pair_free(&p);
}

static void
test_state_misuse(void)
{
	struct pair p;
	struct lurk_chan *c;
	uint8_t buf[64], id[LURK_HASH_LEN];
	size_t n;

	pair_new(&p);
	assert_err(lurk_chan_new_responder(FIX_SERVER_SK, p.spk, NULL, p.rc, allow_fn, &p.al, &c),
		LURK_ERR_INVALID_ARG);
	assert_ptr_null(c);
	assert_err(lurk_chan_new_responder(
			   FIX_SERVER_SK, p.spk, lurk_replay_fresh, p.rc, NULL, NULL, &c),
		LURK_ERR_INVALID_ARG);
	/* Wrong role. */
	assert_err(lurk_chan_write_msg1(p.cr, p.msg1), LURK_ERR_STATE);
	assert_err(lurk_chan_read_msg1(p.ci, p.msg1, sizeof(p.msg1)), LURK_ERR_STATE);
	assert_err(lurk_chan_write_msg2(p.ci, p.msg2), LURK_ERR_STATE);
	assert_err(lurk_chan_read_msg2(p.cr, p.msg2, sizeof(p.msg2)), LURK_ERR_STATE);
	/* Out of order, before the handshake. */
	assert_err(lurk_chan_write_msg2(p.cr, p.msg2), LURK_ERR_STATE);
	assert_err(lurk_chan_read_msg2(p.ci, p.msg2, sizeof(p.msg2)), LURK_ERR_STATE);
	assert_err(lurk_chan_encrypt(p.ci, buf, 1, buf, sizeof(buf), &n), LURK_ERR_STATE);
	assert_err(lurk_chan_decrypt(p.cr, buf, 17, buf, sizeof(buf), &n), LURK_ERR_STATE);
	assert_err(lurk_chan_session_id(p.ci, id), LURK_ERR_STATE);
	assert_err(lurk_chan_check_limits(p.ci), LURK_ERR_STATE);
	assert_err(lurk_chan_remote_static(p.cr, buf), LURK_ERR_STATE);
	/* None of that hurt the channels. */
	pair_handshake(&p);
	/* Twice. */
	assert_err(lurk_chan_write_msg1(p.ci, p.msg1), LURK_ERR_STATE);
	assert_err(lurk_chan_read_msg1(p.cr, p.msg1, sizeof(p.msg1)), LURK_ERR_STATE);
	assert_err(lurk_chan_write_msg2(p.cr, p.msg2), LURK_ERR_STATE);
	assert_err(lurk_chan_read_msg2(p.ci, p.msg2, sizeof(p.msg2)), LURK_ERR_STATE);
	assert_err(lurk_chan_test_set_prologue(p.ci, buf, 1), LURK_ERR_STATE);
	send_ok(p.ci, p.cr, 5);
	pair_free(&p);
}

static void
test_close_wipes(void)
{
	struct pair p;
	uint8_t buf[LURK_HASH_LEN];
	size_t n;

	pair_new(&p);
	assert_false(lurk_chan_test_handshake_wiped(p.ci)); /* holds the static key */
	pair_handshake(&p);
	assert_false(lurk_chan_test_secrets_wiped(p.ci));
	lurk_chan_close(p.ci);
	lurk_chan_close(p.cr);
	assert_true(lurk_chan_test_secrets_wiped(p.ci));
	assert_true(lurk_chan_test_secrets_wiped(p.cr));
	assert_false(lurk_chan_ready(p.ci));
	assert_err(lurk_chan_encrypt(p.ci, buf, 1, buf, sizeof(buf), &n), LURK_ERR_STATE);
	assert_err(lurk_chan_session_id(p.ci, buf), LURK_ERR_STATE);
	lurk_chan_close(NULL);
	lurk_chan_free(NULL);
	pair_free(&p);
}

/*
 * The fuzz corpus (tests/fuzz/corpus/msg1/) is made from the fixture keys;
 * this checks the committed files are what they claim, and rewrites them
 * when LURK_REGEN_CORPUS=1.
 */
static void
corpus_file(const char *name, const uint8_t *data, size_t len)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	char *have;
	size_t have_len;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/msg1/%s", top ? top : ".", name);
	if (getenv("LURK_REGEN_CORPUS") != NULL) {
		FILE *f = fopen(path, "wb");

		assert_ptr_not_null(f);
		assert_num_eq(fwrite(data, 1, len, f), len);
		assert_num_eq(fclose(f), 0);
	}
	have = lurk_test_read_file(path, &have_len);
	if (have == NULL)
		lurk_test_fail(__FILE__, __LINE__, "corpus file %s not found", path);
	assert_num_eq(have_len, len);
	assert_mem_eq(have, data, len);
	free(have);
}

static void
test_fuzz_corpus(void)
{
	static const uint8_t seed[randombytes_SEEDBYTES] = {'l', 'u', 'r', 'k'};
	struct pair p;
	uint8_t valid[LURK_MSG1_LEN], other[LURK_MSG1_LEN], buf[LURK_MSG1_LEN + 1];
	uint8_t osk[LURK_NOISE_KEY_LEN];

	pair_new(&p);
	lurk_chan_set_clock(p.ci, fix_clock, NULL);
	assert_ok(lurk_chan_test_set_ephemeral(p.ci, FIX_CLIENT_EPH_SK));
	assert_ok(lurk_chan_write_msg1(p.ci, valid));
	/* The fuzz target's setup accepts it and nothing else here. */
	assert_ok(lurk_chan_read_msg1(p.cr, valid, sizeof(valid)));
	corpus_file("valid", valid, sizeof(valid));
	corpus_file("truncated", valid, sizeof(valid) - 1);
	memcpy(buf, valid, sizeof(valid));
	buf[LURK_MSG1_LEN] = 0;
	corpus_file("overlong", buf, sizeof(buf));
	memset(buf, 0, sizeof(buf));
	corpus_file("zeros", buf, LURK_MSG1_LEN);
	randombytes_buf_deterministic(buf, LURK_MSG1_LEN, seed);
	corpus_file("random", buf, LURK_MSG1_LEN);
	/* An unknown client, same ephemeral and time. */
	memcpy(osk, FIX_CLIENT_SK, sizeof(osk));
	osk[0] ^= 0x40;
	new_initiator(&p, osk);
	lurk_chan_set_clock(p.ci, fix_clock, NULL);
	assert_ok(lurk_chan_test_set_ephemeral(p.ci, FIX_CLIENT_EPH_SK));
	assert_ok(lurk_chan_write_msg1(p.ci, other));
	corpus_file("unknown-client", other, sizeof(other));
	pair_free(&p);
}

/* ---- noise.c pieces the vectors do not reach ---- */

static void
test_noise_rekey(void)
{
	struct lurk_noise_cipher a, b;
	uint8_t k[32], zeros[32] = {0}, nonce[12], want[48], ct[64], pt[64];
	unsigned long long wlen;
	size_t n;

	randombytes_buf(k, sizeof(k));
	lurk_noise_cipher_init(&a, k);
	lurk_noise_cipher_init(&b, k);
	/* §4.2: REKEY(k) = ENCRYPT(k, 2^64-1, "", zeros)[0..32), n kept. */
	memset(nonce, 0, 4);
	memset(nonce + 4, 0xff, 8);
	crypto_aead_chacha20poly1305_ietf_encrypt(want, &wlen, zeros, 32, NULL, 0, NULL, nonce, k);
	a.n = 7;
	assert_ok(lurk_noise_cipher_rekey(&a));
	assert_mem_eq(a.k, want, 32);
	assert_num_eq(a.n, 7);
	/* Both ends rekeyed in step still talk; a stale key does not. */
	b.n = 7;
	assert_ok(lurk_noise_cipher_encrypt(&a, NULL, 0, (const uint8_t *)"hi", 2, ct, 64, &n));
	assert_err(lurk_noise_cipher_decrypt(&b, NULL, 0, ct, n, pt, 64, &n), LURK_ERR_DECRYPT);
	assert_num_eq(b.n, 7); /* not advanced on failure */
	assert_ok(lurk_noise_cipher_rekey(&b));
	assert_ok(lurk_noise_cipher_decrypt(&b, NULL, 0, ct, 18, pt, 64, &n));
	assert_num_eq(b.n, 8);
	assert_mem_eq(pt, "hi", 2);
	lurk_noise_cipher_clear(&a);
	assert_true(sodium_is_zero(a.k, 32));
	assert_err(lurk_noise_cipher_rekey(&a), LURK_ERR_STATE);
	lurk_noise_cipher_clear(&b);
}

static void
test_noise_misc(void)
{
	static const char long_name[] =
		"Noise_XXpsk0+psk1+psk2+psk3+psk4_25519_ChaChaPoly_BLAKE2b_and_more_than_64";
	struct lurk_noise_sym ss;
	struct lurk_noise_cipher cs;
	uint8_t h[64], key[200], hk[64], m1[64], m2[64], dh[32], zero_pk[32] = {0}, sk[32];
	uint8_t out[32];
	size_t n;

	/* A name over HASHLEN is hashed, not truncated (§5.2). */
	lurk_noise_sym_init(&ss, long_name);
	lurk_noise_hash(h, (const uint8_t *)long_name, strlen(long_name), NULL, 0);
	assert_mem_eq(ss.h, h, 64);
	assert_mem_eq(ss.ck, h, 64);
	assert_false(ss.cs.has_key);
	lurk_noise_sym_clear(&ss);
	/* HMAC with a key over one block uses its hash (RFC 2104). */
	randombytes_buf(key, sizeof(key));
	lurk_noise_hash(hk, key, sizeof(key), NULL, 0);
	lurk_noise_hmac(m1, key, sizeof(key), (const uint8_t *)"x", 1);
	lurk_noise_hmac(m2, hk, sizeof(hk), (const uint8_t *)"x", 1);
	assert_mem_eq(m1, m2, 64);
	/* An all-zero DH output aborts and leaves nothing behind. */
	randombytes_buf(sk, sizeof(sk));
	memset(dh, 0xee, sizeof(dh));
	assert_err(lurk_noise_dh(dh, sk, zero_pk), LURK_ERR_DH);
	assert_true(sodium_is_zero(dh, sizeof(dh)));
	/* Without a key, text passes through; space is still checked. */
	lurk_noise_cipher_init(&cs, NULL);
	assert_ok(lurk_noise_cipher_encrypt(&cs, NULL, 0, (const uint8_t *)"abc", 3, out, 3, &n));
	assert_num_eq(n, 3);
	assert_err(lurk_noise_cipher_encrypt(&cs, NULL, 0, (const uint8_t *)"abc", 3, out, 2, &n),
		LURK_ERR_NO_SPACE);
	/* The reserved nonce, directly. */
	lurk_noise_cipher_init(&cs, key);
	cs.n = UINT64_MAX;
	assert_err(lurk_noise_cipher_encrypt(&cs, NULL, 0, out, 0, out, sizeof(out), &n),
		LURK_ERR_NONCE_EXHAUSTED);
	lurk_noise_cipher_clear(&cs);
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 99;
	lurk_test(test_round_trip, "/chan/round-trip");
	lurk_test(test_fresh_ephemeral, "/chan/fresh-ephemeral");
	lurk_test(test_msg1_every_byte, "/chan/msg1/every-byte");
	lurk_test(test_msg2_every_byte, "/chan/msg2/every-byte");
	lurk_test(test_msg1_replay, "/chan/msg1/replay");
	lurk_test(test_msg1_stale, "/chan/msg1/stale");
	lurk_test(test_unknown_peer, "/chan/msg1/unknown-peer");
	lurk_test(test_allow_order, "/chan/msg1/allow-order");
	lurk_test(test_lengths, "/chan/lengths");
	lurk_test(test_bad_payload, "/chan/msg1/bad-payload");
	lurk_test(test_msg1_payload_format, "/chan/msg1/payload-format");
	lurk_test(test_wrong_server_key, "/chan/wrong-server-key");
	lurk_test(test_transport_tamper, "/chan/transport/tamper");
	lurk_test(test_transport_order, "/chan/transport/order");
	lurk_test(test_limits, "/chan/transport/limits");
	lurk_test(test_nonce_exhausted, "/chan/transport/nonce-exhausted");
	lurk_test(test_state_misuse, "/chan/state-misuse");
	lurk_test(test_close_wipes, "/chan/close-wipes");
	lurk_test(test_fuzz_corpus, "/chan/fuzz-corpus");
	lurk_test(test_noise_rekey, "/noise/rekey");
	lurk_test(test_noise_misc, "/noise/misc");
	return lurk_test_run(argc, argv);
}

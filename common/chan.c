/*
 * Noise IK, unrolled (docs/channel.md), on the primitives of noise.c.
 *
 * The four ik_* functions are the pattern itself and take any payload; the
 * public functions wrap them with lurk's fixed payloads, the length rules, the
 * freshness and replay checks and the state changes. Every wrapper ends in
 * step_done(), which wipes the channel on any failure.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chan.h"
#include "err.h"
#include "log.h"
#include "noise.h"

/* TAI64 label of the Unix epoch: 2^62 + 10 s (TAI-UTC in 1972), as WireGuard uses. */
#define TAI64_UNIX_EPOCH 0x400000000000000aull
/* Round nanoseconds down to ~16.8 ms, as wireguard-go does, not to leak timer precision. */
#define TAI64N_NANO_MASK (~(uint32_t)0xffffff)
#define TAI64N_LEN       12

enum chan_state {
	ST_START,     /* handshake state initialised, nothing sent or read */
	ST_MSG1_SENT, /* initiator, waiting for msg2 */
	ST_MSG1_READ, /* responder, msg1 accepted, msg2 not yet written */
	ST_TRANSPORT,
	ST_DEAD,
};

struct lurk_chan {
	int initiator;
	enum chan_state state;
	struct lurk_noise_sym ss;         /* the handshake; only ss.h survives Split */
	uint8_t s_sk[LURK_NOISE_KEY_LEN]; /* our static key, wiped once the handshake ends */
	uint8_t s_pk[LURK_NOISE_KEY_LEN];
	uint8_t rs[LURK_NOISE_KEY_LEN]; /* the peer's static key */
	int has_rs;
	uint8_t e_sk[LURK_NOISE_KEY_LEN];
	uint8_t e_pk[LURK_NOISE_KEY_LEN];
	uint8_t re[LURK_NOISE_KEY_LEN];
	struct lurk_noise_cipher tx, rx;
	uint8_t h[LURK_HASH_LEN]; /* session id after Split */
	lurk_chan_fresh_fn fresh;
	void *fresh_ctx;
	lurk_chan_allow_fn allow;
	void *allow_ctx;
	lurk_chan_clock_fn clock;
	void *clock_ctx;
	uint64_t max_age_s;
	uint64_t max_messages;
	int64_t start_s; /* CLOCK_MONOTONIC seconds at Split */
#ifdef LURK_TESTING
	uint8_t fixed_e[LURK_NOISE_KEY_LEN];
	int has_fixed_e;
#endif
};

static void
default_clock(void *ctx, clockid_t id, struct timespec *ts)
{
	if (clock_gettime(id, ts) != 0)
		memset(ts, 0, sizeof(*ts));
}

static void
read_clock(const struct lurk_chan *c, clockid_t id, struct timespec *ts)
{
	memset(ts, 0, sizeof(*ts));
	c->clock(c->clock_ctx, id, ts);
}

/* Initialize(): protocol name, prologue, then the pre-message "<- s". */
static void
start_handshake(struct lurk_chan *c, const uint8_t *prologue, size_t len)
{
	lurk_noise_sym_init(&c->ss, LURK_CHAN_PROTOCOL);
	lurk_noise_sym_mix_hash(&c->ss, prologue, len);
	lurk_noise_sym_mix_hash(&c->ss, c->initiator ? c->rs : c->s_pk, LURK_NOISE_KEY_LEN);
}

static void
wipe_handshake(struct lurk_chan *c)
{
	lurk_noise_sym_clear(&c->ss);
	sodium_memzero(c->s_sk, sizeof(c->s_sk));
	sodium_memzero(c->e_sk, sizeof(c->e_sk));
#ifdef LURK_TESTING
	sodium_memzero(c->fixed_e, sizeof(c->fixed_e));
	c->has_fixed_e = 0;
#endif
}

void
lurk_chan_close(struct lurk_chan *c)
{
	if (c == NULL)
		return;
	wipe_handshake(c);
	lurk_noise_cipher_clear(&c->tx);
	lurk_noise_cipher_clear(&c->rx);
	sodium_memzero(c->h, sizeof(c->h));
	c->state = ST_DEAD;
}

void
lurk_chan_free(struct lurk_chan *c)
{
	if (c == NULL)
		return;
	lurk_chan_close(c);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

static int
step_done(struct lurk_chan *c, int r, enum chan_state next)
{
	if (r != 0) {
		lurk_debug(LURK_DBG_CHAN, "handshake failed: %s", lurk_err_str(r));
		lurk_chan_close(c);
		return r;
	}
	c->state = next;
	return 0;
}

static int
chan_alloc(int initiator, struct lurk_chan **out)
{
	struct lurk_chan *c;

	*out = NULL;
	if (sodium_init() < 0)
		return LURK_ERR_INTERNAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return LURK_ERR_ALLOC;
	c->initiator = initiator;
	c->state = ST_START;
	c->clock = default_clock;
	c->max_age_s = LURK_SESSION_MAX_AGE_S;
	c->max_messages = LURK_SESSION_MAX_MESSAGES;
	*out = c;
	return 0;
}

int
lurk_chan_new_initiator(const uint8_t client_sk[LURK_NOISE_KEY_LEN],
	const uint8_t server_pk[LURK_NOISE_KEY_LEN], struct lurk_chan **out)
{
	struct lurk_chan *c;
	int r;

	if ((r = chan_alloc(1, &c)) != 0)
		return r;
	memcpy(c->s_sk, client_sk, LURK_NOISE_KEY_LEN);
	memcpy(c->rs, server_pk, LURK_NOISE_KEY_LEN);
	c->has_rs = 1;
	if ((r = lurk_noise_pubkey(c->s_pk, c->s_sk)) != 0) {
		lurk_chan_free(c);
		return r;
	}
	start_handshake(c, (const uint8_t *)LURK_CHAN_PROLOGUE, strlen(LURK_CHAN_PROLOGUE));
	*out = c;
	return 0;
}

int
lurk_chan_new_responder(const uint8_t server_sk[LURK_NOISE_KEY_LEN],
	const uint8_t server_pk[LURK_NOISE_KEY_LEN], lurk_chan_fresh_fn fresh, void *fresh_ctx,
	lurk_chan_allow_fn allow, void *allow_ctx, struct lurk_chan **out)
{
	struct lurk_chan *c;
	int r;

	*out = NULL;
	if (fresh == NULL || allow == NULL)
		return LURK_ERR_INVALID_ARG;
	if ((r = chan_alloc(0, &c)) != 0)
		return r;
	memcpy(c->s_sk, server_sk, LURK_NOISE_KEY_LEN);
	memcpy(c->s_pk, server_pk, LURK_NOISE_KEY_LEN);
	c->fresh = fresh;
	c->fresh_ctx = fresh_ctx;
	c->allow = allow;
	c->allow_ctx = allow_ctx;
	start_handshake(c, (const uint8_t *)LURK_CHAN_PROLOGUE, strlen(LURK_CHAN_PROLOGUE));
	*out = c;
	return 0;
}

void
lurk_chan_set_clock(struct lurk_chan *c, lurk_chan_clock_fn fn, void *ctx)
{
	c->clock = fn != NULL ? fn : default_clock;
	c->clock_ctx = fn != NULL ? ctx : NULL;
}

int
lurk_chan_set_limits(struct lurk_chan *c, uint64_t max_age_s, uint64_t max_messages)
{
	if (max_age_s == 0 || max_messages == 0)
		return LURK_ERR_INVALID_ARG;
	c->max_age_s = max_age_s;
	c->max_messages = max_messages;
	return 0;
}

/* A fresh ephemeral key for every message that sends "e"; never reused. */
static int
new_ephemeral(struct lurk_chan *c)
{
#ifdef LURK_TESTING
	if (c->has_fixed_e) {
		memcpy(c->e_sk, c->fixed_e, LURK_NOISE_KEY_LEN);
		sodium_memzero(c->fixed_e, sizeof(c->fixed_e));
		c->has_fixed_e = 0;
		return lurk_noise_pubkey(c->e_pk, c->e_sk);
	}
#endif
	return lurk_noise_keypair(c->e_pk, c->e_sk);
}

/* Split, keep h, wipe the rest of the handshake and start the session clock. */
static void
finish_handshake(struct lurk_chan *c)
{
	struct timespec now;

	if (c->initiator)
		lurk_noise_sym_split(&c->ss, &c->tx, &c->rx);
	else
		lurk_noise_sym_split(&c->ss, &c->rx, &c->tx);
	memcpy(c->h, c->ss.h, LURK_HASH_LEN);
	wipe_handshake(c);
	read_clock(c, CLOCK_MONOTONIC, &now);
	c->start_s = (int64_t)now.tv_sec;
}

/* -> e, es, s, ss (+ payload) */
static int
ik_write_msg1(struct lurk_chan *c, const uint8_t *payload, size_t plen, uint8_t *out, size_t outcap,
	size_t *outlen)
{
	size_t n, off = 0;
	int r;

	*outlen = 0;
	if (plen > LURK_NOISE_MAX_MSG - 96 || outcap < 96 + plen)
		return LURK_ERR_NO_SPACE;
	/* e */
	if ((r = new_ephemeral(c)) != 0)
		return r;
	memcpy(out, c->e_pk, LURK_NOISE_KEY_LEN);
	lurk_noise_sym_mix_hash(&c->ss, c->e_pk, LURK_NOISE_KEY_LEN);
	off += LURK_NOISE_KEY_LEN;
	/* es */
	if ((r = lurk_noise_sym_mix_dh(&c->ss, c->e_sk, c->rs)) != 0)
		return r;
	/* s */
	r = lurk_noise_sym_encrypt_and_hash(
		&c->ss, c->s_pk, LURK_NOISE_KEY_LEN, out + off, outcap - off, &n);
	if (r != 0)
		return r;
	off += n;
	/* ss */
	if ((r = lurk_noise_sym_mix_dh(&c->ss, c->s_sk, c->rs)) != 0)
		return r;
	/* payload */
	r = lurk_noise_sym_encrypt_and_hash(&c->ss, payload, plen, out + off, outcap - off, &n);
	if (r != 0)
		return r;
	*outlen = off + n;
	return 0;
}

/* <- e, es, s, ss (+ payload), with the allow-list decision right after s. */
static int
ik_read_msg1(struct lurk_chan *c, const uint8_t *msg, size_t len, uint8_t *payload, size_t cap,
	size_t *plen)
{
	size_t n;
	int r;

	*plen = 0;
	if (len < 96 || len > LURK_NOISE_MAX_MSG)
		return LURK_ERR_BAD_FORMAT;
	/* e */
	memcpy(c->re, msg, LURK_NOISE_KEY_LEN);
	lurk_noise_sym_mix_hash(&c->ss, c->re, LURK_NOISE_KEY_LEN);
	/* es */
	if ((r = lurk_noise_sym_mix_dh(&c->ss, c->s_sk, c->re)) != 0)
		return r;
	/* s */
	r = lurk_noise_sym_decrypt_and_hash(&c->ss, msg + 32, 48, c->rs, sizeof(c->rs), &n);
	if (r != 0)
		return r;
	if (n != LURK_NOISE_KEY_LEN)
		return LURK_ERR_INTERNAL;
	c->has_rs = 1;
	/* Allow-list before any more work on this peer (docs/channel.md). */
	if ((r = c->allow(c->allow_ctx, c->rs)) != 0)
		return (r < 0 && r > LURK_ERR_LAST) ? r : LURK_ERR_UNKNOWN_PEER;
	/* ss */
	if ((r = lurk_noise_sym_mix_dh(&c->ss, c->s_sk, c->rs)) != 0)
		return r;
	/* payload */
	return lurk_noise_sym_decrypt_and_hash(&c->ss, msg + 80, len - 80, payload, cap, plen);
}

/* <- e, ee, se (+ payload), then Split */
static int
ik_write_msg2(struct lurk_chan *c, const uint8_t *payload, size_t plen, uint8_t *out, size_t outcap,
	size_t *outlen)
{
	size_t n;
	int r;

	*outlen = 0;
	if (plen > LURK_NOISE_MAX_MSG - 48 || outcap < 48 + plen)
		return LURK_ERR_NO_SPACE;
	/* e */
	if ((r = new_ephemeral(c)) != 0)
		return r;
	memcpy(out, c->e_pk, LURK_NOISE_KEY_LEN);
	lurk_noise_sym_mix_hash(&c->ss, c->e_pk, LURK_NOISE_KEY_LEN);
	/* ee */
	if ((r = lurk_noise_sym_mix_dh(&c->ss, c->e_sk, c->re)) != 0)
		return r;
	/* se */
	if ((r = lurk_noise_sym_mix_dh(&c->ss, c->e_sk, c->rs)) != 0)
		return r;
	/* payload */
	r = lurk_noise_sym_encrypt_and_hash(&c->ss, payload, plen, out + 32, outcap - 32, &n);
	if (r != 0)
		return r;
	*outlen = 32 + n;
	finish_handshake(c);
	return 0;
}

/* -> e, ee, se (+ payload), then Split */
static int
ik_read_msg2(struct lurk_chan *c, const uint8_t *msg, size_t len, uint8_t *payload, size_t cap,
	size_t *plen)
{
	int r;

	*plen = 0;
	if (len < 48 || len > LURK_NOISE_MAX_MSG)
		return LURK_ERR_BAD_FORMAT;
	/* e */
	memcpy(c->re, msg, LURK_NOISE_KEY_LEN);
	lurk_noise_sym_mix_hash(&c->ss, c->re, LURK_NOISE_KEY_LEN);
	/* ee */
	if ((r = lurk_noise_sym_mix_dh(&c->ss, c->e_sk, c->re)) != 0)
		return r;
	/* se */
	if ((r = lurk_noise_sym_mix_dh(&c->ss, c->s_sk, c->re)) != 0)
		return r;
	/* payload */
	r = lurk_noise_sym_decrypt_and_hash(&c->ss, msg + 32, len - 32, payload, cap, plen);
	if (r != 0)
		return r;
	finish_handshake(c);
	return 0;
}

static void
build_msg1_payload(const struct lurk_chan *c, uint8_t p[LURK_MSG1_PAYLOAD_LEN])
{
	struct timespec now;
	uint64_t secs;
	uint32_t nano;

	read_clock(c, CLOCK_REALTIME, &now);
	secs = TAI64_UNIX_EPOCH + (uint64_t)(int64_t)now.tv_sec;
	nano = (uint32_t)now.tv_nsec & TAI64N_NANO_MASK;
	p[0] = LURK_CHAN_VERSION;
	p[1] = 0; /* flags: none defined */
	p[2] = 0; /* reserved */
	p[3] = 0;
	for (int i = 0; i < 8; i++)
		p[4 + i] = (uint8_t)(secs >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		p[12 + i] = (uint8_t)(nano >> (24 - 8 * i));
}

/* Version, flags and reserved bytes, and the timestamp as Unix seconds. */
static int
parse_msg1_payload(const uint8_t p[LURK_MSG1_PAYLOAD_LEN], int64_t *ts)
{
	uint64_t secs = 0;
	uint32_t nano = 0;

	*ts = 0;
	if (p[0] != LURK_CHAN_VERSION)
		return LURK_ERR_BAD_VERSION;
	/* No flag is defined yet: a new one comes with a new version. */
	if (p[1] != 0 || p[2] != 0 || p[3] != 0)
		return LURK_ERR_BAD_FORMAT;
	for (int i = 0; i < 8; i++)
		secs = secs << 8 | p[4 + i];
	for (int i = 0; i < 4; i++)
		nano = nano << 8 | p[12 + i];
	if (secs < TAI64_UNIX_EPOCH || secs >= (1ull << 63) || nano >= 1000000000u)
		return LURK_ERR_BAD_FORMAT;
	*ts = (int64_t)(secs - TAI64_UNIX_EPOCH);
	return 0;
}

int
lurk_chan_write_msg1(struct lurk_chan *c, uint8_t out[LURK_MSG1_LEN])
{
	uint8_t payload[LURK_MSG1_PAYLOAD_LEN];
	size_t n = 0;
	int r;

	if (!c->initiator || c->state != ST_START)
		return LURK_ERR_STATE;
	build_msg1_payload(c, payload);
	r = ik_write_msg1(c, payload, sizeof(payload), out, LURK_MSG1_LEN, &n);
	if (r == 0 && n != LURK_MSG1_LEN)
		r = LURK_ERR_INTERNAL;
	sodium_memzero(payload, sizeof(payload));
	return step_done(c, r, ST_MSG1_SENT);
}

int
lurk_chan_read_msg1(struct lurk_chan *c, const uint8_t *msg, size_t len)
{
	uint8_t payload[LURK_MSG1_PAYLOAD_LEN];
	struct timespec now;
	int64_t ts = 0;
	size_t n = 0;
	int r;

	if (c->initiator || c->state != ST_START)
		return LURK_ERR_STATE;
	memset(payload, 0, sizeof(payload));
	if (len != LURK_MSG1_LEN) {
		r = LURK_ERR_BAD_FORMAT;
		goto out;
	}
	if ((r = ik_read_msg1(c, msg, len, payload, sizeof(payload), &n)) != 0)
		goto out;
	if (n != LURK_MSG1_PAYLOAD_LEN) {
		r = LURK_ERR_INTERNAL;
		goto out;
	}
	if ((r = parse_msg1_payload(payload, &ts)) != 0)
		goto out;
	/* The window check and the seen-set live together, under the cache's lock. */
	read_clock(c, CLOCK_REALTIME, &now);
	r = c->fresh(c->fresh_ctx, c->re, ts, (int64_t)now.tv_sec);
out:
	sodium_memzero(payload, sizeof(payload));
	return step_done(c, r, ST_MSG1_READ);
}

int
lurk_chan_write_msg2(struct lurk_chan *c, uint8_t out[LURK_MSG2_LEN])
{
	size_t n = 0;
	int r;

	if (c->initiator || c->state != ST_MSG1_READ)
		return LURK_ERR_STATE;
	r = ik_write_msg2(c, NULL, 0, out, LURK_MSG2_LEN, &n);
	if (r == 0 && n != LURK_MSG2_LEN)
		r = LURK_ERR_INTERNAL;
	return step_done(c, r, ST_TRANSPORT);
}

int
lurk_chan_read_msg2(struct lurk_chan *c, const uint8_t *msg, size_t len)
{
	uint8_t empty[1];
	size_t n = 0;
	int r;

	if (!c->initiator || c->state != ST_MSG1_SENT)
		return LURK_ERR_STATE;
	if (len != LURK_MSG2_LEN)
		r = LURK_ERR_BAD_FORMAT;
	else
		r = ik_read_msg2(c, msg, len, empty, 0, &n);
	if (r == 0 && n != LURK_MSG2_PAYLOAD_LEN)
		r = LURK_ERR_INTERNAL;
	return step_done(c, r, ST_TRANSPORT);
}

int
lurk_chan_ready(const struct lurk_chan *c)
{
	return c->state == ST_TRANSPORT;
}

int
lurk_chan_remote_static(const struct lurk_chan *c, uint8_t pk[LURK_NOISE_KEY_LEN])
{
	if (c->state == ST_DEAD || !c->has_rs ||
		(!c->initiator && c->state != ST_MSG1_READ && c->state != ST_TRANSPORT))
		return LURK_ERR_STATE;
	memcpy(pk, c->rs, LURK_NOISE_KEY_LEN);
	return 0;
}

int
lurk_chan_session_id(const struct lurk_chan *c, uint8_t id[LURK_HASH_LEN])
{
	if (c->state != ST_TRANSPORT)
		return LURK_ERR_STATE;
	memcpy(id, c->h, LURK_HASH_LEN);
	return 0;
}

static int
session_expired(const struct lurk_chan *c)
{
	struct timespec now;
	int64_t age;

	read_clock(c, CLOCK_MONOTONIC, &now);
	age = (int64_t)now.tv_sec - c->start_s;
	return age >= 0 && (uint64_t)age >= c->max_age_s;
}

/* Counters first: the reserved nonce is reported as such, whatever the limits. */
static int
check_direction(const struct lurk_chan *c, const struct lurk_noise_cipher *cs)
{
	if (cs->n == UINT64_MAX)
		return LURK_ERR_NONCE_EXHAUSTED;
	if (cs->n >= c->max_messages || session_expired(c))
		return LURK_ERR_SESSION_EXPIRED;
	return 0;
}

int
lurk_chan_check_limits(struct lurk_chan *c)
{
	int r;

	if (c->state != ST_TRANSPORT)
		return LURK_ERR_STATE;
	if ((r = check_direction(c, &c->tx)) != 0)
		return r;
	return check_direction(c, &c->rx);
}

int
lurk_chan_encrypt(struct lurk_chan *c, const uint8_t *pt, size_t ptlen, uint8_t *out, size_t outcap,
	size_t *outlen)
{
	int r;

	*outlen = 0;
	if (c->state != ST_TRANSPORT)
		return LURK_ERR_STATE;
	if ((r = check_direction(c, &c->tx)) != 0)
		return r;
	/* Transport messages have empty associated data (§5.1 after Split). */
	return lurk_noise_cipher_encrypt(&c->tx, NULL, 0, pt, ptlen, out, outcap, outlen);
}

int
lurk_chan_decrypt(struct lurk_chan *c, const uint8_t *ct, size_t ctlen, uint8_t *out, size_t outcap,
	size_t *outlen)
{
	int r;

	*outlen = 0;
	if (c->state != ST_TRANSPORT)
		return LURK_ERR_STATE;
	if ((r = check_direction(c, &c->rx)) == LURK_ERR_SESSION_EXPIRED)
		return r;
	if (r == 0)
		r = lurk_noise_cipher_decrypt(&c->rx, NULL, 0, ct, ctlen, out, outcap, outlen);
	if (r != 0) {
		/* TCP keeps order: one bad message means the stream is broken (§5 notes). */
		lurk_debug(LURK_DBG_CHAN, "transport decrypt failed: %s", lurk_err_str(r));
		lurk_chan_close(c);
	}
	return r;
}

#ifdef LURK_TESTING
/* Test hooks (chan.h): the same handshake code, with fixed keys and any payload. */

int
lurk_chan_test_set_ephemeral(struct lurk_chan *c, const uint8_t sk[LURK_NOISE_KEY_LEN])
{
	if (c->state == ST_TRANSPORT || c->state == ST_DEAD)
		return LURK_ERR_STATE;
	memcpy(c->fixed_e, sk, LURK_NOISE_KEY_LEN);
	c->has_fixed_e = 1;
	return 0;
}

int
lurk_chan_test_set_prologue(struct lurk_chan *c, const uint8_t *prologue, size_t len)
{
	if (c->state != ST_START)
		return LURK_ERR_STATE;
	start_handshake(c, prologue, len);
	return 0;
}

int
lurk_chan_test_write_msg1_payload(struct lurk_chan *c, const uint8_t *payload, size_t plen,
	uint8_t *out, size_t outcap, size_t *outlen)
{
	*outlen = 0;
	if (!c->initiator || c->state != ST_START)
		return LURK_ERR_STATE;
	return step_done(c, ik_write_msg1(c, payload, plen, out, outcap, outlen), ST_MSG1_SENT);
}

int
lurk_chan_test_read_msg1_payload(struct lurk_chan *c, const uint8_t *msg, size_t len,
	uint8_t *payload, size_t cap, size_t *plen)
{
	*plen = 0;
	if (c->initiator || c->state != ST_START)
		return LURK_ERR_STATE;
	return step_done(c, ik_read_msg1(c, msg, len, payload, cap, plen), ST_MSG1_READ);
}

int
lurk_chan_test_write_msg2_payload(struct lurk_chan *c, const uint8_t *payload, size_t plen,
	uint8_t *out, size_t outcap, size_t *outlen)
{
	*outlen = 0;
	if (c->initiator || c->state != ST_MSG1_READ)
		return LURK_ERR_STATE;
	return step_done(c, ik_write_msg2(c, payload, plen, out, outcap, outlen), ST_TRANSPORT);
}

int
lurk_chan_test_read_msg2_payload(struct lurk_chan *c, const uint8_t *msg, size_t len,
	uint8_t *payload, size_t cap, size_t *plen)
{
	*plen = 0;
	if (!c->initiator || c->state != ST_MSG1_SENT)
		return LURK_ERR_STATE;
	return step_done(c, ik_read_msg2(c, msg, len, payload, cap, plen), ST_TRANSPORT);
}

int
lurk_chan_test_set_nonces(struct lurk_chan *c, uint64_t send_n, uint64_t recv_n)
{
	if (c->state != ST_TRANSPORT)
		return LURK_ERR_STATE;
	c->tx.n = send_n;
	c->rx.n = recv_n;
	return 0;
}

int
lurk_chan_test_handshake_wiped(const struct lurk_chan *c)
{
	return sodium_is_zero(c->ss.ck, sizeof(c->ss.ck)) &&
	       sodium_is_zero(c->ss.cs.k, sizeof(c->ss.cs.k)) &&
	       sodium_is_zero(c->s_sk, sizeof(c->s_sk)) &&
	       sodium_is_zero(c->e_sk, sizeof(c->e_sk)) &&
	       sodium_is_zero(c->fixed_e, sizeof(c->fixed_e));
}

int
lurk_chan_test_secrets_wiped(const struct lurk_chan *c)
{
	return lurk_chan_test_handshake_wiped(c) && sodium_is_zero(c->tx.k, sizeof(c->tx.k)) &&
	       sodium_is_zero(c->rx.k, sizeof(c->rx.k));
}
#endif

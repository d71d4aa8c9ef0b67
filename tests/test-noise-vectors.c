/*
 * The channel against the public Noise test vectors (tests/vectors/noise, with
 * their licences; found through LURK_VECTORS_DIR, which make check sets):
 * cacophony.txt, snow.txt, noise-c-basic.txt.
 *
 * 1. Every Noise_IK_25519_ChaChaPoly_BLAKE2b vector drives the real chan.c
 *    initiator and responder (through the LURK_TESTING payload hooks): both
 *    handshake messages byte for byte, the handshake hash, and every
 *    transport message in both directions.
 * 2. A small token interpreter over noise.c runs every
 *    Noise_<PATTERN>_25519_ChaChaPoly_BLAKE2b vector whose pattern it knows:
 *    one-way, interactive, deferred, and their psk variants. Others (fallback
 *    and such) are skipped and counted.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "chan.h"
#include "err.h"
#include "noise.h"
#include "server/replay.h"
#include "tap.h"

#define SUITE      "_25519_ChaChaPoly_BLAKE2b"
#define IK_NAME    "Noise_IK" SUITE
#define MAX_MSGS   8
#define MAX_TOKENS 12
#define MAX_PSKS   4

enum token { T_E, T_S, T_EE, T_ES, T_SE, T_SS, T_PSK };

struct pattern {
	const char *name;
	const char *pre_i; /* initiator's pre-message: "" or "s" */
	const char *pre_r;
	const char *msgs; /* messages separated by '|', tokens by ' ' */
};

/* Noise rev 34 §7.4 (one-way), §7.5 (interactive) and §18 (deferred). */
static const struct pattern patterns[] = {
	{"N", "", "s", "e es"},
	{"K", "s", "s", "e es ss"},
	{"X", "", "s", "e es s ss"},
	{"NN", "", "", "e|e ee"},
	{"NK", "", "s", "e es|e ee"},
	{"NX", "", "", "e|e ee s es"},
	{"XN", "", "", "e|e ee|s se"},
	{"XK", "", "s", "e es|e ee|s se"},
	{"XX", "", "", "e|e ee s es|s se"},
	{"KN", "s", "", "e|e ee se"},
	{"KK", "s", "s", "e es ss|e ee se"},
	{"KX", "s", "", "e|e ee se s es"},
	{"IN", "", "", "e s|e ee se"},
	{"IK", "", "s", "e es s ss|e ee se"},
	{"IX", "", "", "e s|e ee se s es"},
	{"NK1", "", "s", "e|e ee es"},
	{"NX1", "", "", "e|e ee s|es"},
	{"X1N", "", "", "e|e ee|s|se"},
	{"X1K", "", "s", "e es|e ee|s|se"},
	{"XK1", "", "s", "e|e ee es|s se"},
	{"X1K1", "", "s", "e|e ee es|s|se"},
	{"X1X", "", "", "e|e ee s es|s|se"},
	{"XX1", "", "", "e|e ee s|es s se"},
	{"X1X1", "", "", "e|e ee s|es s|se"},
	{"K1N", "s", "", "e|e ee|se"},
	{"K1K", "s", "s", "e es|e ee|se"},
	{"KK1", "s", "s", "e|e ee se es"},
	{"K1K1", "s", "s", "e|e ee es|se"},
	{"K1X", "s", "", "e|e ee s es|se"},
	{"KX1", "s", "", "e|e ee se s|es"},
	{"K1X1", "s", "", "e|e ee s|se es"},
	{"I1N", "", "", "e s|e ee|se"},
	{"I1K", "", "s", "e es s|e ee|se"},
	{"IK1", "", "s", "e s|e ee se es"},
	{"I1K1", "", "s", "e s|e ee es|se"},
	{"I1X", "", "", "e s|e ee s es|se"},
	{"IX1", "", "", "e s|e ee se s|es"},
	{"I1X1", "", "", "e s|e ee s|se es"},
};

struct msgs {
	enum token tok[MAX_MSGS][MAX_TOKENS];
	size_t ntok[MAX_MSGS];
	size_t n;
	int one_way;
	int psk;
};

/* A key from the vector (hex), or absent. */
struct key {
	uint8_t v[LURK_NOISE_KEY_LEN];
	int set;
};

struct vec {
	const char *name;
	uint8_t *iprol, *rprol;
	size_t iprol_len, rprol_len;
	struct key is, ie, irs, rs, re, rrs;
	uint8_t ipsk[MAX_PSKS][32], rpsk[MAX_PSKS][32];
	size_t nipsk, nrpsk;
	uint8_t hh[LURK_HASH_LEN];
	int has_hh;
	json_t *messages;
};

struct counts {
	int ik_vectors, ik_messages;
	int tok_vectors, tok_messages, tok_skipped;
	int failures;
};

static uint8_t bufa[LURK_NOISE_MAX_MSG], bufb[LURK_NOISE_MAX_MSG];

static void
fail_vec(struct counts *cnt, const char *name, const char *what, size_t i)
{
	lurk_test_diag("FAIL %s: %s (message %zu)", name, what, i);
	cnt->failures++;
}

/* ---- parsing ---- */

static int
add_token(struct msgs *m, size_t i, const char *t, size_t len)
{
	static const struct {
		const char *s;
		enum token t;
	} names[] = {{"e", T_E}, {"s", T_S}, {"ee", T_EE}, {"es", T_ES}, {"se", T_SE}, {"ss", T_SS},
		{"psk", T_PSK}};

	for (size_t k = 0; k < LURK_ARRAY_LEN(names); k++) {
		if (strlen(names[k].s) == len && memcmp(names[k].s, t, len) == 0) {
			if (m->ntok[i] == MAX_TOKENS)
				return -1;
			m->tok[i][m->ntok[i]++] = names[k].t;
			return 0;
		}
	}
	return -1;
}

static int
parse_msgs(const char *s, struct msgs *m)
{
	size_t i = 0;

	while (*s != '\0') {
		size_t len = strcspn(s, " |");

		if (len > 0 && add_token(m, i, s, len) != 0)
			return -1;
		s += len;
		if (*s == '|' && ++i == MAX_MSGS)
			return -1;
		if (*s != '\0')
			s++;
	}
	m->n = i + 1;
	return 0;
}

/* "Noise_XXpsk0+psk2_25519_ChaChaPoly_BLAKE2b" -> pattern and message tokens. */
static const struct pattern *
parse_protocol(const char *name, struct msgs *m)
{
	const char *p = name + strlen("Noise_"), *end = strstr(p, SUITE), *mod;
	char base[16];

	memset(m, 0, sizeof(*m));
	if (strncmp(name, "Noise_", 6) != 0 || end == NULL || strcmp(end, SUITE) != 0)
		return NULL;
	mod = strstr(p, "psk");
	if (mod == NULL || mod > end)
		mod = end;
	if ((size_t)(mod - p) >= sizeof(base))
		return NULL;
	memcpy(base, p, (size_t)(mod - p));
	base[mod - p] = '\0';
	for (size_t i = 0; i < LURK_ARRAY_LEN(patterns); i++) {
		if (strcmp(patterns[i].name, base) != 0)
			continue;
		if (parse_msgs(patterns[i].msgs, m) != 0)
			return NULL;
		m->one_way = strlen(base) == 1;
		/* §9.2: psk0 goes first in message 1, pskN last in message N. */
		while (mod < end) {
			unsigned n;

			if (strncmp(mod, "psk", 3) != 0 || mod[3] < '0' || mod[3] > '9')
				return NULL;
			n = (unsigned)(mod[3] - '0');
			if ((n == 0 ? 1 : n) > m->n || m->ntok[n == 0 ? 0 : n - 1] == MAX_TOKENS)
				return NULL;
			if (n == 0) {
				memmove(&m->tok[0][1], &m->tok[0][0],
					m->ntok[0] * sizeof(enum token));
				m->tok[0][0] = T_PSK;
				m->ntok[0]++;
			} else {
				m->tok[n - 1][m->ntok[n - 1]++] = T_PSK;
			}
			m->psk = 1;
			mod += 4;
			if (*mod == '+')
				mod++;
		}
		return &patterns[i];
	}
	return NULL;
}

static uint8_t *
hex_field(json_t *v, const char *key, size_t *len)
{
	const char *s = json_string_value(json_object_get(v, key));

	*len = 0;
	return s != NULL ? lurk_test_unhex(s, len) : NULL;
}

static int
key_field(json_t *v, const char *key, struct key *k)
{
	size_t len;
	uint8_t *b = hex_field(v, key, &len);

	memset(k, 0, sizeof(*k));
	if (b == NULL)
		return 0;
	if (len == LURK_NOISE_KEY_LEN) {
		memcpy(k->v, b, LURK_NOISE_KEY_LEN);
		k->set = 1;
	}
	free(b);
	return k->set ? 0 : -1;
}

static int
psk_field(json_t *v, const char *key, uint8_t psks[MAX_PSKS][32], size_t *n)
{
	json_t *a = json_object_get(v, key), *e;
	size_t i;

	*n = 0;
	json_array_foreach(a, i, e)
	{
		const char *hex = json_string_value(e);
		size_t len;
		uint8_t *b = hex != NULL ? lurk_test_unhex(hex, &len) : NULL;

		if (b == NULL || len != 32 || *n == MAX_PSKS) {
			free(b);
			return -1;
		}
		memcpy(psks[(*n)++], b, 32);
		free(b);
	}
	return 0;
}

static int
load_vec(json_t *v, const char *name, struct vec *x)
{
	size_t len;
	uint8_t *hh;

	memset(x, 0, sizeof(*x));
	x->name = name;
	x->iprol = hex_field(v, "init_prologue", &x->iprol_len);
	x->rprol = hex_field(v, "resp_prologue", &x->rprol_len);
	x->messages = json_object_get(v, "messages");
	if ((hh = hex_field(v, "handshake_hash", &len)) != NULL && len == LURK_HASH_LEN) {
		memcpy(x->hh, hh, LURK_HASH_LEN);
		x->has_hh = 1;
	}
	free(hh);
	if (key_field(v, "init_static", &x->is) || key_field(v, "init_ephemeral", &x->ie) ||
		key_field(v, "init_remote_static", &x->irs) ||
		key_field(v, "resp_static", &x->rs) || key_field(v, "resp_ephemeral", &x->re) ||
		key_field(v, "resp_remote_static", &x->rrs) ||
		psk_field(v, "init_psks", x->ipsk, &x->nipsk) ||
		psk_field(v, "resp_psks", x->rpsk, &x->nrpsk) || !json_is_array(x->messages))
		return -1;
	return 0;
}

static void
free_vec(struct vec *x)
{
	free(x->iprol);
	free(x->rprol);
}

/* payload and ciphertext of message i */
static int
get_msg(const struct vec *x, size_t i, uint8_t **p, size_t *plen, uint8_t **c, size_t *clen)
{
	json_t *m = json_array_get(x->messages, i);

	*p = hex_field(m, "payload", plen);
	*c = hex_field(m, "ciphertext", clen);
	if (*p == NULL || *c == NULL) {
		free(*p);
		free(*c);
		return -1;
	}
	return 0;
}

/* ---- the token interpreter over noise.c ---- */

struct hs {
	int initiator;
	int psk_mode;
	struct lurk_noise_sym ss;
	struct key s, e, rs, re;
	uint8_t s_pub[LURK_NOISE_KEY_LEN], e_pub[LURK_NOISE_KEY_LEN];
	const uint8_t (*psks)[32];
	size_t npsks, next_psk;
	struct lurk_noise_cipher c1, c2;
};

static int
hs_init(struct hs *hs, const struct pattern *pat, const struct msgs *m, const struct vec *x,
	int initiator)
{
	const uint8_t *ipub, *rpub;

	memset(hs, 0, sizeof(*hs));
	hs->initiator = initiator;
	hs->psk_mode = m->psk;
	hs->s = initiator ? x->is : x->rs;
	hs->e = initiator ? x->ie : x->re;
	hs->rs = initiator ? x->irs : x->rrs;
	hs->psks = initiator ? x->ipsk : x->rpsk;
	hs->npsks = initiator ? x->nipsk : x->nrpsk;
	if (hs->s.set && lurk_noise_pubkey(hs->s_pub, hs->s.v) != 0)
		return -1;
	lurk_noise_sym_init(&hs->ss, x->name);
	if (initiator)
		lurk_noise_sym_mix_hash(&hs->ss, x->iprol, x->iprol_len);
	else
		lurk_noise_sym_mix_hash(&hs->ss, x->rprol, x->rprol_len);
	/* Pre-messages: the initiator's keys first, then the responder's (§7.1). */
	ipub = initiator ? hs->s_pub : hs->rs.v;
	rpub = initiator ? hs->rs.v : hs->s_pub;
	if (pat->pre_i[0] == 's') {
		if (!(initiator ? hs->s.set : hs->rs.set))
			return -1;
		lurk_noise_sym_mix_hash(&hs->ss, ipub, LURK_NOISE_KEY_LEN);
	}
	if (pat->pre_r[0] == 's') {
		if (!(initiator ? hs->rs.set : hs->s.set))
			return -1;
		lurk_noise_sym_mix_hash(&hs->ss, rpub, LURK_NOISE_KEY_LEN);
	}
	return 0;
}

static int
hs_dh(struct hs *hs, enum token t)
{
	const struct key *a, *b;

	switch (t) {
	case T_EE:
		a = &hs->e, b = &hs->re;
		break;
	case T_ES:
		a = hs->initiator ? &hs->e : &hs->s, b = hs->initiator ? &hs->rs : &hs->re;
		break;
	case T_SE:
		a = hs->initiator ? &hs->s : &hs->e, b = hs->initiator ? &hs->re : &hs->rs;
		break;
	case T_SS:
		a = &hs->s, b = &hs->rs;
		break;
	default:
		return -1;
	}
	if (!a->set || !b->set)
		return -1;
	return lurk_noise_sym_mix_dh(&hs->ss, a->v, b->v);
}

static int
hs_psk(struct hs *hs)
{
	if (hs->next_psk == hs->npsks)
		return -1;
	lurk_noise_sym_mix_key_and_hash(&hs->ss, hs->psks[hs->next_psk++], 32);
	return 0;
}

static int
hs_write(struct hs *hs, const struct msgs *m, size_t i, const uint8_t *payload, size_t plen,
	uint8_t *out, size_t *outlen)
{
	size_t off = 0, n;

	for (size_t t = 0; t < m->ntok[i]; t++) {
		switch (m->tok[i][t]) {
		case T_E:
			if (!hs->e.set || lurk_noise_pubkey(hs->e_pub, hs->e.v) != 0)
				return -1;
			memcpy(out + off, hs->e_pub, LURK_NOISE_KEY_LEN);
			off += LURK_NOISE_KEY_LEN;
			lurk_noise_sym_mix_hash(&hs->ss, hs->e_pub, LURK_NOISE_KEY_LEN);
			if (hs->psk_mode)
				lurk_noise_sym_mix_key(&hs->ss, hs->e_pub, LURK_NOISE_KEY_LEN);
			break;
		case T_S:
			if (!hs->s.set ||
				lurk_noise_sym_encrypt_and_hash(&hs->ss, hs->s_pub,
					LURK_NOISE_KEY_LEN, out + off, sizeof(bufa) - off, &n) != 0)
				return -1;
			off += n;
			break;
		case T_PSK:
			if (hs_psk(hs) != 0)
				return -1;
			break;
		default:
			if (hs_dh(hs, m->tok[i][t]) != 0)
				return -1;
		}
	}
	if (lurk_noise_sym_encrypt_and_hash(
		    &hs->ss, payload, plen, out + off, sizeof(bufa) - off, &n) != 0)
		return -1;
	*outlen = off + n;
	return 0;
}

static int
hs_read(struct hs *hs, const struct msgs *m, size_t i, const uint8_t *in, size_t len,
	uint8_t *payload, size_t *plen)
{
	size_t off = 0, n, need;

	for (size_t t = 0; t < m->ntok[i]; t++) {
		switch (m->tok[i][t]) {
		case T_E:
			if (len - off < LURK_NOISE_KEY_LEN)
				return -1;
			memcpy(hs->re.v, in + off, LURK_NOISE_KEY_LEN);
			hs->re.set = 1;
			off += LURK_NOISE_KEY_LEN;
			lurk_noise_sym_mix_hash(&hs->ss, hs->re.v, LURK_NOISE_KEY_LEN);
			if (hs->psk_mode)
				lurk_noise_sym_mix_key(&hs->ss, hs->re.v, LURK_NOISE_KEY_LEN);
			break;
		case T_S:
			need = LURK_NOISE_KEY_LEN + (hs->ss.cs.has_key ? LURK_AEAD_TAG_LEN : 0);
			if (len - off < need ||
				lurk_noise_sym_decrypt_and_hash(&hs->ss, in + off, need, hs->rs.v,
					LURK_NOISE_KEY_LEN, &n) != 0)
				return -1;
			hs->rs.set = 1;
			off += need;
			break;
		case T_PSK:
			if (hs_psk(hs) != 0)
				return -1;
			break;
		default:
			if (hs_dh(hs, m->tok[i][t]) != 0)
				return -1;
		}
	}
	return lurk_noise_sym_decrypt_and_hash(
		&hs->ss, in + off, len - off, payload, sizeof(bufb), plen);
}

/* One message: sender output must equal ct, receiver output must equal payload. */
static int
check_pair(const uint8_t *out, size_t outlen, const uint8_t *want, size_t wantlen)
{
	return outlen == wantlen && (wantlen == 0 || memcmp(out, want, wantlen) == 0);
}

static void
run_tokens(const struct vec *x, const struct pattern *pat, const struct msgs *m, struct counts *cnt)
{
	struct hs *hi = calloc(1, sizeof(*hi)), *hr = calloc(1, sizeof(*hr));
	size_t nmsg = json_array_size(x->messages);

	if (hi == NULL || hr == NULL || hs_init(hi, pat, m, x, 1) != 0 ||
		hs_init(hr, pat, m, x, 0) != 0) {
		fail_vec(cnt, x->name, "cannot initialise", 0);
		goto out;
	}
	for (size_t i = 0; i < nmsg; i++) {
		int from_init = m->one_way || i % 2 == 0;
		struct hs *snd = from_init ? hi : hr, *rcv = from_init ? hr : hi;
		uint8_t *p, *c;
		size_t plen, clen, n;
		int ok;

		if (get_msg(x, i, &p, &plen, &c, &clen) != 0) {
			fail_vec(cnt, x->name, "bad message", i);
			goto out;
		}
		if (i < m->n) {
			ok = hs_write(snd, m, i, p, plen, bufa, &n) == 0 &&
			     check_pair(bufa, n, c, clen) &&
			     hs_read(rcv, m, i, c, clen, bufb, &n) == 0 &&
			     check_pair(bufb, n, p, plen);
			if (ok && i + 1 == m->n) {
				lurk_noise_sym_split(&hi->ss, &hi->c1, &hi->c2);
				lurk_noise_sym_split(&hr->ss, &hr->c1, &hr->c2);
				ok = memcmp(hi->ss.h, hr->ss.h, LURK_HASH_LEN) == 0 &&
				     (!x->has_hh || memcmp(hi->ss.h, x->hh, LURK_HASH_LEN) == 0);
			}
		} else {
			/* c1 carries initiator-to-responder, c2 the other way. */
			struct lurk_noise_cipher *enc = from_init ? &hi->c1 : &hr->c2;
			struct lurk_noise_cipher *dec = from_init ? &hr->c1 : &hi->c2;

			ok = lurk_noise_cipher_encrypt(
				     enc, NULL, 0, p, plen, bufa, sizeof(bufa), &n) == 0 &&
			     check_pair(bufa, n, c, clen) &&
			     lurk_noise_cipher_decrypt(
				     dec, NULL, 0, c, clen, bufb, sizeof(bufb), &n) == 0 &&
			     check_pair(bufb, n, p, plen);
		}
		free(p);
		free(c);
		if (!ok) {
			fail_vec(cnt, x->name, "mismatch", i);
			goto out;
		}
		cnt->tok_messages++;
	}
	cnt->tok_vectors++;
out:
	free(hi);
	free(hr);
}

/* ---- the real chan.c, for IK ---- */

static int
allow_all(void *ctx, const uint8_t pk[LURK_NOISE_KEY_LEN])
{
	return 0;
}

static int
run_ik_handshake(const struct vec *x, struct lurk_chan *ci, struct lurk_chan *cr, size_t i,
	const uint8_t *p, size_t plen, const uint8_t *c, size_t clen)
{
	uint8_t pk[LURK_NOISE_KEY_LEN], id[LURK_HASH_LEN], id2[LURK_HASH_LEN];
	size_t n;

	if (i == 0)
		return lurk_chan_test_write_msg1_payload(ci, p, plen, bufa, sizeof(bufa), &n) ==
			       0 &&
		       check_pair(bufa, n, c, clen) &&
		       lurk_chan_test_read_msg1_payload(cr, c, clen, bufb, sizeof(bufb), &n) == 0 &&
		       check_pair(bufb, n, p, plen) && lurk_chan_remote_static(cr, pk) == 0 &&
		       lurk_noise_pubkey(id, x->is.v) == 0 &&
		       memcmp(pk, id, LURK_NOISE_KEY_LEN) == 0;
	return lurk_chan_test_write_msg2_payload(cr, p, plen, bufa, sizeof(bufa), &n) == 0 &&
	       check_pair(bufa, n, c, clen) &&
	       lurk_chan_test_read_msg2_payload(ci, c, clen, bufb, sizeof(bufb), &n) == 0 &&
	       check_pair(bufb, n, p, plen) && lurk_chan_ready(ci) && lurk_chan_ready(cr) &&
	       lurk_chan_session_id(ci, id) == 0 && lurk_chan_session_id(cr, id2) == 0 &&
	       memcmp(id, id2, LURK_HASH_LEN) == 0 &&
	       (!x->has_hh || memcmp(id, x->hh, LURK_HASH_LEN) == 0) &&
	       lurk_chan_test_handshake_wiped(ci) && lurk_chan_test_handshake_wiped(cr);
}

static void
run_ik_chan(const struct vec *x, struct counts *cnt)
{
	struct lurk_replay *rc = NULL;
	struct lurk_chan *ci = NULL, *cr = NULL;
	uint8_t rpub[LURK_NOISE_KEY_LEN];
	size_t nmsg = json_array_size(x->messages);

	if (!x->is.set || !x->ie.set || !x->irs.set || !x->rs.set || !x->re.set || nmsg < 2 ||
		lurk_noise_pubkey(rpub, x->rs.v) != 0 || lurk_replay_new(16, 60, &rc) != 0 ||
		lurk_chan_new_initiator(x->is.v, x->irs.v, &ci) != 0 ||
		lurk_chan_new_responder(
			x->rs.v, rpub, lurk_replay_fresh, rc, allow_all, NULL, &cr) != 0 ||
		lurk_chan_test_set_ephemeral(ci, x->ie.v) != 0 ||
		lurk_chan_test_set_ephemeral(cr, x->re.v) != 0 ||
		lurk_chan_test_set_prologue(ci, x->iprol, x->iprol_len) != 0 ||
		lurk_chan_test_set_prologue(cr, x->rprol, x->rprol_len) != 0) {
		fail_vec(cnt, x->name, "chan: cannot set up", 0);
		goto out;
	}
	for (size_t i = 0; i < nmsg; i++) {
		struct lurk_chan *snd = i % 2 == 0 ? ci : cr, *rcv = i % 2 == 0 ? cr : ci;
		uint8_t *p, *c;
		size_t plen, clen, n;
		int ok;

		if (get_msg(x, i, &p, &plen, &c, &clen) != 0) {
			fail_vec(cnt, x->name, "chan: bad message", i);
			goto out;
		}
		if (i < 2)
			ok = run_ik_handshake(x, ci, cr, i, p, plen, c, clen);
		else
			ok = lurk_chan_encrypt(snd, p, plen, bufa, sizeof(bufa), &n) == 0 &&
			     check_pair(bufa, n, c, clen) &&
			     lurk_chan_decrypt(rcv, c, clen, bufb, sizeof(bufb), &n) == 0 &&
			     check_pair(bufb, n, p, plen);
		free(p);
		free(c);
		if (!ok) {
			fail_vec(cnt, x->name, "chan: mismatch", i);
			goto out;
		}
		cnt->ik_messages++;
	}
	cnt->ik_vectors++;
out:
	lurk_chan_free(ci);
	lurk_chan_free(cr);
	lurk_replay_free(rc);
}

/* ---- driver ---- */

static void
run_file(const char *file, const char *label)
{
	const char *dir = getenv("LURK_VECTORS_DIR");
	char path[4096];
	struct counts cnt = {0};
	json_error_t jerr;
	json_t *root, *vectors, *v;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		lurk_test_fail(__FILE__, __LINE__, "%s: %s (line %d)", path, jerr.text, jerr.line);
	vectors = json_object_get(root, "vectors");
	json_array_foreach(vectors, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "protocol_name"));
		const struct pattern *pat;
		struct msgs m;
		struct vec x;

		if (name == NULL)
			name = json_string_value(json_object_get(v, "name"));
		/* noise-c also carries the obsolete NoisePSK_ scheme. */
		if (name == NULL || strncmp(name, "Noise_", 6) != 0)
			continue;
		if (strlen(name) < strlen(SUITE) ||
			strcmp(name + strlen(name) - strlen(SUITE), SUITE) != 0)
			continue;
		pat = parse_protocol(name, &m);
		if (pat == NULL || json_object_get(v, "fail") != NULL ||
			json_object_get(v, "fallback") != NULL) {
			cnt.tok_skipped++;
			continue;
		}
		if (load_vec(v, name, &x) != 0) {
			fail_vec(&cnt, name, "cannot parse vector", 0);
			free_vec(&x);
			continue;
		}
		if (strcmp(name, IK_NAME) == 0)
			run_ik_chan(&x, &cnt);
		run_tokens(&x, pat, &m, &cnt);
		free_vec(&x);
	}
	json_decref(root);
	lurk_test_diag("%s: %d IK vectors, %d messages (chan.c); token interpreter: %d vectors, "
		       "%d messages, %d skipped",
		label, cnt.ik_vectors, cnt.ik_messages, cnt.tok_vectors, cnt.tok_messages,
		cnt.tok_skipped);
	assert_num_eq(cnt.failures, 0);
	assert_num_cmp(cnt.ik_vectors, >, 0);
	assert_num_cmp(cnt.tok_vectors, >, 0);
}

static void
test_cacophony(void)
{
	run_file("cacophony.txt", "cacophony");
}

static void
test_snow(void)
{
	run_file("snow.txt", "snow");
}

static void
test_noise_c(void)
{
	run_file("noise-c-basic.txt", "noise-c");
}

int
main(int argc, char **argv)
{
	static const char *const files[] = {"cacophony.txt", "snow.txt", "noise-c-basic.txt"};
	const char *dir = getenv("LURK_VECTORS_DIR");
	char path[4096], reason[4200];

	if (sodium_init() < 0)
		return 99;
	for (size_t i = 0; i < LURK_ARRAY_LEN(files); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s",
			dir != NULL ? dir : "(LURK_VECTORS_DIR unset)", files[i]);
		/* The vectors are part of the repository: missing is a failure, not a skip. */
		if (dir == NULL || (f = fopen(path, "r")) == NULL) {
			snprintf(reason, sizeof(reason), "Noise vectors not found at %s", path);
			printf("Bail out! %s\n", reason);
			return 99;
		}
		fclose(f);
	}
	lurk_test(test_cacophony, "/noise-vectors/cacophony");
	lurk_test(test_snow, "/noise-vectors/snow");
	lurk_test(test_noise_c, "/noise-vectors/noise-c");
	return lurk_test_run(argc, argv);
}

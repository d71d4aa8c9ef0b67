/*
 * Fuzz target: arbitrary bytes as msg1 to a fresh responder (fixed server key,
 * an allow-list of one fixed client key, a fixed clock and a fresh replay
 * cache, so a run depends on its input only). When msg1 is accepted, msg2 is
 * written too. Must never crash, leak or read out of bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chan.h"
#include "err.h"
#include "noise.h"
#include "server/replay.h"

#include "msg1_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t server_pk[LURK_NOISE_KEY_LEN];
static uint8_t client_pk[LURK_NOISE_KEY_LEN];

static int
allow_one(void *ctx, const uint8_t pk[LURK_NOISE_KEY_LEN])
{
	return sodium_memcmp(pk, client_pk, LURK_NOISE_KEY_LEN) == 0 ? 0 : LURK_ERR_UNKNOWN_PEER;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct lurk_replay *rc = NULL;
	struct lurk_chan *c = NULL;
	uint8_t msg2[LURK_MSG2_LEN];

	if (!ready) {
		if (sodium_init() < 0 || lurk_noise_pubkey(server_pk, FIX_SERVER_SK) != 0 ||
			lurk_noise_pubkey(client_pk, FIX_CLIENT_SK) != 0)
			abort();
		ready = 1;
	}
	if (lurk_replay_new(4, 60, &rc) != 0 ||
		lurk_chan_new_responder(
			FIX_SERVER_SK, server_pk, lurk_replay_fresh, rc, allow_one, NULL, &c) != 0)
		abort();
	lurk_chan_set_clock(c, fix_clock, NULL);
	if (lurk_chan_read_msg1(c, data, size) == 0 && lurk_chan_write_msg2(c, msg2) != 0)
		abort();
	lurk_chan_free(c);
	lurk_replay_free(rc);
	return 0;
}

/*
 * A handshake refusal: lurkd's plaintext answer to a msg1 it will not
 * complete, sent instead of msg2 just before it closes the connection, so
 * that a client can tell an operator what to fix. It is one frame of
 * LURK_REFUSAL_LEN bytes: LURK_REFUSAL_MARK, then one enum lurk_refusal
 * byte. It carries no secret and is not authenticated: a client only turns
 * it into an error message, never into a decision to trust anything.
 * msg2 is LURK_MSG2_LEN (48) bytes, so the two never look alike.
 */
#ifndef LURK_REFUSAL_H
#define LURK_REFUSAL_H

#define LURK_REFUSAL_LEN  2
#define LURK_REFUSAL_MARK 0xff

enum lurk_refusal {
	/* msg1 did not decrypt: the client holds a wrong server public key (or sent junk). */
	LURK_REFUSAL_HANDSHAKE = 1,
	/* The client's static key is not in any [client] section. */
	LURK_REFUSAL_UNKNOWN_CLIENT = 2,
	/* Known client, refused now: source address or validity window. */
	LURK_REFUSAL_DENIED = 3,
	/* msg1 replayed, or its timestamp outside the replay window (check clocks). */
	LURK_REFUSAL_STALE = 4,
	/* lurkd is at max-connections. */
	LURK_REFUSAL_BUSY = 5,
};

#endif

/*
 * lurk-client's parts (tests/lurk-client.c: raw protocol commands and main;
 * lurk-client-core.c: the -c mode through the client core;
 * lurk-client-util.c: what both use).
 */
#ifndef LURK_TESTS_LURK_CLIENT_H
#define LURK_TESTS_LURK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

void cli_usage(void);
/* Prints n bytes in hex and a newline. */
void cli_hex_print(const uint8_t *p, size_t n);
/* Hex text to bytes (malloc'd, *n set), or NULL. */
uint8_t *cli_unhex(const char *s, size_t *n);
/* A mechanism by name (ecdsa, rsa-pss, ...) or number. */
uint32_t cli_mech_of(const char *name);
/* A key lurkd does not list, with a made-up id: asked anyway, the server must refuse it. */
const struct lurk_wire_key *cli_fake_key(char *label);
/* One line per key. */
void cli_print_list(const struct lurk_wire_list_resp *list);
/* The parameters a mechanism takes for data of len bytes (PSS: the hash's). */
void cli_sign_param(uint32_t mech, size_t len, struct lurk_wire_param *p);
/* Verifies a PKCS#11-format signature with the key's SPKI. 0 if it verifies. */
int cli_verify(const struct lurk_wire_key *k, uint32_t mech, const uint8_t *data, size_t len,
	const uint8_t *sig, size_t sig_len);
/* The -c MODULE_CONF mode: argv[0] is the command. An exit status. */
int cli_core_main(const char *conf, int argc, char **argv);

#endif

/*
 * lurk-client -c MODULE_CONF: through the client core (client/), what a face
 * of lurk does with the module's file. [token] sections are the module's:
 * taken and left alone here.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ckm.h"
#include "client/core.h"
#include "client/keys.h"
#include "client/ops.h"
#include "err.h"
#include "ini.h"
#include "log.h"

#include "lurk-client.h"

static int
token_section(void *ctx, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	(void)ctx, (void)err, (void)err_len;
	return strcmp(it->section, "token") == 0 ? 0 : 1;
}

static int
token_item(void *ctx, const struct lurk_ini_item *it, char *err, size_t err_len)
{
	(void)ctx, (void)it, (void)err, (void)err_len;
	return 0;
}

/* A core result as an exit status: 2 when lurkd refused (the core logged why). */
static int
core_status(const char *what, int r)
{
	switch (r) {
	case 0:
		return 0;
	case LURK_ERR_DENIED:
	case LURK_ERR_POLICY:
	case LURK_ERR_RATE_LIMIT:
	case LURK_ERR_NOT_FOUND:
	case LURK_ERR_MECHANISM:
	case LURK_ERR_CRYPTO:
	case LURK_ERR_PEER:
		fprintf(stderr, "lurk-client: %s refused: %s\n", what, lurk_err_str(r));
		return 2;
	default:
		fprintf(stderr, "lurk-client: %s failed: %s\n", what, lurk_err_str(r));
		return 1;
	}
}

static int
core_sign(struct lc_core *cc, const struct lurk_wire_key *k, int argc, char **argv)
{
	uint8_t sig[LURK_WIRE_MAX_SIGNATURE], *data;
	struct lurk_wire_param param;
	uint32_t mech;
	size_t len, sig_len = sizeof(sig);
	int ret;

	if (argc != 4)
		return 1;
	if ((data = cli_unhex(argv[3], &len)) == NULL) {
		fprintf(stderr, "lurk-client: bad hex data\n");
		return 1;
	}
	mech = cli_mech_of(argv[2]);
	cli_sign_param(mech, len, &param);
	if ((ret = core_status("sign", lc_sign(cc, k, mech, &param, data, len, sig, &sig_len))) ==
		0) {
		cli_hex_print(sig, sig_len);
		if (cli_verify(k, mech, data, len, sig, sig_len) != 0) {
			fprintf(stderr, "lurk-client: signature does NOT verify\n");
			ret = 3;
		}
	}
	free(data);
	return ret;
}

static int
core_decrypt(struct lc_core *cc, const struct lurk_wire_key *k, int argc, char **argv)
{
	uint8_t pt[LURK_WIRE_MAX_CIPHERTEXT], *ct;
	size_t len, pt_len = sizeof(pt);
	int ret;

	if (argc != 3)
		return 1;
	if ((ct = cli_unhex(argv[2], &len)) == NULL) {
		fprintf(stderr, "lurk-client: bad hex data\n");
		return 1;
	}
	ret = core_status("decrypt", lc_decrypt(cc, k, CKM_RSA_PKCS, NULL, ct, len, pt, &pt_len));
	if (ret == 0)
		cli_hex_print(pt, pt_len);
	sodium_memzero(pt, sizeof(pt));
	free(ct);
	return ret;
}

/*
 * sign2 LABEL MECH HEX1 HEX2: two signatures in one process (so one core,
 * one commitment cache), "sig1 HEX" and "sig2 HEX"; between them "held" is
 * printed and, with LURK_CLIENT_HOLD_FILE set, the file is waited for (at
 * most 60 s) so a test can restart a server there.
 */
static int
core_sign2(struct lc_core *cc, const struct lurk_wire_key *k, int argc, char **argv)
{
	const char *hold = getenv("LURK_CLIENT_HOLD_FILE");
	char *one[4];

	if (argc != 5)
		return 1;
	for (int i = 0; i < 2; i++) {
		one[0] = argv[0], one[1] = argv[1], one[2] = argv[2], one[3] = argv[3 + i];
		printf("sig%d ", i + 1);
		fflush(stdout);
		if (core_sign(cc, k, 4, one) != 0)
			return 2;
		if (i == 0) {
			printf("held\n");
			fflush(stdout);
			for (int t = 0; hold != NULL && t < 3000 && access(hold, F_OK) != 0; t++) {
				struct timespec ts = {0, 20 * 1000 * 1000};
				nanosleep(&ts, NULL);
			}
		}
	}
	return 0;
}

int
cli_core_main(const char *conf, int argc, char **argv)
{
	struct lc_conf_face face = {token_section, token_item, NULL, NULL};
	const struct lurk_wire_list_resp *list;
	const struct lurk_wire_key *k = NULL;
	const char *level = getenv("LURK_CLIENT_LOG");
	struct lc_core *cc;
	char err[1024];
	int r, ret;

	lurk_log_init("lurk-client", LURK_LOG_STDERR,
		level == NULL                 ? LURK_LOG_WARN
		: strcmp(level, "debug") == 0 ? LURK_LOG_DEBUG
		: strcmp(level, "info") == 0  ? LURK_LOG_INFO
					      : LURK_LOG_WARN);
	if (lc_core_new(&cc, conf, &face, err, sizeof(err)) != 0) {
		fprintf(stderr, "lurk-client: %s\n", err);
		return 1;
	}
	if (!lc_core_key_ready(cc)) {
		fprintf(stderr, "lurk-client: %s: a PIN-protected client key is not supported\n",
			conf);
		lc_core_free(cc);
		return 1;
	}
	if ((r = lc_core_keys(cc, &list)) != 0) {
		ret = core_status("list", r);
		goto out;
	}
	if (argc >= 2 && (k = lc_keys_find(list, argv[1])) == NULL)
		k = cli_fake_key(argv[1]);
	if (strcmp(argv[0], "list") == 0 && argc == 1) {
		cli_print_list(list);
		ret = 0;
	} else if (strcmp(argv[0], "sign") == 0) {
		ret = core_sign(cc, k, argc, argv);
	} else if (strcmp(argv[0], "sign2") == 0) {
		ret = core_sign2(cc, k, argc, argv);
	} else if (strcmp(argv[0], "decrypt") == 0) {
		ret = core_decrypt(cc, k, argc, argv);
	} else {
		cli_usage();
		ret = 1;
	}
out:
	lc_core_free(cc);
	return ret;
}

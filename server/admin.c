/*
 * lurk-admin: the operator's tool: Noise key generation, reading a public
 * key or its fingerprint back, and searching lurkd's audit log (lurk-admin(1)).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin-lurkkey.h"
#include "admin-status.h"
#include "admin-split.h"
#include "audit-search.h"
#include "err.h"
#include "keyfile.h"
#include "mem.h"

static void
usage(FILE *f)
{
	fputs("usage: lurk-admin genkey [-f] FILE   write a new Noise private key to FILE (mode "
	      "0600)\n"
	      "                                     and print its public key in base64\n"
	      "       lurk-admin genkey [-f] --pin-file PINFILE FILE\n"
	      "                                     the same, sealed under the PIN in PINFILE\n"
	      "                                     (first line); the module asks for it at "
	      "C_Login\n"
	      "       lurk-admin pubkey FILE        print the public key of a private key file\n"
	      "       lurk-admin fingerprint KEY    print the log fingerprint of a base64 public "
	      "key\n"
	      "       lurk-admin audit [--sha256 HEX | --hex HEX | --content FILE]\n"
	      "                  [--client NAME] [--key NAME] [--verdict V] LOG...\n"
	      "                                     who had this digest or content signed, when\n"
	      "       lurk-admin lurk-key --config CONF --key NAME CERT\n"
	      "                                     print the LURK KEY file through which lurk's\n"
	      "                                     OpenSSL provider names key NAME (CONF: the\n"
	      "                                     absolute path of the client configuration)\n"
	      "       lurk-admin status [--metrics URL|unix:/PATH]\n"
	      "                                     a running lurkd's keys, clients, connections\n"
	      "                                     and last reload, from its metrics endpoint\n"
	      "       lurk-admin split [-f] KEY.pem SHARE1 SHARE2\n"
	      "                                     split an Ed25519 or RSA key into two share\n"
	      "                                     files (mode 0600) for two lurkd servers\n"
	      "       lurk-admin split-check SHARE1 SHARE2 [CERT]\n"
	      "                                     check that two shares sign together (and\n"
	      "                                     are the key of certificate CERT)\n"
	      "       lurk-admin --help | --version\n"
	      "See lurk-admin(1).\n",
		f);
}

/*
 * The first line of a PIN file, read without stdio (no buffer we cannot
 * wipe); like a key file, it must be a regular file only its owner can read.
 */
static int
read_pin_file(const char *path, char *pin, size_t pin_len, const char **why)
{
	struct stat st;
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY), r = -1;

	*why = "cannot read the PIN";
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		*why = "PIN file is accessible by group or others (chmod 600 it)";
		goto out;
	}
	while (have + 1 < pin_len) {
		ssize_t n = read(fd, pin + have, pin_len - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	pin[have] = '\0';
	pin[strcspn(pin, "\r\n")] = '\0';
	r = 0;
out:
	close(fd);
	return r;
}

static int
cmd_genkey(int argc, char **argv)
{
	uint8_t sk[LURK_NOISE_KEY_LEN], pk[LURK_NOISE_KEY_LEN];
	char b64[LURK_STATIC_KEY_B64_LEN + 1];
	const char *why = NULL, *path = NULL, *pin_file = NULL;
	uint8_t locked[LURK_LOCKED_LEN];
	char pin[256] = "";
	int overwrite = 0, ret = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0)
			overwrite = 1;
		else if (strcmp(argv[i], "--pin-file") == 0 && i + 1 < argc)
			pin_file = argv[++i];
		else if (path == NULL && argv[i][0] != '-')
			path = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		usage(stderr);
		return 2;
	}
	if (lurk_static_key_generate(sk, pk) != 0) {
		fprintf(stderr, "lurk-admin: key generation failed\n");
		goto out;
	}
	if (pin_file != NULL) {
		if (read_pin_file(pin_file, pin, sizeof(pin), &why) != 0) {
			fprintf(stderr, "lurk-admin: %s: %s\n", pin_file, why);
			goto out;
		}
		if (pin[0] == '\0' || lurk_static_key_lock(sk, pin, strlen(pin), locked) != 0 ||
			lurk_keyfile_write_locked(path, locked, overwrite, &why) != 0) {
			fprintf(stderr, "lurk-admin: %s: %s\n", path,
				why != NULL ? why : "empty PIN or sealing failed");
			goto out;
		}
	} else if (lurk_keyfile_write(path, sk, overwrite, &why) != 0) {
		fprintf(stderr, "lurk-admin: %s: %s\n", path, why != NULL ? why : "write failed");
		goto out;
	}
	lurk_static_key_b64_encode(pk, b64);
	printf("%s\n", b64);
	ret = 0;
out:
	lurk_wipe(sk, sizeof(sk));
	lurk_wipe(pin, sizeof(pin));
	lurk_wipe(locked, sizeof(locked));
	return ret;
}

static int
cmd_pubkey(int argc, char **argv)
{
	uint8_t sk[LURK_NOISE_KEY_LEN], pk[LURK_NOISE_KEY_LEN];
	char b64[LURK_STATIC_KEY_B64_LEN + 1];
	const char *why = NULL;
	int ret = 1;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (lurk_keyfile_read(argv[1], sk, &why) != 0) {
		fprintf(stderr, "lurk-admin: %s: %s\n", argv[1], why != NULL ? why : "unreadable");
		goto out;
	}
	if (lurk_static_key_public(sk, pk) != 0) {
		fprintf(stderr, "lurk-admin: %s: degenerate private key\n", argv[1]);
		goto out;
	}
	lurk_static_key_b64_encode(pk, b64);
	printf("%s\n", b64);
	ret = 0;
out:
	lurk_wipe(sk, sizeof(sk));
	return ret;
}

static int
cmd_fingerprint(int argc, char **argv)
{
	uint8_t pk[LURK_NOISE_KEY_LEN];
	char fp[LURK_STATIC_KEY_FP_LEN + 1];

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (lurk_static_key_b64_decode(argv[1], pk) != 0) {
		fprintf(stderr, "lurk-admin: not a base64 public key (44 characters)\n");
		return 1;
	}
	lurk_static_key_fingerprint(pk, fp);
	printf("%s\n", fp);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{"genkey", cmd_genkey},
	{"pubkey", cmd_pubkey},
	{"fingerprint", cmd_fingerprint},
	{"audit", lurk_admin_audit},
	{"lurk-key", lurk_admin_lurkkey},
	{"status", lurk_admin_status},
	{"split", lurk_admin_split},
	{"split-check", lurk_admin_split_check},
};

int
main(int argc, char **argv)
{
	if (lurk_mem_init() != 0) {
		fprintf(stderr, "lurk-admin: libsodium initialisation failed\n");
		return 1;
	}
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("lurk-admin %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		/* "lurk-admin CMD --help": no command takes a file or value named --help. */
		if (argc == 3 && strcmp(argv[2], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "lurk-admin: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

/*
 * Policy fixtures: every line of tests/fixtures/policy/allowed/\*.hex must be
 * allowed, every line of tests/fixtures/policy/refused/\*.hex refused with the
 * reason it names. The format is in tests/fixtures/policy/README.md; inputs
 * captured from real handshakes go there.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckm.h"
#include "server/policy.h"
#include "tap.h"
#include "test-policy.h"

#define MAX_FIELDS 8

static const char *const reason_names[LURK_POLICY_LAST] = {
	[LURK_POLICY_ALLOW] = "ALLOW",
	[LURK_POLICY_MECHANISM] = "MECHANISM",
	[LURK_POLICY_KEY_TYPE] = "KEY_TYPE",
	[LURK_POLICY_CONTENT_REQUIRED] = "CONTENT_REQUIRED",
	[LURK_POLICY_NOT_TLS] = "NOT_TLS",
	[LURK_POLICY_CLIENT_CONTEXT] = "CLIENT_CONTEXT",
	[LURK_POLICY_SERVER_CONTEXT] = "SERVER_CONTEXT",
	[LURK_POLICY_HASH_LENGTH] = "HASH_LENGTH",
	[LURK_POLICY_TRAILING] = "TRAILING",
	[LURK_POLICY_DIGESTINFO] = "DIGESTINFO",
	[LURK_POLICY_LEGACY_HASH] = "LEGACY_HASH",
	[LURK_POLICY_PSS_PARAMS] = "PSS_PARAMS",
	[LURK_POLICY_TLS_VERSION] = "TLS_VERSION",
	[LURK_POLICY_GROUP] = "GROUP",
	[LURK_POLICY_PUBLIC_VALUE] = "PUBLIC_VALUE",
	[LURK_POLICY_DH_PARAMS] = "DH_PARAMS",
	[LURK_POLICY_DECRYPT_OFF] = "DECRYPT_OFF",
	[LURK_POLICY_CIPHERTEXT_LEN] = "CIPHERTEXT_LEN",
	[LURK_POLICY_SCHEME] = "SCHEME",
};

struct name {
	const char *name;
	uint32_t value;
};

static const struct name key_types[] = {
	{"rsa", LURK_KEY_RSA},
	{"ec", LURK_KEY_EC},
	{"ed25519", LURK_KEY_ED25519},
	{"ed448", LURK_KEY_ED448},
};

static const struct name mech_names[] = {
	{"CKM_RSA_PKCS", CKM_RSA_PKCS},
	{"CKM_RSA_PKCS_PSS", CKM_RSA_PKCS_PSS},
	{"CKM_RSA_X_509", CKM_RSA_X_509},
	{"CKM_ECDSA", CKM_ECDSA},
	{"CKM_EDDSA", CKM_EDDSA},
	{"CKM_ECDSA_SHA256", CKM_ECDSA_SHA256},
	{"CKM_ECDSA_SHA384", CKM_ECDSA_SHA384},
	{"CKM_ECDSA_SHA512", CKM_ECDSA_SHA512},
	{"CKM_SHA256_RSA_PKCS", CKM_SHA256_RSA_PKCS},
	{"CKM_SHA384_RSA_PKCS", CKM_SHA384_RSA_PKCS},
	{"CKM_SHA512_RSA_PKCS", CKM_SHA512_RSA_PKCS},
	{"CKM_SHA256_RSA_PKCS_PSS", CKM_SHA256_RSA_PKCS_PSS},
	{"CKM_SHA384_RSA_PKCS_PSS", CKM_SHA384_RSA_PKCS_PSS},
	{"CKM_SHA512_RSA_PKCS_PSS", CKM_SHA512_RSA_PKCS_PSS},
};

static const struct name hash_names[] = {
	{"sha1", CKM_SHA_1},
	{"sha224", CKM_SHA224},
	{"sha256", CKM_SHA256},
	{"sha384", CKM_SHA384},
	{"sha512", CKM_SHA512},
};

static const struct name mgf_names[] = {
	{"mgf1-sha1", CKG_MGF1_SHA1},
	{"mgf1-sha224", CKG_MGF1_SHA224},
	{"mgf1-sha256", CKG_MGF1_SHA256},
	{"mgf1-sha384", CKG_MGF1_SHA384},
	{"mgf1-sha512", CKG_MGF1_SHA512},
};

static const struct name use_names[] = {
	{"server", LURK_USE_SERVER},
	{"client", LURK_USE_CLIENT},
};

static const struct name tls_names[] = {
	{"1.0", LURK_TLS10},
	{"1.1", LURK_TLS11},
	{"1.2", LURK_TLS12},
	{"1.3", LURK_TLS13},
};

const char *
policy_reason_name(enum lurk_policy_reason r)
{
	if ((unsigned)r >= LURK_POLICY_LAST || reason_names[r] == NULL)
		return "?";
	return reason_names[r];
}

/* Where the current line is, for failure messages. */
static const char *cur_file;
static int cur_line;

#define fixture_fail(...) lurk_test_fail(cur_file, cur_line, __VA_ARGS__)

static uint32_t
lookup(const struct name *t, size_t n, const char *s, const char *what)
{
	char *end;
	unsigned long v;

	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, s) == 0)
			return t[i].value;
	/* Numbers too, for mechanisms and values without a name here. */
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX)
		fixture_fail("unknown %s '%s'", what, s);
	return (uint32_t)v;
}

/* Splits s in place at spaces and tabs; returns the number of fields. */
static int
split(char *s, char **f, int max)
{
	int n = 0;

	while (*s != '\0') {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			*s++ = '\0';
		if (*s == '\0')
			break;
		if (n == max)
			return max + 1;
		f[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
	}
	return n;
}

/* "policy use=server,client tls=1.2,1.3 require-content" */
static void
parse_policy(char **f, int n, struct lurk_policy *p)
{
	lurk_policy_default(p);
	for (int i = 1; i < n; i++) {
		unsigned *set;
		const struct name *t;
		size_t tn;
		char *item, *save;

		if (strcmp(f[i], "require-content") == 0) {
			p->require_content = 1;
			continue;
		}
		if (strncmp(f[i], "use=", 4) == 0) {
			set = &p->use;
			t = use_names;
			tn = LURK_ARRAY_LEN(use_names);
		} else if (strncmp(f[i], "tls=", 4) == 0) {
			set = &p->tls_versions;
			t = tls_names;
			tn = LURK_ARRAY_LEN(tls_names);
		} else {
			fixture_fail("unknown policy setting '%s'", f[i]);
		}
		*set = 0;
		for (item = strtok_r(f[i] + 4, ",", &save); item != NULL;
			item = strtok_r(NULL, ",", &save))
			*set |= lookup(t, tn, item, "policy value");
	}
}

/* "-" or "pss:sha256:mgf1-sha256:32" */
static void
parse_params(char *s, struct pss *pss)
{
	char *hash, *mgf, *slen, *save;

	memset(pss, 0, sizeof(*pss));
	if (strcmp(s, "-") == 0)
		return;
	if (strncmp(s, "pss:", 4) != 0 || (hash = strtok_r(s + 4, ":", &save)) == NULL ||
		(mgf = strtok_r(NULL, ":", &save)) == NULL ||
		(slen = strtok_r(NULL, ":", &save)) == NULL || strtok_r(NULL, ":", &save) != NULL)
		fixture_fail("params must be '-' or 'pss:HASH:MGF:SLEN', not '%s'", s);
	pss->has = 1;
	pss->hash = lookup(hash_names, LURK_ARRAY_LEN(hash_names), hash, "hash");
	pss->mgf = lookup(mgf_names, LURK_ARRAY_LEN(mgf_names), mgf, "mgf");
	pss->slen = lookup(NULL, 0, slen, "salt length");
}

static enum lurk_policy_reason
parse_reason(const char *s)
{
	for (int i = 0; i < LURK_POLICY_LAST; i++)
		if (reason_names[i] != NULL && strcmp(reason_names[i], s) == 0)
			return (enum lurk_policy_reason)i;
	fixture_fail("unknown reason '%s'", s);
}

/* "keytype mech params hexdata [REASON]"; returns 1 for a request line. */
static int
run_line(char *line, const struct lurk_policy *p, int refused)
{
	char *f[MAX_FIELDS];
	int n = split(line, f, MAX_FIELDS);
	struct lurk_policy_req req;
	struct pss pss;
	enum lurk_policy_reason want = LURK_POLICY_ALLOW, got;
	uint8_t *d;
	size_t len = 0;

	if (n != (refused ? 5 : 4))
		fixture_fail("want %d fields, got %d", refused ? 5 : 4, n);
	if (refused && (want = parse_reason(f[4])) == LURK_POLICY_ALLOW)
		fixture_fail("a refused fixture must name a reason");
	parse_params(f[2], &pss);
	if (strcmp(f[3], "-") == 0)
		d = malloc(1);
	else if ((d = lurk_test_unhex(f[3], &len)) == NULL)
		fixture_fail("bad hex data");
	assert_ptr_not_null(d);
	memset(&req, 0, sizeof(req));
	req.key_type =
		(enum lurk_key_type)lookup(key_types, LURK_ARRAY_LEN(key_types), f[0], "key type");
	req.mech = lookup(mech_names, LURK_ARRAY_LEN(mech_names), f[1], "mechanism");
	req.has_pss = pss.has;
	req.pss_hash = pss.hash;
	req.pss_mgf = pss.mgf;
	req.pss_slen = pss.slen;
	req.data = d;
	req.len = len;
	got = lurk_policy_check_sign(p, &req);
	free(d);
	if (got != want)
		fixture_fail("%s %s, %zu bytes: got %s, want %s", f[0], f[1], len,
			policy_reason_name(got), policy_reason_name(want));
	return 1;
}

static int
run_file(const char *path, int refused)
{
	char *text, *line, *next, *f[MAX_FIELDS];
	struct lurk_policy p;
	int count = 0;

	if ((text = lurk_test_read_file(path, NULL)) == NULL)
		lurk_test_fail(path, 0, "cannot read");
	lurk_policy_default(&p);
	cur_file = path;
	cur_line = 0;
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		cur_line++;
		if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0')
			continue;
		if (strncmp(line, "policy", 6) == 0 && (line[6] == ' ' || line[6] == '\0')) {
			int n = split(line, f, MAX_FIELDS);
			if (n > MAX_FIELDS)
				fixture_fail("too many policy settings");
			parse_policy(f, n, &p);
			continue;
		}
		count += run_line(line, &p, refused);
	}
	free(text);
	return count;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Runs every *.hex in dir; a missing folder is no failure (the counts are checked). */
static int captured;

static int
run_dir(const char *dir, int refused, int *files)
{
	char path[4096];
	struct dirent *e;
	DIR *d;
	int count = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".hex"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		count += run_file(path, refused);
		(*files)++;
		if (strncmp(e->d_name, "captured-", 9) == 0)
			captured++;
	}
	closedir(d);
	return count;
}

void
test_policy_fixtures(void)
{
	const char *top = getenv("top_srcdir");
	char dir[4096];
	int files = 0, allowed, refused;

	if (top == NULL)
		top = LURK_TOP_SRCDIR;
	snprintf(dir, sizeof(dir), "%s/tests/fixtures/policy/allowed", top);
	allowed = run_dir(dir, 0, &files);
	snprintf(dir, sizeof(dir), "%s/tests/fixtures/policy/refused", top);
	refused = run_dir(dir, 1, &files);
	lurk_test_diag("fixtures: %d allowed and %d refused inputs from %d files under %s", allowed,
		refused, files, top);
	/* The captured handshakes (tests/capture-fixtures.sh) must be there, all of them. */
	assert_num_cmp(captured, >=, 12);
	assert_num_cmp(allowed, >=, 20);
}

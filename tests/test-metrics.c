/*
 * lurkd's metrics without a daemon: label escaping, the exposition of
 * counts made through the hooks (names with quotes, backslashes and a
 * newline come out escaped), counts kept across a rebind (a reload), every
 * sample under a TYPE line, and lurk-admin status's reader getting the same
 * numbers and names back.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "admin-status.h"
#include "audit.h"
#include "conf.h"
#include "err.h"
#include "metrics-int.h"
#include "metrics.h"
#include "tap.h"

static void
test_escape(void)
{
	char out[64];

	assert_num_eq(lurkd_metrics_escape("plain", out, sizeof(out)), 5);
	assert_str_eq(out, "plain");
	assert_num_eq(lurkd_metrics_escape("a\"b\\c\nd", out, sizeof(out)), 10);
	assert_str_eq(out, "a\\\"b\\\\c\\nd");
	assert_num_eq(lurkd_metrics_escape("", out, sizeof(out)), 0);
	assert_str_eq(out, "");
	/* Exactly the room, then one short. */
	assert_num_eq(lurkd_metrics_escape("\"\"", out, 5), 4);
	assert_num_eq(lurkd_metrics_escape("\"\"", out, 4), (size_t)-1);
	assert_num_eq(lurkd_metrics_escape("abc", out, 3), (size_t)-1);
}

static struct lurkd_key_conf keys[2];
static struct lurkd_key_conf *client_keys[2] = {&keys[0], &keys[1]};
static struct lurkd_client client;
static struct lurkd_config cfg;

static void
request(const char *key, const char *op, uint32_t mech, const char *verdict, uint64_t usec)
{
	struct lurkd_audit_rec a;
	size_t k = 0;

	/* The key's index, as handle.c passes it: nkeys for none of the client's. */
	while (k < client.nkeys && strcmp(client.keys[k]->name, key) != 0)
		k++;
	memset(&a, 0, sizeof(a));
	snprintf(a.client, sizeof(a.client), "%s", client.name);
	snprintf(a.key, sizeof(a.key), "%s", key);
	snprintf(a.op, sizeof(a.op), "%s", op);
	snprintf(a.verdict, sizeof(a.verdict), "%s", verdict);
	a.mechanism = mech;
	a.usec = usec;
	lurkd_metrics_request(&client, k, &a);
}

static void
bind_config(void)
{
	free(client.mpairs);
	client.mpairs = NULL;
	lurkd_metrics_bind(&cfg);
	assert_ptr_not_null(client.mpairs);
}

/* Whether "# TYPE name " (then type, if given) occurs in text before p. */
static int
typed_before(const char *text, const char *p, const char *name, const char *type)
{
	char want[200];
	const char *at;

	snprintf(want, sizeof(want), "# TYPE %s %s", name, type != NULL ? type : "");
	return (at = strstr(text, want)) != NULL && at < p;
}

/* Every sample's family has a TYPE line before it (a histogram's parts, its family's). */
static void
check_typed(const char *text)
{
	static const char *const sufs[] = {"_bucket", "_sum", "_count"};
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = strcspn(p, "{ ");
		char name[128];
		int ok = 0;

		assert_ptr_not_null(nl);
		if (*p != '#') {
			assert_num_cmp(n, <, sizeof(name));
			memcpy(name, p, n);
			name[n] = '\0';
			ok = typed_before(text, p, name, NULL);
			for (size_t i = 0; !ok && i < LURK_ARRAY_LEN(sufs); i++) {
				size_t sl = strlen(sufs[i]);
				if (n > sl && strcmp(name + n - sl, sufs[i]) == 0) {
					name[n - sl] = '\0';
					ok = typed_before(text, p, name, "histogram");
					name[n - sl] = sufs[i][0];
				}
			}
			if (!ok)
				lurk_test_fail(__FILE__, __LINE__, "no TYPE line before %s", name);
		}
		p = nl + 1;
	}
}

static void
test_exposition(void)
{
	struct status st;
	char *text;
	size_t len;

	keys[0].name = "www";
	keys[1].name = "odd\"key\\";
	client.name = "edge\n1";
	client.keys = client_keys;
	client.nkeys = 2;
	cfg.clients = &client;
	cfg.nclients = 1;
	lurkd_mstate.on = 1;
	bind_config();

	request("www", "sign", CKM_ECDSA, "allowed", 30);
	request("www", "sign", CKM_ECDSA, "allowed", 3000000);
	request("odd\"key\\", "decrypt", CKM_RSA_PKCS, "refused", 10);
	request("", "sign", 0x12345678, "refused", 5);
	lurkd_metrics_refusal(LURK_ERR_POLICY, LURK_POLICY_HASH_LENGTH, "hash length");
	lurkd_metrics_refusal(LURK_ERR_RATE_LIMIT, 0, "key rate limit exceeded");
	lurkd_metrics_refusal(LURK_ERR_NOT_FOUND, 0, "no such key for this client");
	lurkd_metrics_handshake(0);
	lurkd_metrics_handshake(LURK_ERR_UNKNOWN_PEER);

	/* A reload binds a new configuration with the same names: counts go on. */
	bind_config();
	request("www", "sign", CKM_ECDSA, "allowed", 30);

	assert_ok(lurkd_metrics_render(&text, &len));
	assert_num_eq(strlen(text), len);
	assert_str_contains(text,
		"lurkd_operations_total{key=\"www\",client=\"edge\\n1\","
		"operation=\"sign\",mechanism=\"CKM_ECDSA\",verdict=\"allowed\"} 3\n");
	assert_str_contains(text,
		"lurkd_operations_total{key=\"odd\\\"key\\\\\",client=\"edge\\n1\","
		"operation=\"decrypt\",mechanism=\"CKM_RSA_PKCS\","
		"verdict=\"refused\"} 1\n");
	assert_str_contains(text,
		"lurkd_operations_total{key=\"\",client=\"edge\\n1\","
		"operation=\"sign\",mechanism=\"other\",verdict=\"refused\"} 1\n");
	assert_str_contains(text, "lurkd_operation_duration_seconds_bucket{key=\"www\","
				  "operation=\"sign\",le=\"5e-05\"} 2\n");
	assert_str_contains(text, "lurkd_operation_duration_seconds_bucket{key=\"www\","
				  "operation=\"sign\",le=\"1\"} 2\n");
	assert_str_contains(text, "lurkd_operation_duration_seconds_bucket{key=\"www\","
				  "operation=\"sign\",le=\"+Inf\"} 3\n");
	assert_str_contains(text, "lurkd_operation_duration_seconds_count{key=\"www\","
				  "operation=\"sign\"} 3\n");
	assert_str_contains(text, "lurkd_refusals_total{reason=\"hash_length\"} 1\n");
	assert_str_contains(text, "lurkd_refusals_total{reason=\"no_such_key\"} 1\n");
	assert_str_contains(text, "lurkd_rate_limited_total{scope=\"key\"} 1\n");
	assert_str_contains(text, "lurkd_rate_limited_total{scope=\"client\"} 0\n");
	assert_str_contains(text, "lurkd_handshakes_total{result=\"unknown_client\"} 1\n");
	assert_str_contains(text, "# TYPE lurkd_operation_duration_seconds histogram\n");
	assert_false(strstr(text, "edge\n1") != NULL); /* no raw newline inside a label */
	check_typed(text);

	/* lurk-admin status reads it back, names unescaped. */
	assert_num_eq(lurk_status_parse(text, len, &st), 0);
	assert_str_eq(st.version, PACKAGE_VERSION);
	assert_num_eq(st.clients.n, 1);
	assert_str_eq(st.clients.rows[0].name, "edge\n1");
	assert_num_eq(st.clients.rows[0].allowed, 3);
	assert_num_eq(st.clients.rows[0].refused, 2);
	assert_num_eq(st.keys.n, 2);
	assert_str_eq(st.keys.rows[1].name, "odd\"key\\");
	assert_num_eq(st.hs_ok, 1);
	assert_num_eq(st.hs_refused, 1);
	lurk_status_free(&st);
	free(text);
	free(client.mpairs);
}

static void
test_parse_junk(void)
{
	static const char junk[] =
		"lurkd_operations_total{key=\"a\",client=\"c\",verdict=\"allowed\" 7\n"
		"lurkd_operations_total{key=\"a\n"
		"lurkd_build_info{version=\"x\"} 1\n"
		"lurkd_connections_open 12345678901234567890123456789012345678901234567890"
		"12345678901234567890\n"
		"lurkd_config_generation notanumber\n"
		"lurkd_operations_total{key=\"b\",client=\"c\",verdict=\"allowed\"} 4";
	struct status st;

	/* Malformed lines are skipped, the text need not end in a newline. */
	assert_num_eq(lurk_status_parse(junk, sizeof(junk) - 1, &st), 0);
	assert_str_eq(st.version, "x");
	assert_num_eq(st.open, 0);
	assert_num_eq(st.generation, 0);
	assert_num_eq(st.keys.n, 1);
	assert_str_eq(st.keys.rows[0].name, "b");
	assert_num_eq(st.keys.rows[0].allowed, 4);
	lurk_status_free(&st);
}

int
main(int argc, char **argv)
{
	lurk_test(test_escape, "/metrics/escape");
	lurk_test(test_exposition, "/metrics/exposition");
	lurk_test(test_parse_junk, "/metrics/status-parse");
	return lurk_test_run(argc, argv);
}

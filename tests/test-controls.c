/* Per-client controls: token-bucket rate limits, validity windows, source prefixes. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/un.h>

#include "server/acl.h"
#include "err.h"
#include "server/ratelimit.h"
#include "tap.h"

#define SEC 1000000000ull

static void
test_burst_then_rate(void)
{
	struct lurk_ratelimit rl;
	uint64_t t = 1000 * SEC;
	int allowed = 0;

	assert_ok(lurk_ratelimit_init(&rl, 10, 5));
	for (int i = 0; i < 20; i++)
		allowed += lurk_ratelimit_take(&rl, t) == 0;
	assert_num_eq(allowed, 5); /* the burst, then refused */
	assert_err(lurk_ratelimit_take(&rl, t), LURK_ERR_RATE_LIMIT);
	/* Recovers at the rate: one more every 100 ms. */
	assert_err(lurk_ratelimit_take(&rl, t + SEC / 10 - 1), LURK_ERR_RATE_LIMIT);
	assert_ok(lurk_ratelimit_take(&rl, t + SEC / 10));
	assert_err(lurk_ratelimit_take(&rl, t + SEC / 10), LURK_ERR_RATE_LIMIT);
	/* Over 10 simulated seconds of hammering: at most rate x time + burst. */
	allowed = 0;
	for (uint64_t ns = 0; ns < 10 * SEC; ns += SEC / 1000)
		allowed += lurk_ratelimit_take(&rl, t + SEC / 10 + ns) == 0;
	assert_num_cmp(allowed, <=, 100 + 5);
	assert_num_cmp(allowed, >=, 99);
	/* A long idle period refills only up to the burst. */
	allowed = 0;
	for (int i = 0; i < 50; i++)
		allowed += lurk_ratelimit_take(&rl, t + 1000 * SEC) == 0;
	assert_num_eq(allowed, 5);
	lurk_ratelimit_clear(&rl);
	assert_ok(lurk_ratelimit_init(&rl, 0, 0)); /* unlimited */
	for (int i = 0; i < 1000; i++)
		assert_ok(lurk_ratelimit_take(&rl, t));
	lurk_ratelimit_clear(&rl);
	assert_err(lurk_ratelimit_init(&rl, LURK_RATELIMIT_MAX_RATE + 1, 1), LURK_ERR_INVALID_ARG);
}

static struct lurk_ratelimit shared;
static uint64_t base_ns;

static void *
hammer(void *arg)
{
	long granted = 0;

	(void)arg;
	/* 2 simulated seconds, each thread stepping through the same instants. */
	for (uint64_t ns = 0; ns < 2 * SEC; ns += SEC / 10000)
		granted += lurk_ratelimit_take(&shared, base_ns + ns) == 0;
	return (void *)granted;
}

static void
test_threads(void)
{
	pthread_t th[8];
	long total = 0;

	base_ns = 5000 * SEC;
	assert_ok(lurk_ratelimit_init(&shared, 1000, 50));
	for (int i = 0; i < 8; i++)
		assert_num_eq(pthread_create(&th[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < 8; i++) {
		void *g;
		pthread_join(th[i], &g);
		total += (long)g;
	}
	/* Never more than rate x time + burst, whatever the interleaving. */
	assert_num_cmp(total, <=, 2 * 1000 + 50);
	lurk_test_diag("8 threads, 2 simulated seconds at 1000/s burst 50: %ld granted", total);
	lurk_ratelimit_clear(&shared);
}

static void
test_time(void)
{
	int64_t t;

	assert_ok(lurk_acl_parse_time("1970-01-01T00:00:00Z", &t));
	assert_num_eq(t, 0);
	assert_ok(lurk_acl_parse_time("2026-11-22T10:00:00Z", &t));
	assert_num_eq(t, 1795341600);
	assert_ok(lurk_acl_parse_time("2024-02-29T23:59:59Z", &t));
	assert_err(lurk_acl_parse_time("2025-02-29T00:00:00Z", &t), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_acl_parse_time("2026-02-30T00:00:00Z", &t), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_acl_parse_time("2026-11-22T10:00:00+01:00", &t), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_acl_parse_time("2026-11-22 10:00:00Z", &t), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_acl_parse_time("2026-11-22T24:00:00Z", &t), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_acl_parse_time("2026-13-01T00:00:00Z", &t), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_acl_parse_time("2026-1a-01T00:00:00Z", &t), LURK_ERR_BAD_FORMAT);
	assert_err(lurk_acl_parse_time("", &t), LURK_ERR_BAD_FORMAT);

	struct lurk_acl acl;
	lurk_acl_init(&acl);
	assert_true(lurk_acl_time_ok(&acl, 0));
	acl.not_before = 100;
	acl.not_after = 200;
	assert_false(lurk_acl_time_ok(&acl, 99));
	assert_true(lurk_acl_time_ok(&acl, 100));
	assert_true(lurk_acl_time_ok(&acl, 200));
	assert_false(lurk_acl_time_ok(&acl, 201));
}

static int
src4(const struct lurk_acl *acl, const char *ip)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};

	inet_pton(AF_INET, ip, &sa.sin_addr);
	return lurk_acl_source_ok(acl, (struct sockaddr *)&sa);
}

static int
src6(const struct lurk_acl *acl, const char *ip)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6};

	inet_pton(AF_INET6, ip, &sa.sin6_addr);
	return lurk_acl_source_ok(acl, (struct sockaddr *)&sa);
}

static void
test_sources(void)
{
	struct lurk_acl acl;
	struct sockaddr_un un = {.sun_family = AF_UNIX};

	lurk_acl_init(&acl);
	assert_true(src4(&acl, "192.0.2.1")); /* no list: any source */
	assert_ok(lurk_acl_parse_sources(&acl, "127.0.0.0/8, ::1/128 10.1.2.3 2001:db8::/33"));
	assert_num_eq(acl.nsources, 4);
	assert_true(src4(&acl, "127.1.2.3"));
	assert_false(src4(&acl, "128.0.0.1"));
	assert_true(src4(&acl, "10.1.2.3"));
	assert_false(src4(&acl, "10.1.2.4"));
	assert_true(src6(&acl, "::1"));
	assert_false(src6(&acl, "::2"));
	assert_true(src6(&acl, "::ffff:127.0.0.9")); /* mapped IPv4 */
	assert_true(src6(&acl, "2001:db8:7fff::1"));
	assert_false(src6(&acl, "2001:db8:8000::1"));
	assert_true(lurk_acl_source_ok(&acl, (struct sockaddr *)&un));
	assert_ok(lurk_acl_parse_sources(&acl, "0.0.0.0/0"));
	assert_true(src4(&acl, "203.0.113.7"));
	assert_false(src6(&acl, "2001:db8::1"));
	static const char *bad[] = {"", "127.0.0.1/33", "::1/129", "10.0.0.0/", "10.0.0.0/x",
		"999.0.0.1", "10.0.0.0/8junk", "localhost", "10.0.0.1/0008"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_err(lurk_acl_parse_sources(&acl, bad[i]), LURK_ERR_BAD_FORMAT);
		assert_num_eq(acl.nsources, 0);
	}
	char many[2000] = "";
	for (int i = 0; i < LURK_ACL_MAX_SOURCES + 1; i++)
		strcat(many, "10.0.0.1 ");
	assert_err(lurk_acl_parse_sources(&acl, many), LURK_ERR_BAD_FORMAT);
}

int
main(int argc, char **argv)
{
	lurk_test(test_burst_then_rate, "/ratelimit/burst-rate-recovery");
	lurk_test(test_threads, "/ratelimit/threads");
	lurk_test(test_time, "/acl/time-window");
	lurk_test(test_sources, "/acl/sources");
	return lurk_test_run(argc, argv);
}

/*
 * The address grammar (common/addr.c) that lurkd's listen lines and the
 * client's server address share: every accepted form and its parts, each
 * refusal and its reason, and the copy into a bounded buffer.
 */
#include "config.h"

#include <string.h>

#include "addr.h"
#include "tap.h"

static void
ok(const char *s, enum lurk_addr_kind kind, const char *host, const char *port)
{
	struct lurk_addr a;
	int r = lurk_addr_parse(s, &a);

	if (r != 0)
		lurk_test_fail(__FILE__, __LINE__, "'%s' refused (%d)", s, r);
	assert_num_eq(a.kind, kind);
	assert_num_eq(a.host_len, strlen(host));
	assert_mem_eq(a.host, host, a.host_len);
	assert_num_eq(a.port_len, strlen(port));
	assert_mem_eq(a.port, port, a.port_len);
}

static void
refused(const char *s, enum lurk_addr_why why)
{
	struct lurk_addr a;
	int r = lurk_addr_parse(s, &a);

	if (r != (int)why)
		lurk_test_fail(__FILE__, __LINE__, "'%s' gave %d, expected %d", s, r, (int)why);
}

static void
test_accepted(void)
{
	char path[LURK_ADDR_UNIX_PATH_MAX + 8] = "unix:/";

	ok("unix:/run/lurk/lurkd.sock", LURK_ADDR_UNIX, "/run/lurk/lurkd.sock", "");
	ok("unix:/", LURK_ADDR_UNIX, "/", "");
	/* 107 bytes of path, the most sun_path takes with its NUL. */
	memset(path + 6, 'p', LURK_ADDR_UNIX_PATH_MAX - 2);
	ok(path, LURK_ADDR_UNIX, path + 5, "");
	ok("tcp:127.0.0.1:7443", LURK_ADDR_TCP, "127.0.0.1", "7443");
	ok("tcp:lurkd.example.com:7443", LURK_ADDR_TCP, "lurkd.example.com", "7443");
	ok("tcp:[::1]:7443", LURK_ADDR_TCP, "::1", "7443");
	ok("tcp:[fe80::1%eth0]:1", LURK_ADDR_TCP, "fe80::1%eth0", "1");
	/* Without brackets the port is after the last ':'. */
	ok("tcp:::1:7443", LURK_ADDR_TCP, "::1", "7443");
	/* The grammar leaves the port's form to each side (lurkd wants a number). */
	ok("tcp:localhost:https", LURK_ADDR_TCP, "localhost", "https");
	ok("tcp:h:99999", LURK_ADDR_TCP, "h", "99999");
}

static void
test_refused(void)
{
	char path[LURK_ADDR_UNIX_PATH_MAX + 8] = "unix:/";
	struct lurk_addr a;

	refused("", LURK_ADDR_BAD_SCHEME);
	refused("/run/lurk/lurkd.sock", LURK_ADDR_BAD_SCHEME);
	refused("udp:1.2.3.4:5", LURK_ADDR_BAD_SCHEME);
	refused("TCP:1.2.3.4:5", LURK_ADDR_BAD_SCHEME);
	refused("unix", LURK_ADDR_BAD_SCHEME);
	refused("tcp", LURK_ADDR_BAD_SCHEME);
	refused("unix:", LURK_ADDR_BAD_PATH);
	refused("unix:run/lurkd.sock", LURK_ADDR_BAD_PATH);
	memset(path + 6, 'p', LURK_ADDR_UNIX_PATH_MAX - 1);
	refused(path, LURK_ADDR_BAD_PATH);
	refused("tcp:[::1]7443", LURK_ADDR_NO_BRACKET);
	refused("tcp:[::1", LURK_ADDR_NO_BRACKET);
	refused("tcp:[::1]", LURK_ADDR_NO_BRACKET);
	refused("tcp:", LURK_ADDR_NO_COLON);
	refused("tcp:localhost", LURK_ADDR_NO_COLON);
	refused("tcp::7443", LURK_ADDR_EMPTY_HOST);
	refused("tcp:[]:7443", LURK_ADDR_EMPTY_HOST);
	refused("tcp::", LURK_ADDR_EMPTY_HOST);
	refused("tcp:1.2.3.4:", LURK_ADDR_EMPTY_PORT);
	refused("tcp:[::1]:", LURK_ADDR_EMPTY_PORT);
	/* The spans are filled for the empty-part refusals, so a caller can name them. */
	assert_num_eq(lurk_addr_parse("tcp:bad:", &a), LURK_ADDR_EMPTY_PORT);
	assert_num_eq(a.host_len, 3);
	assert_mem_eq(a.host, "bad", 3);
	assert_num_eq(a.port_len, 0);
	assert_num_eq(lurk_addr_parse("tcp::80", &a), LURK_ADDR_EMPTY_HOST);
	assert_num_eq(a.host_len, 0);
	assert_num_eq(a.port_len, 2);
}

static void
test_copy(void)
{
	char buf[4];

	assert_num_eq(lurk_addr_copy(buf, sizeof(buf), "abc", 3), 0);
	assert_str_eq(buf, "abc");
	assert_num_eq(lurk_addr_copy(buf, sizeof(buf), "abcd", 4), -1);
	assert_str_eq(buf, "");
	assert_num_eq(lurk_addr_copy(buf, sizeof(buf), "", 0), 0);
	assert_str_eq(buf, "");
	assert_num_eq(lurk_addr_copy(buf, 0, "", 0), -1);
}

int
main(int argc, char **argv)
{
	lurk_test(test_accepted, "/addr/accepted");
	lurk_test(test_refused, "/addr/refused");
	lurk_test(test_copy, "/addr/copy");
	return lurk_test_run(argc, argv);
}

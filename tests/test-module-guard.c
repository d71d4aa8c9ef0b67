/*
 * The module's client key in guarded memory (issue 12): sodium_malloc'd, so
 * between two no-access guard pages and kept out of core dumps, and
 * read-only while it is not being set; wiped by C_Logout; unmapped by
 * C_Finalize. The module's debug log (its stderr, sent to a file here) says
 * where the key is; /proc/self/maps and smaps say what the pages are; a
 * child that writes to the key dies of SIGSEGV.
 *
 * Environment (tests/test-module-guard.sh sets it): LURK_TEST_MODULE, and
 * LURK_TEST_PLAIN_CONF and LURK_TEST_PIN_CONF, module files naming a plain
 * and a PIN-protected client key (PIN in LURK_TEST_PIN). No lurkd: neither
 * loading a plain key nor opening a sealed one needs the network.
 */
#include "config.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckm.h"
#include "tap.h"

#define KEY_LEN 32

static CK_FUNCTION_LIST_PTR p11;
static char log_path[] = "/tmp/lurk-guard-log.XXXXXX";

/*
 * The address in the last "client key in guarded memory at 0x..." line, or
 * 0; *lines gets how many such lines there are (NULL: not wanted).
 */
static uintptr_t
key_address_n(unsigned *lines)
{
	static const char mark[] = "client key in guarded memory at 0x";
	char line[512];
	uintptr_t addr = 0;
	unsigned n = 0;
	FILE *f;

	fflush(stderr);
	if ((f = fopen(log_path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *at = strstr(line, mark);
		if (at != NULL) {
			addr = (uintptr_t)strtoull(at + sizeof(mark) - 1, NULL, 16);
			n++;
		}
	}
	fclose(f);
	if (lines != NULL)
		*lines = n;
	return addr;
}

static uintptr_t
key_address(void)
{
	return key_address_n(NULL);
}

/*
 * The permissions of the mapping that holds addr and of the mappings just
 * before and after it ("---p r--p ---p"), and whether smaps marks it not
 * to be dumped (VmFlags "dd"). 0 if addr is in no mapping.
 */
static int
mapping_of(uintptr_t addr, char *perms, size_t len, int *no_dump)
{
	char line[512], prev[8] = "", found[16] = "";
	uintptr_t lo, hi;
	int in = 0, done = 0;
	FILE *f;

	*no_dump = 0;
	perms[0] = '\0';
	if ((f = fopen("/proc/self/smaps", "r")) == NULL)
		return 0;
	while (!done && fgets(line, sizeof(line), f) != NULL) {
		char p[8];
		/* Only a mapping's first line parses as "lo-hi perms". */
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s", &lo, &hi, p) == 3 && lo < hi) {
			if (in) {
				snprintf(perms, len, "%s %s", found, p);
				done = 1;
				break;
			}
			if (addr >= lo && addr < hi) {
				in = 1;
				snprintf(found, sizeof(found), "%s %s", prev[0] ? prev : "none", p);
			}
			snprintf(prev, sizeof(prev), "%s", p);
		} else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			*no_dump = strstr(line, " dd") != NULL;
		}
	}
	fclose(f);
	if (in && !done)
		snprintf(perms, len, "%s none", found);
	return in;
}

static int
all_zero(const volatile uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* 1 if a child that writes one byte at addr is killed by SIGSEGV. */
static int
write_faults(uintptr_t addr)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile uint8_t *)addr ^= 1;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

static void
initialize(const char *conf_env)
{
	const char *conf = getenv(conf_env);

	assert_true(conf != NULL);
	assert_num_eq(setenv("LURK_PKCS11_CONF", conf, 1), 0);
	assert_num_eq(p11->C_Initialize(NULL), CKR_OK);
}

/* The key's page: read-only between guard pages, not dumped, not writable. */
static void
check_guarded(uintptr_t addr)
{
	char perms[64];
	int no_dump;

	assert_true(mapping_of(addr, perms, sizeof(perms), &no_dump));
	lurk_test_diag("key at %#" PRIxPTR ": mappings around it %s, dd %d", addr, perms, no_dump);
	assert_str_eq(perms, "---p r--p ---p");
	assert_true(no_dump);
	assert_true(write_faults(addr));
}

static void
test_plain_key(void)
{
	uintptr_t addr;
	int no_dump;
	char perms[64];

	initialize("LURK_TEST_PLAIN_CONF");
	addr = key_address();
	assert_true(addr != 0);
	check_guarded(addr);
	assert_false(all_zero((const volatile uint8_t *)addr, KEY_LEN));
	assert_num_eq(p11->C_Finalize(NULL), CKR_OK);
	/* sodium_free wiped and unmapped it. */
	assert_false(mapping_of(addr, perms, sizeof(perms), &no_dump) && perms[5] == 'r');
}

static void
test_pin_key(void)
{
	const char *pin = getenv("LURK_TEST_PIN");
	CK_SESSION_HANDLE s;
	unsigned before, after;
	uintptr_t addr;

	assert_true(pin != NULL);
	(void)key_address_n(&before);
	initialize("LURK_TEST_PIN_CONF");
	/* A sealed key is not in memory until C_Login opens it. */
	(void)key_address_n(&after);
	assert_num_eq(after, before);
	assert_num_eq(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	assert_num_eq(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), CKR_OK);
	addr = key_address_n(&after);
	assert_num_eq(after, before + 1);
	assert_true(addr != 0);
	check_guarded(addr);
	assert_false(all_zero((const volatile uint8_t *)addr, KEY_LEN));
	assert_num_eq(p11->C_Logout(s), CKR_OK);
	assert_true(all_zero((const volatile uint8_t *)addr, KEY_LEN));
	check_guarded(addr); /* read-only again after the wipe */
	assert_num_eq(p11->C_CloseSession(s), CKR_OK);
	assert_num_eq(p11->C_Finalize(NULL), CKR_OK);
}

int
main(int argc, char **argv)
{
	const char *path = getenv("LURK_TEST_MODULE");
	CK_C_GetFunctionList get;
	void *dl;
	int fd, rc;

	if (path == NULL)
		return lurk_test_skip_all("LURK_TEST_MODULE is not set");
	/* The module logs to stderr: to a file we can read back. */
	if ((fd = mkstemp(log_path)) < 0 || dup2(fd, 2) < 0) {
		printf("Bail out! no log file\n");
		return 1;
	}
	close(fd);
	setenv("LURK_PKCS11_LOG", "debug", 1);
	setenv("LURK_DEBUG", "module", 1);
	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL ||
		(get = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList")) == NULL ||
		get(&p11) != CKR_OK) {
		printf("Bail out! cannot load %s\n", path);
		return 1;
	}
	lurk_test(test_plain_key, "/guard/plain-client-key");
	lurk_test(test_pin_key, "/guard/pin-client-key-after-login-and-logout");
	rc = lurk_test_run(argc, argv);
	unlink(log_path);
	return rc;
}

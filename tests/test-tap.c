/* The harness itself: every macro passes on good input and a failure is reported as not ok. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "tap.h"

static void
test_macros_pass(void)
{
	size_t n;
	uint8_t *b = lurk_test_unhex("00ff10", &n);

	assert_true(1 == 1);
	assert_false(1 == 2);
	assert_num_eq(3, 3);
	assert_num_cmp(2, <, 3);
	assert_str_eq("abc", "abc");
	assert_str_contains("hello world", "lo w");
	assert_mem_eq("abc", "abc", 3);
	assert_ptr_null(NULL);
	assert_ptr_not_null(b);
	assert_num_eq(n, 3);
	assert_mem_eq(b, "\x00\xff\x10", 3);
	assert_err(LURK_ERR_EOF, LURK_ERR_EOF);
	assert_ok(0);
	free(b);
	assert_ptr_null(lurk_test_unhex("0", &n));
	assert_ptr_null(lurk_test_unhex("zz", &n));
}

static void
fails_on_purpose(void)
{
	assert_num_eq(1, 2);
}

static void
fails_str(void)
{
	assert_str_contains("abc", "zz");
}

/* Runs the harness in a child on a failing test and reads its TAP output. */
static void
expect_failure_reported(lurk_test_fn fn, const char *name)
{
	int fds[2], status;
	char out[4096];
	ssize_t got, total = 0;
	pid_t pid;

	assert_num_eq(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {(char *)"child", (char *)name, NULL};
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		lurk_test(fn, name);
		_exit(lurk_test_run(2, argv));
	}
	close(fds[1]);
	while ((got = read(fds[0], out + total, sizeof(out) - 1 - (size_t)total)) > 0)
		total += got;
	close(fds[0]);
	out[total] = '\0';
	assert_num_eq(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_num_eq(WEXITSTATUS(status), 1);
	assert_str_contains(out, "1..1\n");
	assert_str_contains(out, "not ok 1 ");
	assert_str_contains(out, "test-tap.c:");
}

static void
test_failure_reported(void)
{
	expect_failure_reported(fails_on_purpose, "/child/fails-num");
	expect_failure_reported(fails_str, "/child/fails-str");
}

int
main(int argc, char **argv)
{
	lurk_test(test_macros_pass, "/tap/macros-pass");
	lurk_test(test_failure_reported, "/tap/failure-reported");
	return lurk_test_run(argc, argv);
}

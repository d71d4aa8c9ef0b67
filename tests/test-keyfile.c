#include "config.h"
#include <string.h>
#include "err.h"
#include "tap.h"
static void
test_placeholder(void)
{
	assert_true(1);
}
int
main(int argc, char **argv)
{
	lurk_test(test_placeholder, "/keyfile/placeholder");
	return lurk_test_run(argc, argv);
}

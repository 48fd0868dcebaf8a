// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dmaown/dmaown.h"

static void placeholder(void **state)
{
	(void)state;
	struct machine *m = machine_create("t", NULL);
	assert_non_null(m);
	machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(placeholder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

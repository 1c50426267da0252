/* lm_decimal: start-up's pid and descriptor numbers without printf. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "shim/base/decimal.h"

/* What printf would write, and the returned end at its NUL. */
static void expect_as_printf(uint64_t v)
{
	char got[LM_DECIMAL_MAX + 8], want[32];
	memset(got, 'x', sizeof got);
	char *end = lm_decimal(got, v);
	snprintf(want, sizeof want, "%llu", (unsigned long long)v);
	cr_expect_str_eq(got, want);
	cr_expect_eq(end, got + strlen(want), "%s: the end is its NUL", want);
	cr_expect_eq(got[strlen(want) + 1], 'x', "%s: nothing written past the NUL", want);
}

Test(decimal, writes_what_printf_writes)
{
	static const uint64_t vs[] = {0, 7, 9, 10, 99, 100, 4194304, 1234567890123ull, UINT64_MAX};
	for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++)
		expect_as_printf(vs[i]);
}

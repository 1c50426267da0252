/* C functions the thunk tests hook: stack-passed arguments, varargs,
 * errno. noipa keeps gcc from cloning or specialising them. */
#include "tests/hook/helpers_cfix.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

__attribute__((noipa)) double cfix_many(long a, long b, long c, long d, long e, long f, long g,
                                        long h, double x0, double x1, double x2, double x3,
                                        double x4, double x5, double x6, double x7, double x8)
{
	return (double)(a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h) + x0 + 2 * x1 +
	       3 * x2 + 4 * x3 + 5 * x4 + 6 * x5 + 7 * x6 + 8 * x7 + 9 * x8;
}

__attribute__((noipa)) int cfix_format(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

__attribute__((noipa)) long cfix_caller(long x)
{
	return fx_jcc8(x) + 1; /* not a tail call: cfix_caller stays on the stack */
}

__attribute__((noipa)) int cfix_fail(int e)
{
	errno = e;
	return -1;
}

/* Calls FN (which may leave by unwinding) between two uses of X: the call
 * lies past the patched bytes. */
__attribute__((noipa)) long cfix_unwind(long x, void (*fn)(long))
{
	long y = x * 3 + 1;

	fn(y);
	return y;
}

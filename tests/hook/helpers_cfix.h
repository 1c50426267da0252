#ifndef TESTS_HOOK_CFIX_H
#define TESTS_HOOK_CFIX_H

#include <stddef.h>

double cfix_many(long a, long b, long c, long d, long e, long f, long g, long h, double x0,
                 double x1, double x2, double x3, double x4, double x5, double x6, double x7,
                 double x8);
int cfix_format(char *buf, size_t n, const char *fmt, ...);
int cfix_fail(int e);
long cfix_caller(long x);
long cfix_unwind(long x, void (*fn)(long));

/* tests/hook/fixtures.S */
extern long fx_data;
long fx_rip(long x);
long fx_jcc8(long x);
long fx_call(long x);
int fx_tiny(int x);
void fx_after_tiny(void);
long fx_loop(long n);
long fx_endbr(long x);
long fx_work(long x);

#endif

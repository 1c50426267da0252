/* The benchmarked functions (benchfn.c), as the drivers and wrappers see them. */
#ifndef BENCHFN_H
#define BENCHFN_H

long f(long x);
double g(double x);
long h(const char *s);
int u(long id, char out[64]);

#endif

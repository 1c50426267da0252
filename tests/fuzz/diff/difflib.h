/* The differential fuzzer's fixture library (difflib.c): every function
 * twice, NAME (configured, so hooked by the shim) and NAME_direct (the same
 * code, never configured). The functions are pure but for the state below,
 * which the harness changes only as the config allows: the database through
 * the write functions (whose drops cover it), the generation together with a
 * jump of the clock past the TTL of the methods that read it, the weather
 * freely (only results that fail `when` depend on it). */
#ifndef LM_FUZZ_DIFFLIB_H
#define LM_FUZZ_DIFFLIB_H

#include <stdint.h>

#define DZ_DB 16

extern long dz_db[DZ_DB];
extern long dz_gen;
extern long dz_weather;
extern long dz_runs;

#define DZ_BOTH(ret, name, params) \
	ret name params;           \
	ret name##_direct params

DZ_BOTH(long, dz_l, (long x));
DZ_BOTH(int, dz_ii, (int a, unsigned b));
DZ_BOTH(double, dz_dd, (double a, double b));
DZ_BOTH(float, dz_f, (float x));
DZ_BOTH(void, dz_v, (void *ignored, short s));
DZ_BOTH(long, dz_ld, (long a, double b));
DZ_BOTH(double, dz_di, (double a, unsigned char n));
DZ_BOTH(long, dz_lil, (long a, void *ignored, long b));
DZ_BOTH(long, dz_ill, (void *ignored, long a, long b));
DZ_BOTH(long, dz_none, (void));
DZ_BOTH(long, dz_s, (const char *s));
DZ_BOTH(long, dz_b, (const void *p, unsigned n));
DZ_BOTH(char *, dz_name, (int64_t id));
DZ_BOTH(const char *, dz_sname, (int id));
DZ_BOTH(int, dz_get, (int64_t id, void *rec));
DZ_BOTH(int, dz_set, (int64_t id, int64_t v));
DZ_BOTH(int, dz_clear, (void));
DZ_BOTH(long, dz_t, (long a, long b, long c));
DZ_BOTH(long, dz_ts, (const char *s));
DZ_BOTH(long, dz_flaky, (long x));
DZ_BOTH(double, dz_wnan, (double x));
DZ_BOTH(void *, dz_mb, (int k));
DZ_BOTH(void *, dz_fill, (unsigned k, void *dst));
DZ_BOTH(int, dz_u16, (unsigned short a, signed char b, _Bool c));

#endif

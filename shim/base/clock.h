/* The shim's clocks (clock.c): both read through the vDSO, no system call. */
#ifndef LM_CLOCK_H
#define LM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Monotonic milliseconds, coarse (CLOCK_MONOTONIC_COARSE): the time base
 * of TTLs and deadlines, through the vDSO (or the clock_gettime the
 * process resolves). */
int64_t lm_clock_ms(void);
/* The same clock read from the kernel's words once lm_clock_coarse_words
 * found them (two loads, no call), else lm_clock_ms. The kernel writes
 * the seconds, then the nanoseconds, then the seconds again when the
 * nanoseconds carried, so even two equal loads of the seconds around the
 * nanoseconds may pair them wrongly: a reading can be off by up to
 * LM_CLOCK_TORN_MS either way. For schedules, and through
 * lm_clock_reached for what a hit may serve. */
int64_t lm_clock_rough_ms(void);
#define LM_CLOCK_TORN_MS 1000
/* Whether the clock has reached T (lm_clock_ms >= T), from the words
 * unless T is within LM_CLOCK_TORN_MS of them. */
bool lm_clock_reached_slow(int64_t t);
static inline bool lm_clock_reached(int64_t t)
{
	if (__builtin_expect(t - LM_CLOCK_TORN_MS > lm_clock_rough_ms(), 1))
		return false;
	return lm_clock_reached_slow(t);
}
/* Monotonic nanoseconds: what misses and the time they save are measured
 * in. */
int64_t lm_now_ns(void);

/* The first page of the mapping /proc/self/maps names [vvar], in the
 * maps text read from FD to its end; 0 if none (clock.c's reader,
 * apart for the tests). */
uintptr_t lm_clock_maps_vvar(int fd);

/* Where the kernel keeps CLOCK_MONOTONIC_COARSE for the vDSO: two words,
 * seconds then nanoseconds, in the first page of the [vvar] mapping. Found
 * once by matching a clock_gettime result there; NULL when not found
 * exactly once (no vDSO, a time namespace, another layout) or when
 * clock_gettime is not libc's. Lets a hit
 * read the coarse clock with two loads instead of a call;
 * lm_clock_rough_ms reads them from then on. */
const volatile int64_t *lm_clock_coarse_words(void);
/* The words lm_clock_rough_ms reads from now on (NULL: none): those
 * lm_clock_coarse_words found, or a test's. Returns the ones it read
 * before. */
const volatile int64_t *lm_clock_use_words(const volatile int64_t *w);
/* Whether the clock_gettime the process calls is libc's own. A program or
 * a preloaded library (a test skewing time, libfaketime) may define its
 * own: TTLs then follow it, so the shim neither reads the kernel's words
 * nor calls the vDSO directly. */
bool lm_clock_is_libc(void);
/* Whether the words found still agree with the vDSO's clock (within the
 * 10 ms of slack TTLs allow); when not, lm_clock_rough_ms stops reading
 * them. */
bool lm_clock_coarse_check(void);

#endif

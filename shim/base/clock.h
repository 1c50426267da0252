/* The shim's clocks (clock.c): both read through the vDSO, no system call. */
#ifndef LM_CLOCK_H
#define LM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Monotonic milliseconds, coarse (CLOCK_MONOTONIC_COARSE): the time base
 * of TTLs and deadlines, cheap enough for the hit path; two loads once
 * lm_clock_coarse_words found the kernel's words, else a vDSO call. */
int64_t lm_clock_ms(void);
/* Monotonic nanoseconds: what misses and the time they save are measured
 * in. */
int64_t lm_now_ns(void);
/* Where the kernel keeps CLOCK_MONOTONIC_COARSE for the vDSO: two words,
 * seconds then nanoseconds, in the first page of the [vvar] mapping. Found
 * once by matching a clock_gettime result there; NULL when not found
 * exactly once (no vDSO, a time namespace, another layout) or when
 * clock_gettime is not libc's. Lets a hit
 * read the coarse clock with two loads instead of a call; lm_clock_ms
 * reads them from then on. */
const volatile int64_t *lm_clock_coarse_words(void);
/* Whether the clock_gettime the process calls is libc's own. A program or
 * a preloaded library (a test skewing time, libfaketime) may define its
 * own: TTLs then follow it, so the shim neither reads the kernel's words
 * nor calls the vDSO directly. */
bool lm_clock_is_libc(void);
/* Whether the words found still agree with the vDSO's clock (within the
 * 10 ms of slack TTLs allow); when not, lm_clock_ms stops reading them. */
bool lm_clock_coarse_check(void);

#endif

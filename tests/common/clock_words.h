/* The kernel's coarse clock words as a test sets them (lm_clock_use_words,
 * lm_fast_coarse): seconds, then nanoseconds. */
#ifndef TESTS_COMMON_CLOCK_WORDS_H
#define TESTS_COMMON_CLOCK_WORDS_H

#include <stdint.h>

/* W reads MS milliseconds, as a torn reading of the words may. */
static inline void lm_test_words_at(int64_t ms, int64_t w[2])
{
	w[0] = ms / 1000;
	w[1] = ms % 1000 * 1000000;
}

#endif

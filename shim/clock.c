/* The millisecond clock of TTLs and deadlines: coarse, monotonic, and read
 * through the vDSO, so cheap enough for the hit path. */
#include <time.h>

#include "store.h"

int64_t lm_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

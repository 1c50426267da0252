/* The shim's clocks (clock.h). */
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "maps.h"

/* The kernel's coarse clock words once found (lm_clock_coarse_words). */
static const volatile int64_t *_Atomic coarse;

int64_t lm_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lm_clock_rough_ms(void)
{
	const volatile int64_t *w = atomic_load_explicit(&coarse, memory_order_relaxed);
	if (w) {
		/* Seconds read twice around the nanoseconds: a tick written
		 * between the loads takes the call instead. */
		int64_t sec = w[0], ns = w[1];
		if (w[0] == sec)
			return sec * 1000 + ns / 1000000;
	}
	return lm_clock_ms();
}

const volatile int64_t *lm_clock_use_words(const volatile int64_t *w)
{
	return atomic_exchange_explicit(&coarse, w, memory_order_relaxed);
}

bool lm_clock_reached_slow(int64_t t)
{
	return lm_clock_ms() >= t;
}

/* The words' time agrees with the vDSO's within 10 ms, or a tick fell
 * between the loads (no verdict). */
static bool words_agree(const volatile int64_t *w)
{
	int64_t sec = w[0], ns = w[1];
	if (w[0] != sec)
		return true;
	int64_t d = sec * 1000 + ns / 1000000 - lm_clock_ms();
	return d >= -10 && d <= 10;
}

bool lm_clock_coarse_check(void)
{
	const volatile int64_t *w = atomic_load_explicit(&coarse, memory_order_relaxed);
	if (!w)
		return false;
	/* twice: one reading may be torn (clock.h), two in a row are not */
	for (int i = 0; i < 2; i++)
		if (words_agree(w))
			return true;
	lm_clock_use_words(NULL);
	return false;
}

int64_t lm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool libc_clock;
static pthread_once_t libc_clock_once = PTHREAD_ONCE_INIT;

/* By the object that defines the clock_gettime the process resolves
 * (_dl_find_object, not dladdr: dladdr walks every symbol of the object,
 * a tenth of the shim's start-up; not dlopen: the shim's own, which the
 * tier plugins do not link).
 * A sanitizer's interceptor, which only forwards to libc's, counts as
 * libc's: it is the one a sanitized program resolves. */
static void find_libc_clock(void)
{
	void *g = dlsym(RTLD_DEFAULT, "clock_gettime");
	struct dl_find_object fo;
	const char *base;

	if (g && g == dlsym(RTLD_DEFAULT, "__interceptor_clock_gettime")) {
		libc_clock = true;
		return;
	}
	libc_clock = g && _dl_find_object(g, &fo) == 0 && fo.dlfo_link_map &&
	             (base = strrchr(fo.dlfo_link_map->l_name, '/')) &&
	             strcmp(base, "/libc.so.6") == 0;
}

bool lm_clock_is_libc(void)
{
	pthread_once(&libc_clock_once, find_libc_clock);
	return libc_clock;
}

/* The line's path field (after address, permissions, offset, device and
 * inode) is exactly "[vvar]": a file may be named "x [vvar]". A cut line
 * is not [vvar]'s, whatever its head reads. */
static int take_vvar(const char *line, size_t len, void *arg)
{
	const char *p = line;
	if (len > LM_MAPS_HEAD)
		return 0;
	for (int field = 0; field < 5; field++) {
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	if (strcmp(p, "[vvar]") != 0)
		return 0;
	*(uintptr_t *)arg = lm_maps_hex(&line);
	return 1;
}

uintptr_t lm_clock_maps_vvar(int fd)
{
	uintptr_t lo = 0;
	lm_maps_lines(fd, take_vvar, &lo);
	return lo;
}

/* The first page of [vvar], from /proc/self/maps; 0 if none. Only that
 * page: others of the mapping may fault when their clock is not in use.
 * Read with read(), not stdio (maps.h). */
static uintptr_t vvar_page(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	uintptr_t lo = lm_clock_maps_vvar(fd);
	close(fd);
	return lo;
}

const volatile int64_t *lm_clock_coarse_words(void)
{
	uintptr_t page = lm_clock_is_libc() ? vvar_page() : 0;
	if (!page)
		return NULL;
	const volatile int64_t *w = lm_ptr(page);
	size_t nw = 4096 / sizeof(*w);
	/* A tick during the scan would hide the match: a few attempts. */
	for (int attempt = 0; attempt < 3; attempt++) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &a);
		const volatile int64_t *found = NULL;
		int n = 0;
		for (size_t i = 0; i + 1 < nw; i++)
			if (w[i] == a.tv_sec && w[i + 1] == a.tv_nsec) {
				found = &w[i];
				n++;
			}
		clock_gettime(CLOCK_MONOTONIC_COARSE, &b);
		if (a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec) {
			if (n != 1)
				return NULL;
			lm_clock_use_words(found);
			return found;
		}
	}
	return NULL;
}

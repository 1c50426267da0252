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

/* The address a line of /proc/self/maps starts with. */
static uintptr_t line_start(const char *line)
{
	uintptr_t v = 0;
	for (;; line++) {
		unsigned d;
		if (*line >= '0' && *line <= '9')
			d = (unsigned)(*line - '0');
		else if (*line >= 'a' && *line <= 'f')
			d = (unsigned)(*line - 'a' + 10);
		else
			return v;
		v = v << 4 | d;
	}
}

/* The line's path field (after address, permissions, offset, device and
 * inode) is exactly "[vvar]": a file may be named "x [vvar]". */
static bool names_vvar(const char *line)
{
	for (int field = 0; field < 5; field++) {
		while (*line && *line != ' ')
			line++;
		while (*line == ' ')
			line++;
	}
	return strcmp(line, "[vvar]") == 0;
}

uintptr_t lm_clock_maps_vvar(int fd)
{
	char buf[2048];
	size_t have = 0;
	uintptr_t lo = 0;
	bool skipping = false; /* the rest of a line longer than the buffer */
	ssize_t n;
	while ((n = read(fd, buf + have, sizeof buf - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		char *line = buf, *nl;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			*nl = '\0';
			if (!skipping && names_vvar(line))
				lo = line_start(line);
			skipping = false;
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == sizeof buf - 1) { /* too long for [vvar]'s: dropped to its end */
			have = 0;
			skipping = true;
		}
	}
	return lo;
}

/* The first page of [vvar], from /proc/self/maps; 0 if none. Only that
 * page: others of the mapping may fault when their clock is not in use.
 * Read with read(), not stdio: fopen and sscanf would touch pages of libc
 * (a page fault each) that a program starting up has not used. */
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

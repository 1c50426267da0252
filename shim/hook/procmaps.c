/* /proc/self/maps and /proc/self/status, read with plain system calls. */
#include "procmaps.h"
#include "shim/base/guard.h"
#include "shim/base/maps.h"
#include "shim/base/section.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct foreach {
	int (*cb)(uintptr_t start, uintptr_t end, int prot, void *arg);
	void *arg;
};

/* "start-end rwxp ..." */
static int each_line(const char *l, size_t len, void *arg)
{
	const struct foreach *f = arg;
	uintptr_t start, end;
	(void)len;

	start = lm_maps_hex(&l);
	if (*l++ != '-')
		return 0;
	end = lm_maps_hex(&l);
	if (*l++ != ' ' || strlen(l) < 3)
		return 0;
	return f->cb(start, end,
	             (l[0] == 'r' ? PROT_READ : 0) | (l[1] == 'w' ? PROT_WRITE : 0) |
	                 (l[2] == 'x' ? PROT_EXEC : 0),
	             f->arg);
}

int lm_maps_foreach(int (*cb)(uintptr_t start, uintptr_t end, int prot, void *arg), void *arg)
{
	struct foreach f = {cb, arg};
	LM_KEEP_ERRNO();
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = lm_maps_lines(fd, each_line, &f);
	close(fd);
	return rc;
}

struct prot_query {
	uintptr_t addr;
	int prot;
};

static int find_prot(uintptr_t start, uintptr_t end, int prot, void *arg)
{
	struct prot_query *q = arg;

	if (q->addr >= start && q->addr < end) {
		q->prot = prot;
		return 1;
	}
	return 0;
}

/* The held reading: static, as the shim reads maps without malloc. */
#define HELD_MAX 8192
static struct held {
	uintptr_t start, end;
	int prot;
} held[HELD_MAX] LM_LARGE_BSS __attribute__((aligned(4096))); /* a short reading: one page */
static size_t nheld;
static bool holding;
/* The thread count read while holding, when it was 1: alone, we are the
 * only one that could start another, and the holder does not. */
static bool held_alone;

static int keep(uintptr_t start, uintptr_t end, int prot, void *arg)
{
	(void)arg;
	if (nheld == HELD_MAX)
		return 1;
	held[nheld++] = (struct held){start, end, prot};
	return 0;
}

/* The reading is made at the first question, not at the hold: what the
 * holder loads before (libZydis for the first detour) is in it, and a
 * batch that asks nothing reads nothing. */
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static bool held_read, held_ok;

void lm_maps_hold(void)
{
	pthread_mutex_lock(&held_lock);
	nheld = 0;
	held_read = false;
	__atomic_store_n(&held_alone, false, __ATOMIC_RELAXED);
	__atomic_store_n(&holding, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&held_lock);
}

void lm_maps_release(void)
{
	__atomic_store_n(&holding, false, __ATOMIC_RELEASE);
	__atomic_store_n(&held_alone, false, __ATOMIC_RELAXED);
}

/* Is a reading held (read now if not yet)? Too many mappings to hold:
 * every question is read live. */
static bool held_ready(void)
{
	bool ok;

	if (!__atomic_load_n(&holding, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&held_lock);
	if (!held_read) {
		nheld = 0;
		held_ok = lm_maps_foreach(keep, NULL) == 0;
		held_read = true;
	}
	ok = held_ok;
	pthread_mutex_unlock(&held_lock);
	return ok;
}

int lm_maps_foreach_held(int (*cb)(uintptr_t start, uintptr_t end, int prot, void *arg), void *arg)
{
	if (!held_ready())
		return lm_maps_foreach(cb, arg);
	for (size_t i = 0; i < nheld; i++) {
		int rc = cb(held[i].start, held[i].end, held[i].prot, arg);

		if (rc)
			return rc;
	}
	return 0;
}

/* The held protection of ADDR (the reading is in address order), or -1. */
static int held_prot(uintptr_t addr)
{
	size_t lo = 0, hi = nheld;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < held[mid].start)
			hi = mid;
		else if (addr >= held[mid].end)
			lo = mid + 1;
		else
			return held[mid].prot;
	}
	return -1;
}

int lm_maps_prot(uintptr_t addr)
{
	struct prot_query q = {addr, -1};

	if (held_ready()) {
		int prot = held_prot(addr);

		if (prot >= 0)
			return prot;
	}

	lm_maps_foreach(find_prot, &q);
	return q.prot;
}

int lm_thread_count(void)
{
	char buf[4096];
	const char *p;
	LM_KEEP_ERRNO();
	int fd, n = -1;
	ssize_t got;
	bool hold = __atomic_load_n(&holding, __ATOMIC_ACQUIRE);

	if (hold && __atomic_load_n(&held_alone, __ATOMIC_RELAXED))
		return 1;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got > 0) {
		buf[got] = 0;
		p = strstr(buf, "\nThreads:");
		if (p)
			n = atoi(p + 9);
	}
	if (hold && n == 1)
		__atomic_store_n(&held_alone, true, __ATOMIC_RELAXED);
	return n;
}

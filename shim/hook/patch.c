/* Patching live code and relocation slots.
 *
 * Code: a thread may execute the target while we write the jump. We only
 * write when the new bytes fit in one aligned 16-byte block, with a single
 * `lock cmpxchg16b`: the block lies in one cache line and the store is one
 * atomic memory operation, so an instruction fetch sees either the old or
 * the new bytes, never a mix (x86 keeps instruction caches coherent, so no
 * flush is needed; the remaining cross-modification hazard, a thread
 * stopped between two of the overwritten instructions, is accepted as
 * funchook and uftrace do). Longer or misaligned patches are written only
 * while the process has one thread. The page is made writable with
 * PROT_EXEC kept, because other code on it may be running, and its
 * protection is restored right after. */
#include "patch.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/base/addr.h"
#include "procmaps.h"
#include "shim/base/guard.h"

/* one writer at a time: two writers on one page would restore its
 * protection under each other's feet */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uintptr_t page_of(uintptr_t a)
{
	return a & ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);
}

bool lm_patch_atomic(uintptr_t dst, unsigned n)
{
	return n <= 16 && (dst & ~(uintptr_t)15) == ((dst + n - 1) & ~(uintptr_t)15);
}

/* One lock cmpxchg16b of the aligned block at BLK: OLD (updated on a
 * mismatch) to NEW. */
static bool cas16(volatile unsigned __int128 *blk, uint64_t old[2], const uint64_t new[2])
{
	bool done;

	__asm__ __volatile__("lock cmpxchg16b %1"
	                     : "=@ccz"(done), "+m"(*blk), "+a"(old[0]), "+d"(old[1])
	                     : "b"(new[0]), "c"(new[1])
	                     : "memory");
	return done;
}

static void store16(uintptr_t dst, const unsigned char *bytes, unsigned n)
{
	volatile unsigned __int128 *blk = lm_ptr(dst & ~(uintptr_t)15);
	unsigned off = (unsigned)(dst & 15);
	uint64_t old[2], new[2];

	memcpy(old, lm_ptr(dst & ~(uintptr_t)15), 16);
	do {
		memcpy(new, old, 16);
		memcpy((unsigned char *)new + off, bytes, n);
	} while (!cas16(blk, old, new));
}

static int unprotect(uintptr_t first, uintptr_t last, int *prot)
{
	*prot = lm_maps_prot(first);
	if (*prot < 0 || lm_maps_prot(last) != *prot)
		return -1;
	return mprotect(lm_ptr(first), last - first + (uintptr_t)sysconf(_SC_PAGESIZE),
	                *prot | PROT_WRITE);
}

static void reprotect(uintptr_t first, uintptr_t last, int prot)
{
	mprotect(lm_ptr(first), last - first + (uintptr_t)sysconf(_SC_PAGESIZE), prot);
}

/* In a batch, the pages last made writable stay so until a patch elsewhere
 * or the batch's end: one mprotect pair per page, not per patch. */
static bool batching;
static struct {
	uintptr_t first, last;
	int prot;
	bool on;
} pending;

static void flush_pending(void)
{
	if (pending.on)
		reprotect(pending.first, pending.last, pending.prot);
	pending.on = false;
}

void lm_patch_batch_begin(void)
{
	pthread_mutex_lock(&lock);
	batching = true;
	pthread_mutex_unlock(&lock);
}

void lm_patch_batch_end(void)
{
	LM_KEEP_ERRNO();

	pthread_mutex_lock(&lock);
	flush_pending();
	batching = false;
	pthread_mutex_unlock(&lock);
}

int lm_patch_code(uintptr_t dst, const unsigned char *bytes, unsigned n, char *why, size_t whylen)
{
	uintptr_t first = page_of(dst), last = page_of(dst + n - 1);
	bool atomic = lm_patch_atomic(dst, n);
	LM_KEEP_ERRNO();
	int prot, rc = -1;

	pthread_mutex_lock(&lock);
	bool same = pending.on && pending.first == first && pending.last == last;
	if (!same)
		flush_pending();
	if (!atomic && (n > 16 || lm_thread_count() != 1)) {
		snprintf(why, whylen,
		         "other threads run and the %u-byte patch at 0x%lx cannot be "
		         "written atomically",
		         n, (unsigned long)dst);
	} else if (same) {
		if (atomic)
			store16(dst, bytes, n);
		else
			memcpy(lm_ptr(dst), bytes, n);
		rc = 0;
	} else if (unprotect(first, last, &prot)) {
		snprintf(why, whylen, "cannot make the code at 0x%lx writable: %s",
		         (unsigned long)dst, strerror(errno));
	} else {
		if (atomic)
			store16(dst, bytes, n);
		else
			memcpy(lm_ptr(dst), bytes, n);
		if (batching)
			pending = (typeof(pending)){first, last, prot, true};
		else
			reprotect(first, last, prot);
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int lm_patch_slot(uintptr_t slot, uintptr_t value)
{
	uintptr_t pg = page_of(slot);
	LM_KEEP_ERRNO();
	int prot, rc = -1;

	if (slot & 7)
		return -1;
	pthread_mutex_lock(&lock);
	flush_pending();
	prot = lm_maps_prot(slot);
	if (prot >= 0 && (prot & PROT_WRITE)) {
		__atomic_store_n((uintptr_t *)lm_ptr(slot), value, __ATOMIC_RELEASE);
		rc = 0;
	} else if (prot >= 0 && !unprotect(pg, pg, &prot)) {
		__atomic_store_n((uintptr_t *)lm_ptr(slot), value, __ATOMIC_RELEASE);
		reprotect(pg, pg, prot);
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* tpool: per-thread blocks handed from ending threads to new ones. */
#include "tpool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Distinct block sizes the pool keeps; a thread's blocks come in few
 * sizes (the buffers' and tables' grow by doubling). A size past these
 * goes to malloc and back to free, as before the pool. */
#define NCLASS 32
#define ALIGN  64
/* A new block this large is mapped: the kernel's pages are zero already,
 * and only those the thread touches are ever made. Zeroed by memset, the
 * fast table's 128 KiB cost a short process's first call about 30 page
 * faults (issue 22). */
#define MAP_MIN (64 * 1024)

struct free_block {
	struct free_block *next;
};

static struct {
	size_t size;
	struct free_block *head;
} classes[NCLASS];
static unsigned nclass;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* fork: the child starts with the lock free. It is not held across the
 * fork (a thread may grow a pooled buffer under another lock that a fork
 * handler takes, as the Redis plugin's). A child that forked amid another
 * thread's take or give finds the lists whole: each update publishes its
 * block last (a release store), so at worst that block is lost to the
 * child. */
static void fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

static size_t rounded(size_t size)
{
	return size > SIZE_MAX - ALIGN ? 0 : (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

/* The class of SIZE, made when ADD; -1 when none. Under the lock. */
static int class_of(size_t size, int add)
{
	for (unsigned i = 0; i < nclass; i++)
		if (classes[i].size == size)
			return (int)i;
	if (!add || nclass == NCLASS)
		return -1;
	classes[nclass].size = size;
	__atomic_store_n(&nclass, nclass + 1, __ATOMIC_RELEASE);
	return (int)nclass - 1;
}

void *lm_tpool_take(size_t size)
{
	size_t n = rounded(size);
	if (n == 0)
		return NULL;
	pthread_once(&fork_once, register_atfork);
	struct free_block *b = NULL;
	pthread_mutex_lock(&lock);
	int c = class_of(n, 0);
	if (c >= 0 && classes[c].head) {
		b = classes[c].head;
		__atomic_store_n(&classes[c].head, b->next, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lock);
	if (!b && n >= MAP_MIN) {
		void *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return m == MAP_FAILED ? NULL : m;
	}
	if (!b && !(b = aligned_alloc(ALIGN, n)))
		return NULL;
	memset(b, 0, n);
	return b;
}

void lm_tpool_give(void *p, size_t size)
{
	if (!p)
		return;
	struct free_block *b = p;
	pthread_mutex_lock(&lock);
	int c = class_of(rounded(size), 1);
	if (c >= 0) {
		b->next = classes[c].head;
		__atomic_store_n(&classes[c].head, b, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lock);
	if (c >= 0)
		return;
	if (rounded(size) >= MAP_MIN)
		munmap(p, rounded(size));
	else
		free(p);
}

/* A typical hand-written memoizing wrapper: an LD_PRELOAD library that
 * exports the same names, finds the real functions with dlsym(RTLD_NEXT)
 * and keeps one uthash table per function behind a pthread mutex. No TTL,
 * no bound. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "benchfn.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct lent {
	long k;
	long v;
	UT_hash_handle hh;
};

struct dent {
	double k;
	double v;
	UT_hash_handle hh;
};

struct sent {
	long v;
	UT_hash_handle hh;
	char k[];
};

struct uent {
	long k;
	int ret;
	char out[64];
	UT_hash_handle hh;
};

long f(long x)
{
	static struct lent *tab;
	static long (*orig)(long);
	struct lent *e;
	pthread_mutex_lock(&lock);
	HASH_FIND(hh, tab, &x, sizeof x, e);
	if (e) {
		long v = e->v;
		pthread_mutex_unlock(&lock);
		return v;
	}
	if (!orig)
		orig = (long (*)(long))dlsym(RTLD_NEXT, "f");
	pthread_mutex_unlock(&lock);
	long v = orig(x);
	pthread_mutex_lock(&lock);
	HASH_FIND(hh, tab, &x, sizeof x, e);
	if (!e && (e = malloc(sizeof *e))) {
		e->k = x;
		e->v = v;
		HASH_ADD(hh, tab, k, sizeof e->k, e);
	}
	pthread_mutex_unlock(&lock);
	return v;
}

double g(double x)
{
	static struct dent *tab;
	static double (*orig)(double);
	struct dent *e;
	pthread_mutex_lock(&lock);
	HASH_FIND(hh, tab, &x, sizeof x, e);
	if (e) {
		double v = e->v;
		pthread_mutex_unlock(&lock);
		return v;
	}
	if (!orig)
		orig = (double (*)(double))dlsym(RTLD_NEXT, "g");
	pthread_mutex_unlock(&lock);
	double v = orig(x);
	pthread_mutex_lock(&lock);
	HASH_FIND(hh, tab, &x, sizeof x, e);
	if (!e && (e = malloc(sizeof *e))) {
		e->k = x;
		e->v = v;
		HASH_ADD(hh, tab, k, sizeof e->k, e);
	}
	pthread_mutex_unlock(&lock);
	return v;
}

long h(const char *s)
{
	static struct sent *tab;
	static long (*orig)(const char *);
	struct sent *e;
	size_t n = strlen(s);
	pthread_mutex_lock(&lock);
	HASH_FIND(hh, tab, s, n, e);
	if (e) {
		long v = e->v;
		pthread_mutex_unlock(&lock);
		return v;
	}
	if (!orig)
		orig = (long (*)(const char *))dlsym(RTLD_NEXT, "h");
	pthread_mutex_unlock(&lock);
	long v = orig(s);
	pthread_mutex_lock(&lock);
	HASH_FIND(hh, tab, s, n, e);
	if (!e && (e = malloc(sizeof *e + n + 1))) {
		memcpy(e->k, s, n + 1);
		e->v = v;
		HASH_ADD_KEYPTR(hh, tab, e->k, n, e);
	}
	pthread_mutex_unlock(&lock);
	return v;
}

int u(long id, char out[64])
{
	static struct uent *tab;
	static int (*orig)(long, char *);
	struct uent *e;
	pthread_mutex_lock(&lock);
	HASH_FIND(hh, tab, &id, sizeof id, e);
	if (e) {
		memcpy(out, e->out, 64);
		int r = e->ret;
		pthread_mutex_unlock(&lock);
		return r;
	}
	if (!orig)
		orig = (int (*)(long, char *))dlsym(RTLD_NEXT, "u");
	pthread_mutex_unlock(&lock);
	int r = orig(id, out);
	pthread_mutex_lock(&lock);
	HASH_FIND(hh, tab, &id, sizeof id, e);
	if (!e && (e = malloc(sizeof *e))) {
		e->k = id;
		e->ret = r;
		memcpy(e->out, out, 64);
		HASH_ADD(hh, tab, k, sizeof e->k, e);
	}
	pthread_mutex_unlock(&lock);
	return r;
}

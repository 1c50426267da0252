#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shim/base/log.h"
#include "persist_format.h"
#include "shim/call/runtime.h"
#include "shim/base/clock.h"
#include "shim/base/guard.h"
#include "shim/base/trust.h"

/* The process that loaded the file; only it writes the file back. */
static pid_t owner;

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *namespace_of(const struct lm_runtime *rt)
{
	extern char *program_invocation_short_name;
	const char *ns = rt->cfg.global.namespace_;
	return ns ? ns : program_invocation_short_name;
}

static bool persistable(const struct lm_rt_method *m)
{
	return !m->cfg->invalidator && m->plan && !lm_plan_local_only(m->plan);
}

static bool same(const char *s, const char *p, uint32_t len)
{
	return strlen(s) == len && memcmp(s, p, len) == 0;
}

/* ---- Loading --------------------------------------------------------------- */

/* The process that found PATH holding something else than a cache (or a
 * file it may not trust) at start: it never writes PATH. */
static bool hands_off;

/* The head of a file to be read: magic bytes first, so that a foreign
 * file is told apart whatever its size. */
#define HEAD 8

struct pfile {
	void *buf;
	size_t len;
	int64_t mtime_wall_ms; /* when the file was written */
	bool foreign;          /* not a cache file: never written over */
};

/* Read the file at PATH, opened through the trust check (trust.h: a FIFO
 * or another user's file is refused, never waited for). 0, or -1 with
 * errno set and, when it was refused, the reason in WHY. */
static int read_file(const char *path, uint64_t limit, struct pfile *pf, char *why, size_t wlen)
{
	*pf = (struct pfile){0};
	int fd = lm_trust_open(path, "cache file", why, wlen);
	if (fd < 0)
		return -1;
	struct stat st;
	int rc = -1;
	if (fstat(fd, &st) != 0)
		goto out;
	pf->mtime_wall_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	size_t n = (size_t)st.st_size < limit ? (size_t)st.st_size : (size_t)limit;
	pf->buf = malloc(n > HEAD ? n : HEAD);
	if (!pf->buf)
		goto out;
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, (char *)pf->buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	pf->len = got; /* a file that shrank meanwhile fails its checksum */
	pf->foreign = !lm_persist_magic(pf->buf, got);
	if (!pf->foreign && (uint64_t)st.st_size > limit) {
		errno = EFBIG;
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* For each method of the file, the runtime method it feeds, or UINT32_MAX. */
static uint32_t *map_methods(const struct lm_runtime *rt, const struct lm_persist_file *f,
                             const char *path)
{
	uint32_t *map = malloc((f->nmethods ? f->nmethods : 1) * sizeof *map);
	if (!map)
		return NULL;
	for (uint32_t i = 0; i < f->nmethods; i++) {
		const struct lm_persist_mref *fm = &f->methods[i];
		map[i] = UINT32_MAX;
		for (uint32_t id = 0; id < rt->nmethods; id++) {
			const struct lm_rt_method *m = &rt->methods[id];
			if (!persistable(m) || !same(m->cfg->name, fm->name, fm->name_len))
				continue;
			if (lm_plan_fingerprint(m->plan) == fm->fingerprint)
				map[i] = id;
			else if (fm->fingerprint != 0)
				lm_warn("%s: %s: written for another signature: its entries are "
				        "ignored",
				        path, m->cfg->name);
			break;
		}
	}
	return map;
}

/* The longest a loaded entry may live: the method's TTL as configured now
 * (it may have been shortened since the file was written). */
static int64_t ttl_cap(const struct lm_rt_method *m)
{
	return m->ttl_ms > m->negative_ttl_ms ? m->ttl_ms : m->negative_ttl_ms;
}

/* A loaded entry expires at the sooner of its stored expiry and its
 * method's current TTL counted from the file's writing: every entry is at
 * least as old as the file, so a TTL lowered since (ttl = never, then 1s)
 * holds for it. */
static size_t load_records(const struct lm_runtime *rt, const struct lm_persist_file *f,
                           const uint32_t *map, int64_t written_wall)
{
	int64_t now_wall = wall_ms(), now = lm_clock_ms();
	size_t off = 0, loaded = 0;
	struct lm_persist_rec r;
	while (lm_persist_next(f, &off, &r)) {
		uint32_t id = map[r.method];
		if (id == UINT32_MAX)
			continue;
		int64_t cap = ttl_cap(&rt->methods[id]);
		if (r.expires_wall_ms <= now_wall || cap <= 0)
			continue;
		int64_t left =
		    r.expires_wall_ms == LM_DUR_NEVER ? LM_DUR_NEVER : r.expires_wall_ms - now_wall;
		if (cap != LM_DUR_NEVER) {
			/* written_wall is in the past (or a clock step away). */
			int64_t age = now_wall > written_wall ? now_wall - written_wall : 0;
			int64_t by_ttl = cap - age;
			if (by_ttl <= 0)
				continue;
			if (by_ttl < left)
				left = by_ttl;
		}
		/* Saturating: a far expiry from the file must not wrap around. */
		int64_t exp = left >= LM_DUR_NEVER - now ? LM_DUR_NEVER : now + left;
		loaded += (size_t)lm_store_put(rt->store, id, lm_key_hash(r.key, r.klen), r.key,
		                               r.klen, r.val, r.vlen, exp);
	}
	return loaded;
}

/* Whether the file header is for this program and namespace. */
static bool ours(const struct lm_runtime *rt, const struct lm_persist_file *f, const char *path)
{
	const char *prog = rt->program;
	if (!same(prog, f->program, f->program_len)) {
		lm_warn("%s: written by %.*s, not %s: ignored", path, (int)f->program_len,
		        f->program, prog);
		return false;
	}
	const char *ns = namespace_of(rt);
	if (!same(ns, f->namespace_, f->namespace_len)) {
		lm_warn("%s: written for namespace %.*s, not %s: ignored", path,
		        (int)f->namespace_len, f->namespace_, ns);
		return false;
	}
	return true;
}

/* lm_persist_load's work, apart: its buffers' stack pages are touched
 * (the compiler probes them) only when a cache file is configured. */
static __attribute__((noinline)) void load(struct lm_runtime *rt, const char *path)
{
	owner = getpid();
	LM_KEEP_ERRNO();
	/* The writer held at most the store's content. */
	uint64_t limit = rt->cfg.global.max_memory;
	limit = limit > UINT64_MAX / 4 ? UINT64_MAX / 2 : 2 * limit + (1u << 20);
	struct pfile pf;
	char refused[PATH_MAX + 160];
	if (read_file(path, limit, &pf, refused, sizeof refused) != 0) {
		if (refused[0]) {
			hands_off = true;
			lm_warn("%s: nothing is loaded or persisted", refused);
		} else if (errno == ENOENT) {
			lm_info("%s: no persisted cache yet", path);
		} else {
			lm_warn("%s: cannot read the persisted cache: %s", path, strerror(errno));
		}
		free(pf.buf);
		return;
	}
	if (pf.foreign) {
		hands_off = true;
		lm_warn("%s: not an ldmemo cache file: ignored, and not written over", path);
		free(pf.buf);
		return;
	}
	struct lm_persist_file f;
	enum lm_persist_status st = lm_persist_parse(pf.buf, pf.len, &f);
	static const char *const why[] = {
	    [LM_PERSIST_E_FOREIGN] = "not an ldmemo cache file",
	    [LM_PERSIST_E_VERSION] = "another format version",
	    [LM_PERSIST_E_DAMAGED] = "damaged",
	    [LM_PERSIST_E_NOMEM] = "out of memory",
	};
	if (st != LM_PERSIST_OK) {
		lm_warn("%s: %s: ignored", path, why[st]);
	} else if (ours(rt, &f, path)) {
		uint32_t *map = map_methods(rt, &f, path);
		if (map) {
			size_t n = load_records(rt, &f, map, pf.mtime_wall_ms);
			lm_info("%s: loaded %zu of %llu entries", path, n,
			        (unsigned long long)f.nrecs);
		}
		free(map);
	}
	lm_persist_file_free(&f);
	free(pf.buf);
}

void lm_persist_load(struct lm_runtime *rt)
{
	if (rt->cfg.global.persist)
		load(rt, rt->cfg.global.persist);
}

/* ---- Saving ---------------------------------------------------------------- */

struct save_ctx {
	struct lm_persist_writer *w;
	const bool *keep;
	int64_t now, now_wall;
	size_t n;
};

/* Runs under a shard lock: only encodes. */
static void save_entry(const struct lm_entry *e, void *arg)
{
	struct save_ctx *c = arg;
	uint32_t id = lm_entry_method(e);
	if (!c->keep[id])
		return;
	int64_t exp = lm_entry_expires_ms(e);
	int64_t wall = exp == LM_DUR_NEVER ? LM_DUR_NEVER : c->now_wall + (exp - c->now);
	uint32_t klen;
	size_t vlen;
	const void *key = lm_entry_key(e, &klen);
	const void *val = lm_entry_value(e, &vlen);
	lm_persist_record(c->w, id, key, klen, val, vlen, wall);
	c->n++;
}

/* Write the file into FD; *N: the entries written. 0, or -1. */
static int encode(struct lm_runtime *rt, int fd, const bool *keep, size_t *n)
{
	struct lm_persist_method *hm = calloc(rt->nmethods ? rt->nmethods : 1, sizeof *hm);
	if (!hm)
		return -1;
	for (uint32_t id = 0; id < rt->nmethods; id++) {
		hm[id].name = rt->methods[id].cfg->name;
		/* 0: this method's entries are not in the file. */
		hm[id].fingerprint = keep[id] ? lm_plan_fingerprint(rt->methods[id].plan) : 0;
	}
	const char *prog = rt->program;
	struct save_ctx c = {
	    .w = lm_persist_begin(fd, prog, namespace_of(rt), hm, rt->nmethods),
	    .keep = keep,
	    .now = lm_clock_ms(),
	    .now_wall = wall_ms(),
	};
	free(hm);
	if (!c.w)
		return -1;
	lm_store_each(rt->store, save_entry, &c);
	*n = c.n;
	return lm_persist_finish(c.w);
}

/* Make the rename itself durable. */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* What PATH holds now may be written over: nothing, or a cache file (one
 * that appeared since start-up included). Says why not otherwise. */
static bool may_replace(const char *path)
{
	char why[PATH_MAX + 160];
	int fd = lm_trust_open(path, "cache file", why, sizeof why);
	if (fd < 0) {
		int err = errno;
		if (why[0])
			lm_warn("%s: not persisted", why);
		else if (err != ENOENT)
			lm_warn("%s: not persisted: %s", path, strerror(err));
		return !why[0] && err == ENOENT;
	}
	unsigned char head[HEAD];
	ssize_t n = read(fd, head, sizeof head);
	close(fd);
	if (n > 0 && lm_persist_magic(head, (size_t)n))
		return true;
	lm_warn("%s: not an ldmemo cache file: not written over", path);
	return false;
}

static int write_atomically(struct lm_runtime *rt, const char *path, const bool *keep)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0)
		return -1;
	size_t n = 0;
	int rc = encode(rt, fd, keep, &n);
	if (rc == 0)
		rc = fsync(fd);
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0 && !may_replace(path)) {
		unlink(tmp);
		return 0;
	}
	if (rc == 0)
		rc = rename(tmp, path);
	if (rc != 0) {
		int err = errno;
		unlink(tmp);
		errno = err;
		return -1;
	}
	sync_dir(path);
	lm_info("%s: persisted %zu entries", path, n);
	return 0;
}

void lm_persist_save(struct lm_runtime *rt)
{
	const char *path = rt->cfg.global.persist;
	if (!path || owner != getpid() || hands_off)
		return;
	bool *keep = calloc(rt->nmethods ? rt->nmethods : 1, sizeof *keep);
	if (!keep)
		return;
	bool hooked = false;
	for (uint32_t id = 0; id < rt->nmethods; id++) {
		const struct lm_rt_method *m = &rt->methods[id];
		keep[id] = persistable(m);
		hooked |= keep[id] && (m->state == LM_HS_DETOUR || m->state == LM_HS_GOT);
	}
	LM_KEEP_ERRNO();
	if (hooked && write_atomically(rt, path, keep) != 0)
		lm_warn("%s: cannot persist the cache: %s", path, strerror(errno));
	free(keep);
}

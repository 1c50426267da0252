/* Where the dynamic linker would find a DT_NEEDED library: RPATH/RUNPATH
 * (with $ORIGIN), LD_LIBRARY_PATH, /etc/ld.so.cache and the default
 * directories, in ld.so(8)'s order. Candidates are offered to a callback
 * that opens them, so a library of the wrong class is passed over as the
 * dynamic linker passes it over. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

#define CACHE_MAGIC_NEW  "glibc-ld.so.cache1.1"
#define CACHE_MAGIC_OLD  "ld.so-1.7.0"
#define FLAG_TYPE_MASK   0x00ff
#define FLAG_ELF_LIBC6   0x0003
#define FLAG_ARCH_MASK   0xff00
#define FLAG_X8664_LIB64 0x0300
#define MAX_CACHE_SIZE   (64u << 20)

struct lm_ldcache {
	char *data;
	size_t len;
	size_t base; /* offset of the new-format header: strings are relative to it */
	uint32_t nlibs;
};

/* Little-endian fields at any alignment. */
static uint32_t rd32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static char *read_file(const char *file, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size <= MAX_CACHE_SIZE && (buf = malloc((size_t)st.st_size))) {
		while (got < (size_t)st.st_size) {
			ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

			if (r <= 0)
				break;
			got += (size_t)r;
		}
	}
	close(fd);
	if (buf && got == 0) {
		free(buf);
		buf = NULL;
	}
	*len = got;
	return buf;
}

/* Header of the new format: magic(20) nlibs(4) len_strings(4) flags(1)
 * pad(3) extension_offset(4) unused(12) = 48 bytes; entries of 24 bytes:
 * flags(4) key(4) value(4) osversion(4) hwcap(8). */
#define NEW_HDR 48
#define NEW_ENT 24

struct lm_ldcache *lm_ldcache_load(const char *file)
{
	struct lm_ldcache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->data = read_file(file, &c->len);
	if (!c->data)
		goto bad;
	if (c->len >= sizeof(CACHE_MAGIC_OLD) - 1 + 4 &&
	    memcmp(c->data, CACHE_MAGIC_OLD, sizeof(CACHE_MAGIC_OLD) - 1) == 0) {
		/* Old format in front (12-byte entries), new one after it,
		 * 8-byte aligned. */
		uint64_t n = rd32(c->data + 12), off = 16 + n * 12;

		c->base = (size_t)((off + 7) & ~7ull);
	}
	if (c->base > c->len || c->len - c->base < NEW_HDR ||
	    memcmp(c->data + c->base, CACHE_MAGIC_NEW, sizeof(CACHE_MAGIC_NEW) - 1) != 0)
		goto bad;
	c->nlibs = rd32(c->data + c->base + 20);
	if ((uint64_t)c->nlibs * NEW_ENT > c->len - c->base - NEW_HDR)
		goto bad;
	return c;
bad:
	lm_ldcache_free(c);
	return NULL;
}

static const char *cache_str(const struct lm_ldcache *c, uint32_t off)
{
	size_t at = c->base + off;

	if (off >= c->len || at >= c->len || !memchr(c->data + at, '\0', c->len - at))
		return NULL;
	return c->data + at;
}

/* The next path the cache holds for SONAME, from *ITER on. Entries for
 * glibc-hwcaps subdirectories are skipped: whether this CPU runs them is
 * the dynamic linker's business, and the baseline copy is the same code
 * for finding symbols by name. */
const char *lm_ldcache_lookup(const struct lm_ldcache *c, const char *soname, size_t *iter)
{
	while (c && *iter < c->nlibs) {
		const char *e = c->data + c->base + NEW_HDR + (size_t)(*iter)++ * NEW_ENT;
		uint32_t flags = rd32(e);
		const char *key, *value;

		if ((flags & FLAG_TYPE_MASK) != FLAG_ELF_LIBC6 ||
		    (flags & FLAG_ARCH_MASK) != FLAG_X8664_LIB64 || rd64(e + 16) != 0)
			continue;
		key = cache_str(c, rd32(e + 4));
		value = cache_str(c, rd32(e + 8));
		if (key && value && strcmp(key, soname) == 0)
			return value;
	}
	return NULL;
}

void lm_ldcache_free(struct lm_ldcache *c)
{
	if (!c)
		return;
	free(c->data);
	free(c);
}

/* Expand $ORIGIN, $LIB, $PLATFORM (also in ${...} form) in one directory
 * of a search path. */
static int expand(const char *dir, size_t len, const char *origin, char *out, size_t outlen)
{
	static const struct {
		const char *name, *value;
	} vars[] = {{"LIB", "lib/x86_64-linux-gnu"}, {"PLATFORM", "x86_64"}, {"ORIGIN", NULL}};
	size_t o = 0, i = 0;

	while (i < len) {
		const char *val = NULL;
		size_t skip = 0, v;

		if (dir[i] == '$') {
			for (v = 0; v < sizeof(vars) / sizeof(vars[0]) && !val; v++) {
				size_t n = strlen(vars[v].name);
				const char *p = dir + i + 1;
				size_t left = len - i - 1;

				if (left >= n + 2 && p[0] == '{' &&
				    strncmp(p + 1, vars[v].name, n) == 0 && p[n + 1] == '}')
					skip = n + 3;
				else if (left >= n && strncmp(p, vars[v].name, n) == 0)
					skip = n + 1;
				if (skip)
					val = vars[v].value ? vars[v].value : origin;
			}
			if (!val)
				return -1;
		}
		if (val) {
			size_t n = strlen(val);

			if (o + n >= outlen)
				return -1;
			memcpy(out + o, val, n);
			o += n;
			i += skip;
		} else {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = dir[i++];
		}
	}
	out[o] = '\0';
	return 0;
}

/* Try NAME in each directory of LIST (':'-separated). */
static int try_list(const char *list, const char *origin, const char *name, lm_libpath_try try,
                    void *arg)
{
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char dir[PATH_MAX], full[PATH_MAX * 2];

		/* An empty entry means the current directory, as for ld.so. */
		if (expand(p, len, origin, dir, sizeof(dir)) == 0) {
			snprintf(full, sizeof(full), "%s/%s", len ? dir : ".", name);
			if (try(full, arg) == 0)
				return 0;
		}
		p = end ? end + 1 : NULL;
	}
	return -1;
}

void lm_libpath_origin(const char *path, char *out, size_t outlen)
{
	char real[PATH_MAX];
	char *slash;

	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(real, sizeof(real), ".");
	snprintf(out, outlen, "%s", real);
}

int lm_libpath_search_paths(const char *name, const struct lm_searcher *req,
                            const struct lm_searcher *exe, lm_libpath_try try, void *arg)
{
	if (!req->runpath) {
		if (req->rpath && try_list(req->rpath, req->origin, name, try, arg) == 0)
			return 0;
		if (exe && !exe->runpath && exe->rpath &&
		    try_list(exe->rpath, exe->origin, name, try, arg) == 0)
			return 0;
	}
	if (try_list(getenv("LD_LIBRARY_PATH"), req->origin, name, try, arg) == 0)
		return 0;
	if (req->runpath && try_list(req->runpath, req->origin, name, try, arg) == 0)
		return 0;
	return -1;
}

int lm_libpath_search(const char *name, const struct lm_image *req, const struct lm_image *exe,
                      const struct lm_ldcache *cache, lm_libpath_try try, void *arg)
{
	static const char *const defaults =
	    "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib64:/usr/lib64:/lib:/usr/lib";
	char origin[PATH_MAX], exe_origin[PATH_MAX];
	const char *hit;
	size_t iter = 0;

	if (strchr(name, '/'))
		return try(name, arg);
	lm_libpath_origin(req->path, origin, sizeof(origin));
	lm_libpath_origin(exe->path, exe_origin, sizeof(exe_origin));
	struct lm_searcher who = {req->rpath, req->runpath, origin};
	struct lm_searcher prog = {exe->rpath, exe->runpath, exe_origin};
	if (lm_libpath_search_paths(name, &who, exe != req ? &prog : NULL, try, arg) == 0)
		return 0;
	while ((hit = lm_ldcache_lookup(cache, name, &iter)) != NULL)
		if (try(hit, arg) == 0)
			return 0;
	return try_list(defaults, origin, name, try, arg);
}

/* Object sets: the objects of this process (dl_iterate_phdr), or those a
 * program would load (its DT_NEEDED closure, breadth-first, like ldd). Each
 * file is parsed once; its index lives in lm_object.priv. The live set
 * reads a file only when a lookup first needs it: start-up pays for the
 * objects that are searched, not for every object loaded. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "live.h"
#include "symtab.h"

#define LM_LDCACHE_FILE "/etc/ld.so.cache"

static int push_object(struct lm_objset *set, struct lm_image *img, const char *path,
                       uintptr_t bias, bool is_main)
{
	struct lm_object *v = realloc(set->v, (set->n + 1) * sizeof(*v));
	struct lm_object *o;

	if (!v)
		return -1;
	set->v = v;
	o = &v[set->n];
	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	if (!o->path || (img && img->soname && !(o->soname = strdup(img->soname)))) {
		free(o->path);
		free(o->soname);
		return -1;
	}
	o->bias = bias;
	o->is_main = is_main;
	o->pie = img ? img->e_type == ET_DYN : false;
	o->has_symtab = img ? img->has_symtab : false;
	o->priv = img;
	set->n++;
	return 0;
}

static const struct lm_object *find_file(const struct lm_objset *set, const struct lm_image *img)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		const struct lm_image *o = set->v[i].priv;

		if (o && o->dev == img->dev && o->ino == img->ino)
			return &set->v[i];
	}
	return NULL;
}

/* ---- Live ---------------------------------------------------------------- */

struct live_ent {
	char *name;
	uintptr_t bias;
	const ElfW(Phdr) * phdr;
	size_t phnum;
};

struct live_list {
	struct live_ent *v;
	size_t n;
	bool oom;
};

static int collect(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct live_list *l = arg;
	struct live_ent *v;
	const char *name = info->dlpi_name ? info->dlpi_name : "";

	(void)size;
	/* The vDSO has no file; anything else unnamed after the program is
	 * not a file either. */
	if (l->n > 0 && !strchr(name, '/'))
		return 0;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v || !(v[l->n].name = strdup(name))) {
		if (v)
			l->v = v;
		l->oom = true;
		return 1;
	}
	l->v = v;
	v[l->n].bias = info->dlpi_addr;
	v[l->n].phdr = info->dlpi_phdr;
	v[l->n].phnum = info->dlpi_phnum;
	l->n++;
	return 0;
}

/* The in-memory view of a loaded object; an object without a usable
 * dynamic section keeps only its file. */
static int add_live(struct lm_object *o, const struct live_ent *e)
{
	struct lm_live *l = malloc(sizeof(*l));

	if (!l)
		return -1;
	if (lm_live_init(l, e->bias, e->phdr, e->phnum) != 0) {
		free(l);
		return 0;
	}
	o->live = l;
	o->pie = !o->is_main || e->bias != 0;
	if (l->soname && !(o->soname = strdup(l->soname)))
		return -1;
	return 0;
}

static void free_live(struct lm_object *o)
{
	struct lm_live *l = o->live;

	if (!l)
		return;
	if (l->file > 0)
		lm_elfmap_close(&l->map);
	free(l);
	o->live = NULL;
}

int lm_objset_live(struct lm_objset *set)
{
	struct live_list l = {0};
	int saved = errno, rc = 0;
	size_t i;

	memset(set, 0, sizeof(*set));
	dl_iterate_phdr(collect, &l);
	for (i = 0; i < l.n && !l.oom; i++) {
		const char *path = i == 0 ? lm_self_exe() : l.v[i].name;
		struct lm_image *img;

		if (!path)
			continue;
		/* The file is read only for the listing views; unreadable
		 * files stay in the set, without symbols. */
		img = lm_image_lazy(path);
		if (!img || push_object(set, img, path, l.v[i].bias, i == 0) != 0) {
			lm_image_free(img);
			rc = -1;
			break;
		}
		if (add_live(&set->v[set->n - 1], &l.v[i]) != 0) {
			rc = -1;
			break;
		}
	}
	if (l.oom)
		rc = -1;
	for (i = 0; i < l.n; i++)
		free(l.v[i].name);
	free(l.v);
	if (rc != 0)
		lm_objset_free(set);
	/* This runs inside the host program: its errno is not ours. */
	errno = saved;
	return rc;
}

int lm_objset_add(struct lm_objset *set, const char *path, uintptr_t bias, char *err, size_t errlen)
{
	struct lm_image *img;
	struct stat st;
	int saved = errno;
	size_t i;

	/* A file already in the set is not parsed again. */
	if (stat(path, &st) == 0)
		for (i = 0; i < set->n; i++) {
			const struct lm_image *o =
			    set->v[i].live ? NULL : lm_object_image(&set->v[i]);
			struct stat ls;

			if (o && o->dev == st.st_dev && o->ino == st.st_ino)
				return 0;
			if (set->v[i].live && stat(set->v[i].path, &ls) == 0 &&
			    ls.st_dev == st.st_dev && ls.st_ino == st.st_ino)
				return 0;
		}
	if (lm_image_open(path, &img, err, errlen) != 0) {
		errno = saved;
		return -1;
	}
	errno = saved;
	if (push_object(set, img, path, bias, false) != 0) {
		lm_image_free(img);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- Offline ------------------------------------------------------------- */

struct attempt {
	struct lm_objset *set;
	bool found;
	bool oom;
	bool damaged; /* the library found is damaged: ERR says how */
	char err[512];
};

static int try_candidate(const char *path, void *arg)
{
	struct attempt *a = arg;
	struct lm_image *img;
	int rc;

	if (access(path, F_OK) != 0)
		return -1;
	rc = lm_image_open(path, &img, a->err, sizeof(a->err));
	/* The dynamic linker stops at a damaged file of its machine, and
	 * fails: so does the set. Other misfits (32-bit) are passed over. */
	if (rc == LM_DAMAGED) {
		a->damaged = true;
		return 0;
	}
	if (rc != 0)
		return -1;
	a->found = true;
	if (find_file(a->set, img)) {
		lm_image_free(img);
		return 0;
	}
	if (push_object(a->set, img, path, 0, false) != 0) {
		lm_image_free(img);
		a->oom = true;
	}
	return 0;
}

static bool already_loaded(const struct lm_objset *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		const char *p = set->v[i].path, *base = strrchr(p, '/');

		if ((set->v[i].soname && strcmp(set->v[i].soname, name) == 0) ||
		    strcmp(base ? base + 1 : p, name) == 0 || strcmp(p, name) == 0)
			return true;
	}
	return false;
}

static int add_missing(struct lm_objset *set, const char *name)
{
	char **v;
	size_t i;

	for (i = 0; i < set->nmissing; i++)
		if (strcmp(set->missing[i], name) == 0)
			return 0;
	v = realloc(set->missing, (set->nmissing + 1) * sizeof(*v));
	if (!v)
		return -1;
	set->missing = v;
	v[set->nmissing] = strdup(name);
	if (!v[set->nmissing])
		return -1;
	set->nmissing++;
	return 0;
}

static int load_needed(struct lm_objset *set, const struct lm_ldcache *cache, char *err,
                       size_t errlen)
{
	size_t i, k;

	for (i = 0; i < set->n; i++) {
		for (k = 0; k < ((struct lm_image *)set->v[i].priv)->nneeded; k++) {
			/* set->v moves as objects are added: re-read it. */
			const struct lm_image *req = set->v[i].priv;
			const char *name = req->needed[k];
			struct attempt a = {.set = set};

			if (already_loaded(set, name))
				continue;
			lm_libpath_search(name, req, set->v[0].priv, cache, try_candidate, &a);
			if (a.damaged) {
				snprintf(err, errlen, "%s", a.err);
				return LM_DAMAGED;
			}
			if (a.oom || (!a.found && add_missing(set, name) != 0)) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
		}
	}
	return 0;
}

int lm_objset_offline(const char *program, struct lm_objset *set, char *err, size_t errlen)
{
	struct lm_ldcache *cache;
	struct lm_image *img;
	int rc = 0;

	memset(set, 0, sizeof(*set));
	rc = lm_image_open(program, &img, err, errlen);
	if (rc != 0)
		return rc;
	if (push_object(set, img, program, 0, true) != 0) {
		lm_image_free(img);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cache = lm_ldcache_load(LM_LDCACHE_FILE);
	rc = load_needed(set, cache, err, errlen);
	lm_ldcache_free(cache);
	/* The interpreter comes last, as ldd lists it, unless a library
	 * already pulled it in. */
	if (rc == 0 && img->interp) {
		struct attempt a = {.set = set};

		try_candidate(img->interp, &a);
		if (a.damaged) {
			snprintf(err, errlen, "%s", a.err);
			rc = LM_DAMAGED;
		} else if (a.oom || (!a.found && add_missing(set, img->interp) != 0)) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
	}
	if (rc != 0)
		lm_objset_free(set);
	return rc;
}

void lm_objset_free(struct lm_objset *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++) {
		free(set->v[i].path);
		free(set->v[i].soname);
		lm_image_free(set->v[i].priv);
		free_live(&set->v[i]);
	}
	free(set->v);
	for (i = 0; i < set->nmissing; i++)
		free(set->missing[i]);
	free(set->missing);
	memset(set, 0, sizeof(*set));
}

/* ---- Reading code from the file ------------------------------------------ */

long lm_object_read(const struct lm_object *o, uint64_t value, void *buf, size_t len)
{
	const struct lm_image *img = lm_object_image(o);
	size_t i;

	for (i = 0; img && i < img->nloads; i++) {
		const struct lm_load *l = &img->loads[i];
		uint64_t in, n;
		ssize_t r;
		int fd;

		if (value < l->vaddr || value - l->vaddr >= l->filesz)
			continue;
		in = value - l->vaddr;
		n = l->filesz - in < len ? l->filesz - in : len;
		if (n > LONG_MAX || l->offset + in > (uint64_t)LONG_MAX)
			return -1;
		fd = open(img->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		r = pread(fd, buf, (size_t)n, (off_t)(l->offset + in));
		close(fd);
		return r < 0 ? -1 : (long)r;
	}
	return -1;
}

const char *lm_find_status_name(enum lm_find_status st)
{
	switch (st) {
	case LM_FIND_OK:
		return "found";
	case LM_FIND_NOT_FOUND:
		return "not found";
	case LM_FIND_ONLY_IMPORTED:
		return "only imported, no object of the set defines it";
	case LM_FIND_STRIPPED:
		return "not found (a searched object is stripped: static functions are invisible)";
	case LM_FIND_BAD_VERSION:
		return "no such version";
	}
	return "?";
}

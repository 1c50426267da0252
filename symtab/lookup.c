/* Finding a name in an object set the way the dynamic linker binds it, and
 * describing what was found (aliases, compiler clones, padding reach). */
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "live.h"
#include "symtab.h"

const char *lm_bind_name(enum lm_sym_bind b)
{
	switch (b) {
	case LM_BIND_LOCAL:
		return "local";
	case LM_BIND_GLOBAL:
		return "global";
	case LM_BIND_WEAK:
		return "weak";
	}
	return "?";
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

bool lm_object_matches(const struct lm_object *o, const char *object)
{
	if (!object || !*object)
		return true;
	if (o->path && strcmp(base_name(o->path), object) == 0)
		return true;
	/* The soname of an object read from its file is known once it is. */
	if (!o->live)
		lm_object_image(o);
	return o->soname && strncmp(o->soname, object, strlen(object)) == 0;
}

/* Suffixes gcc and clang give to copies of a function they specialise. */
bool lm_is_clone_suffix(const char *s)
{
	static const char *const kinds[] = {"constprop", "isra",  "part",        "cold",
	                                    "lto_priv",  "clone", "specialized", "localalias"};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i]);

		if (strncmp(s, kinds[i], n) == 0 && (s[n] == '\0' || s[n] == '.'))
			return true;
	}
	return false;
}

int lm_push_name(char ***v, size_t *n, const char *name)
{
	char **p;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], name) == 0)
			return 0;
	p = realloc(*v, (*n + 1) * sizeof(**v));
	if (!p)
		return -1;
	*v = p;
	p[*n] = strdup(name);
	if (!p[*n])
		return -1;
	(*n)++;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Aliases and clones are listed in name order. */
void lm_sort_names(char **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_name);
}

static int fill_aliases(const struct lm_image *img, const struct lm_fsym *f, struct lm_symbol *out)
{
	size_t slot = 0;
	long i;

	while ((i = lm_index_next_value(img, f->value, &slot)) >= 0) {
		const char *n = img->strs + img->syms[i].name;

		if (strcmp(n, out->name) != 0 &&
		    lm_push_name(&out->aliases, &out->naliases, n) != 0)
			return -1;
	}
	lm_sort_names(out->aliases, out->naliases);
	return 0;
}

static int fill_clones(const struct lm_image *img, const struct lm_fsym *f, struct lm_symbol *out)
{
	size_t len = strlen(out->name), slot = 0;
	long i;

	/* NAME.suffix has NAME's base hash. */
	while ((i = lm_index_next_name(img, f->bhash, &slot)) >= 0) {
		const struct lm_fsym *c = &img->syms[i];
		const char *n = img->strs + c->name;

		if (strncmp(n, out->name, len) == 0 && n[len] == '.' && c->value != f->value &&
		    lm_is_clone_suffix(n + len + 1) &&
		    lm_push_name(&out->clones, &out->nclones, n) != 0)
			return -1;
	}
	lm_sort_names(out->clones, out->nclones);
	return 0;
}

static int fill(const struct lm_object *o, const struct lm_image *img, const struct lm_fsym *f,
                struct lm_symbol *out, bool details)
{
	memset(out, 0, sizeof(*out));
	out->obj = o;
	out->name = strdup(img->strs + f->name);
	if (f->version)
		out->version = strdup(img->strs + f->version);
	if (!out->name || (f->version && !out->version))
		return -1;
	out->default_version = !f->hidden;
	out->value = f->value;
	out->addr = (uintptr_t)(f->value + o->bias);
	out->size = f->size;
	out->next_addr = lm_image_next_addr(img, f);
	out->shndx = f->shndx;
	out->bind = f->bind;
	out->type = f->type;
	out->from_symtab = f->from_symtab;
	out->exported = !f->from_symtab;
	if (!details)
		return 0;
	if (fill_aliases(img, f, out) != 0 || fill_clones(img, f, out) != 0)
		return -1;
	return 0;
}

enum seen { SEEN_NONE, SEEN_OTHER_VERSION, SEEN_MATCH };

/* Which definitions a pass of the search takes: exported ones bind first,
 * as the dynamic linker binds them; then the non-exported ones of .symtab,
 * global before local (static). */
enum pass { PASS_EXPORTED, PASS_SYMTAB_GLOBAL, PASS_LOCAL };

static bool in_pass(const struct lm_fsym *f, enum pass p)
{
	switch (p) {
	case PASS_EXPORTED:
		return !f->from_symtab && f->bind != LM_BIND_LOCAL;
	case PASS_SYMTAB_GLOBAL:
		return f->from_symtab && f->bind != LM_BIND_LOCAL;
	case PASS_LOCAL:
		return f->bind == LM_BIND_LOCAL;
	}
	return false;
}

/* The definition of NAME in IMG that a binding asking for VERSION (NULL:
 * the default) gets, among those of pass P: the first in name order
 * (lowest address first). */
static const struct lm_fsym *pick(const struct lm_image *img, const char *name, const char *version,
                                  enum pass p, enum seen *seen)
{
	const struct lm_fsym *best = NULL;
	size_t slot = 0;
	long i;

	while ((i = lm_index_next_name(img, lm_base_hash(name), &slot)) >= 0) {
		const struct lm_fsym *f = &img->syms[i];

		if (strcmp(img->strs + f->name, name) != 0 || !in_pass(f, p))
			continue;
		if (version ? strcmp(img->strs + f->version, version) == 0 : !f->hidden) {
			if (!best || lm_fsym_cmp(img, f, best) < 0)
				best = f;
		} else if (*seen == SEEN_NONE) {
			*seen = SEEN_OTHER_VERSION;
		}
	}
	if (best)
		*seen = SEEN_MATCH;
	return best;
}

static void find_exported(const struct lm_object *o, struct lm_query *q, struct lm_progress *pr)
{
	const struct lm_image *img;
	enum seen seen = SEEN_NONE;
	const struct lm_fsym *f;

	if (o->live) {
		lm_live_find_exported(o, q, pr);
		return;
	}
	if (!(img = lm_object_image(o)))
		return;
	f = pick(img, q->name, q->version, PASS_EXPORTED, &seen);
	if (f) {
		if (fill(o, img, f, &q->sym, true) == 0)
			q->status = LM_FIND_OK;
		else
			lm_symbol_free(&q->sym);
		pr->done = true;
		return;
	}
	pr->other_version |= seen == SEEN_OTHER_VERSION;
	pr->stripped |= !img->has_symtab;
}

/* Only for a name found nowhere: does an object of the search import it? */
static bool imported(const struct lm_objset *set, const struct lm_query *q)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct lm_object *o = &set->v[i];
		const struct lm_image *img;

		if (!lm_object_matches(o, q->object))
			continue;
		if (o->live ? lm_live_imports(o, q->name)
		            : (img = lm_object_image(o)) && lm_image_imports(img, q->name))
			return true;
	}
	return false;
}

/* The .symtab definitions of an image object, as candidates. */
static void image_candidates(const struct lm_object *o, struct lm_query *q, struct lm_progress *pr)
{
	const struct lm_image *img = lm_object_image(o);
	enum seen seen = SEEN_NONE;
	const struct lm_fsym *f;

	if (!img)
		return;
	if (!pr->global.o && (f = pick(img, q->name, q->version, PASS_SYMTAB_GLOBAL, &seen))) {
		pr->global.o = o;
		pr->global.f = f;
	}
	if (!pr->local.o && (f = pick(img, q->name, q->version, PASS_LOCAL, &seen))) {
		pr->local.o = o;
		pr->local.f = f;
	}
	pr->other_version |= seen == SEEN_OTHER_VERSION;
}

static void fill_candidate(struct lm_query *q, const struct lm_cand *c)
{
	int rc;

	if (c->f)
		rc = fill(c->o, lm_object_image(c->o), c->f, &q->sym, true);
	else
		rc = lm_live_fill_symtab(c, &q->sym);
	if (rc == 0)
		q->status = LM_FIND_OK;
	else
		lm_symbol_free(&q->sym);
}

void lm_symtab_find_all(const struct lm_objset *set, struct lm_query *q, size_t n)
{
	struct lm_progress *pr = calloc(n ? n : 1, sizeof(*pr));
	size_t i, k, left = 0;

	for (k = 0; k < n; k++) {
		memset(&q[k].sym, 0, sizeof(q[k].sym));
		q[k].status = LM_FIND_NOT_FOUND;
	}
	if (!set || !pr) {
		free(pr);
		return;
	}
	/* Exported names first: the hash tables of live objects. */
	for (k = 0; k < n; k++) {
		pr[k].done = !q[k].name;
		for (i = 0; i < set->n && !pr[k].done; i++)
			if (lm_object_matches(&set->v[i], q[k].object))
				find_exported(&set->v[i], &q[k], &pr[k]);
		left += !pr[k].done;
	}
	/* Then .symtab for what no object exports, in search order, until each
	 * name has a global definition: one pass per live object for all. */
	for (i = 0; i < set->n && left; i++) {
		const struct lm_object *o = &set->v[i];

		for (k = 0; k < n; k++)
			pr[k].here =
			    !pr[k].done && !pr[k].global.o && lm_object_matches(o, q[k].object);
		if (o->live)
			lm_live_candidates(set, o, q, pr, n);
		else
			for (k = 0; k < n; k++)
				if (pr[k].here)
					image_candidates(o, &q[k], &pr[k]);
		for (left = 0, k = 0; k < n; k++)
			left += !pr[k].done && !pr[k].global.o;
	}
	for (k = 0; k < n; k++) {
		if (pr[k].done)
			continue;
		if (pr[k].global.o || pr[k].local.o)
			fill_candidate(&q[k], pr[k].global.o ? &pr[k].global : &pr[k].local);
		else if (pr[k].other_version)
			q[k].status = LM_FIND_BAD_VERSION;
		else if (imported(set, &q[k]))
			q[k].status = LM_FIND_ONLY_IMPORTED;
		else if (pr[k].stripped)
			q[k].status = LM_FIND_STRIPPED;
	}
	free(pr);
}

enum lm_find_status lm_symtab_find(const struct lm_objset *set, const char *name,
                                   const char *version, const char *object, struct lm_symbol *out)
{
	struct lm_query q = {.name = name, .version = version, .object = object};

	lm_symtab_find_all(set, &q, 1);
	*out = q.sym;
	return q.status;
}

int lm_symtab_at(const struct lm_object *obj, uintptr_t addr, struct lm_symbol *out)
{
	const struct lm_image *img;
	const struct lm_fsym *best = NULL;
	size_t slot = 0;
	long i;

	memset(out, 0, sizeof(*out));
	if (obj->live)
		return lm_live_at(obj, addr, out);
	img = lm_object_image(obj);
	if (!img || addr < obj->bias)
		return -1;
	/* The first in name order of those at the address. */
	while ((i = lm_index_next_value(img, addr - obj->bias, &slot)) >= 0)
		if (!best || lm_fsym_cmp(img, &img->syms[i], best) < 0)
			best = &img->syms[i];
	if (!best)
		return -1;
	return fill(obj, img, best, out, false) == 0 ? 0 : -1;
}

int lm_symtab_each(const struct lm_object *obj, lm_sym_cb cb, void *arg)
{
	struct lm_image *img = lm_object_image(obj);
	size_t i;

	if (!img)
		return 0;
	if (lm_image_sort(img) != 0)
		return -1;
	for (i = 0; i < img->nsyms; i++) {
		struct lm_symbol s;
		int rc;

		if (fill(obj, img, &img->syms[img->sorted[i]], &s, false) != 0) {
			lm_symbol_free(&s);
			return -1;
		}
		rc = cb(&s, arg);
		lm_symbol_free(&s);
		if (rc)
			return rc;
	}
	return 0;
}

bool lm_symtab_is_imported(const struct lm_objset *set, const char *name,
                           const struct lm_object *except)
{
	size_t i;

	for (i = 0; set && i < set->n; i++) {
		const struct lm_image *img;

		if (&set->v[i] != except && (img = lm_object_image(&set->v[i])) &&
		    lm_image_imports(img, name))
			return true;
	}
	return false;
}

void lm_symbol_free(struct lm_symbol *s)
{
	size_t i;

	if (!s)
		return;
	free(s->name);
	free(s->version);
	for (i = 0; i < s->naliases; i++)
		free(s->aliases[i]);
	free(s->aliases);
	for (i = 0; i < s->nclones; i++)
		free(s->clones[i]);
	free(s->clones);
	memset(s, 0, sizeof(*s));
}

/* Finding a name in an object set the way the dynamic linker binds it, and
 * describing what was found (aliases, compiler clones, padding reach). */
#include <stdlib.h>
#include <string.h>

#include "image.h"
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
	/* The soname of a live object is known once its file is read. */
	lm_object_image(o);
	return o->soname && strncmp(o->soname, object, strlen(object)) == 0;
}

/* Suffixes gcc and clang give to copies of a function they specialise. */
static bool is_clone_suffix(const char *s)
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

static int push_name(char ***v, size_t *n, const char *name)
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
static void sort_names(char **v, size_t n)
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

		if (strcmp(n, out->name) != 0 && push_name(&out->aliases, &out->naliases, n) != 0)
			return -1;
	}
	sort_names(out->aliases, out->naliases);
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
		    is_clone_suffix(n + len + 1) && push_name(&out->clones, &out->nclones, n) != 0)
			return -1;
	}
	sort_names(out->clones, out->nclones);
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

/* The definition of NAME in IMG that a binding asking for VERSION (NULL:
 * the default) gets, among those of the wanted binding class: the first in
 * name order (lowest address first). */
static const struct lm_fsym *pick(const struct lm_image *img, const char *name, const char *version,
                                  bool local, enum seen *seen)
{
	const struct lm_fsym *best = NULL;
	size_t slot = 0;
	long i;

	while ((i = lm_index_next_name(img, lm_base_hash(name), &slot)) >= 0) {
		const struct lm_fsym *f = &img->syms[i];

		if (strcmp(img->strs + f->name, name) != 0 || (f->bind == LM_BIND_LOCAL) != local)
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

enum lm_find_status lm_symtab_find(const struct lm_objset *set, const char *name,
                                   const char *version, const char *object, struct lm_symbol *out)
{
	bool stripped = false, imported = false, other_version = false;
	int pass;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!set || !name)
		return LM_FIND_NOT_FOUND;
	/* Exported definitions bind first, as the dynamic linker binds them;
	 * a static function counts only when nothing exports the name. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < set->n; i++) {
			const struct lm_object *o = &set->v[i];
			const struct lm_image *img;
			const struct lm_fsym *f;
			enum seen seen = SEEN_NONE;

			if (!lm_object_matches(o, object) || !(img = lm_object_image(o)))
				continue;
			f = pick(img, name, version, pass == 1, &seen);
			if (f) {
				if (fill(o, img, f, out, true) != 0) {
					lm_symbol_free(out);
					return LM_FIND_NOT_FOUND;
				}
				return LM_FIND_OK;
			}
			if (seen == SEEN_OTHER_VERSION)
				other_version = true;
			if (pass == 0) {
				stripped |= !img->has_symtab;
				imported |= lm_image_imports(img, name);
			}
		}
	}
	if (other_version)
		return LM_FIND_BAD_VERSION;
	if (imported)
		return LM_FIND_ONLY_IMPORTED;
	return stripped ? LM_FIND_STRIPPED : LM_FIND_NOT_FOUND;
}

int lm_symtab_at(const struct lm_object *obj, uintptr_t addr, struct lm_symbol *out)
{
	const struct lm_image *img = lm_object_image(obj);
	const struct lm_fsym *best = NULL;
	size_t slot = 0;
	long i;

	memset(out, 0, sizeof(*out));
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

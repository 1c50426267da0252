/* Lookups in the objects of this process: exported names through the
 * in-memory hash tables (dynlive.c); names no object exports through one
 * pass over each mapped .symtab for all of them (elfmap.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "symtab.h"

static enum lm_sym_bind bind_of(const Elf64_Sym *s)
{
	switch (ELF64_ST_BIND(s->st_info)) {
	case STB_LOCAL:
		return LM_BIND_LOCAL;
	case STB_WEAK:
		return LM_BIND_WEAK;
	default:
		return LM_BIND_GLOBAL;
	}
}

static void fill_common(const struct lm_object *o, const Elf64_Sym *s, struct lm_symbol *out)
{
	out->obj = o;
	out->value = s->st_value;
	out->addr = (uintptr_t)(s->st_value + o->bias);
	out->size = s->st_size;
	out->shndx = s->st_shndx;
	out->bind = bind_of(s);
	out->type = ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC ? LM_SYM_IFUNC : LM_SYM_FUNC;
}

static int fill_dynamic(const struct lm_object *o, uint32_t i, struct lm_symbol *out)
{
	const struct lm_live *l = o->live;
	const char *version;
	bool hidden;

	memset(out, 0, sizeof(*out));
	fill_common(o, &l->sym[i], out);
	version = lm_live_version(l, i, &hidden);
	out->name = strdup(lm_elfmap_name(l->str, l->strsz, &l->sym[i]));
	out->version = version ? strdup(version) : NULL;
	out->default_version = !hidden;
	out->exported = true;
	return out->name && (!version || out->version) ? 0 : -1;
}

/* NAME@VERSION (hidden) or NAME@@VERSION from a .symtab name of base
 * length LEN. */
static const char *symtab_version(const char *name, size_t len, bool *hidden)
{
	*hidden = false;
	if (name[len] != '@')
		return NULL;
	*hidden = name[len + 1] != '@';
	return name + len + (*hidden ? 1 : 2);
}

static bool version_matches(const char *want, const char *have, bool hidden)
{
	return want ? have && strcmp(have, want) == 0 : !hidden;
}

void lm_live_find_exported(const struct lm_object *o, struct lm_query *q, struct lm_progress *pr)
{
	const struct lm_live *l = o->live;
	uint32_t idx[16], best = 0;
	size_t n = lm_live_lookup(l, q->name, idx, 16);
	bool found = false;

	for (size_t k = 0; k < n; k++) {
		const Elf64_Sym *s = &l->sym[idx[k]];
		bool hidden;
		const char *v = lm_live_version(l, idx[k], &hidden);

		if (ELF64_ST_BIND(s->st_info) == STB_LOCAL)
			continue;
		if (!version_matches(q->version, v, hidden)) {
			pr->other_version = true;
			continue;
		}
		/* As the listing orders them: lowest address first. */
		if (!found || s->st_value < l->sym[best].st_value) {
			best = idx[k];
			found = true;
		}
	}
	if (!found)
		return;
	pr->done = true;
	if (fill_dynamic(o, best, &q->sym) == 0)
		q->status = LM_FIND_OK;
	else
		lm_symbol_free(&q->sym);
}

bool lm_live_imports(const struct lm_object *o, const char *name)
{
	struct lm_live *l = o->live;
	/* .gnu.hash puts every undefined entry before the hashed ones. */
	size_t n = l->gnu ? l->gnu[1] : lm_live_count(l);

	for (size_t i = 1; i < n; i++) {
		const Elf64_Sym *s = &l->sym[i];
		int type = ELF64_ST_TYPE(s->st_info);

		if (s->st_shndx == SHN_UNDEF && s->st_name < l->strsz &&
		    (type == STT_FUNC || type == STT_NOTYPE || type == STT_GNU_IFUNC) &&
		    strcmp(l->str + s->st_name, name) == 0)
			return true;
	}
	return false;
}

/* Map O's file on first need; false when it cannot be used (SET's warn,
 * if any, is told why once). */
static bool map_file(const struct lm_objset *set, const struct lm_object *co)
{
	struct lm_object *o = (struct lm_object *)co;
	struct lm_live *l = o->live;
	char err[512], msg[600];

	if (l->file == 0) {
		l->file = lm_elfmap_open(o->path, &l->map, err, sizeof(err)) == 0 ? 1 : -1;
		o->has_symtab = l->file > 0 && l->map.symtab;
		if (l->file < 0 && set && set->warn) {
			snprintf(msg, sizeof(msg),
			         "%s: skipped: its static functions are not searched", err);
			set->warn(msg, set->warn_arg);
		}
	}
	return l->file > 0;
}

struct scan {
	const struct lm_object *o;
	const struct lm_query *q;
	struct lm_progress *pr;
	size_t *kmap;       /* wanted index -> query */
	struct lm_cand *cl; /* per query: the clones seen in this object */
};

/* A .symtab copy of an exported definition is that definition. */
static bool exported_here(const struct lm_live *l, const char *name, uint64_t value)
{
	uint32_t idx[16];
	size_t n = lm_live_lookup(l, name, idx, 16);

	for (size_t k = 0; k < n; k++)
		if (l->sym[idx[k]].st_value == value)
			return true;
	return false;
}

static void on_symbol(size_t want, const Elf64_Sym *s, const char *name, void *arg)
{
	struct scan *sc = arg;
	size_t k = sc->kmap[want], len = strlen(sc->q[k].name);
	struct lm_progress *pr = &sc->pr[k];
	struct lm_cand *c;
	const char *version;
	bool hidden, local = ELF64_ST_BIND(s->st_info) == STB_LOCAL;

	if (strncmp(name, sc->q[k].name, len) != 0)
		return;
	if (name[len] == '.') {
		struct lm_cand *cl = &sc->cl[k];

		if (lm_is_clone_suffix(name + len + 1) && cl->nclones < LM_CLONES_MAX) {
			cl->clone[cl->nclones] = s;
			cl->clone_name[cl->nclones++] = name;
		}
		return;
	}
	if (name[len] != '\0' && name[len] != '@')
		return;
	version = symtab_version(name, len, &hidden);
	if (!version_matches(sc->q[k].version, version, hidden)) {
		pr->other_version = true;
		return;
	}
	if (!local && !version && exported_here(sc->o->live, sc->q[k].name, s->st_value))
		return;
	c = local ? &pr->local : &pr->global;
	if (c->o && (c->o != sc->o || c->s->st_value <= s->st_value))
		return;
	memset(c, 0, sizeof(*c));
	c->o = sc->o;
	c->s = s;
	c->name = name;
}

static void attach_clones(struct lm_cand *c, const struct lm_cand *cl, const struct lm_object *o)
{
	if (c->o != o || c->f)
		return;
	for (size_t i = 0; i < cl->nclones; i++) {
		c->clone[i] = cl->clone[i];
		c->clone_name[i] = cl->clone_name[i];
	}
	c->nclones = cl->nclones;
}

/* lm_live_candidates' pass over an object's .symtab, apart: its name set
 * and map take ten kilobytes of stack, whose pages the compiler probes
 * on entry, and most objects (stripped) never get here. */
static __attribute__((noinline)) void
scan_symtab(const struct lm_object *o, const struct lm_query *q, struct lm_progress *pr, size_t n)
{
	struct lm_live *l = o->live;
	struct lm_cand *cl = calloc(n, sizeof(*cl));
	size_t kmap[LM_WANT_MAX], k;
	struct scan sc = {.o = o, .q = q, .pr = pr, .kmap = kmap, .cl = cl};

	if (!cl)
		return;
	/* At most LM_WANT_MAX names per pass. */
	for (k = 0; k < n;) {
		struct lm_wantset w;

		lm_wantset_init(&w);
		for (; k < n && w.n < LM_WANT_MAX; k++)
			if (pr[k].here) {
				kmap[w.n] = k;
				lm_wantset_add(&w, q[k].name);
			}
		if (w.n)
			lm_elfmap_scan(&l->map, &w, on_symbol, &sc);
	}
	for (k = 0; k < n; k++)
		if (pr[k].here) {
			attach_clones(&pr[k].global, &cl[k], o);
			attach_clones(&pr[k].local, &cl[k], o);
		}
	free(cl);
}

void lm_live_candidates(const struct lm_objset *set, const struct lm_object *o,
                        const struct lm_query *q, struct lm_progress *pr, size_t n)
{
	struct lm_live *l = o->live;
	size_t k = 0;

	while (k < n && !pr[k].here)
		k++;
	if (k == n)
		return;
	/* The shim's own library holds no method: never scanned. */
	if (!o->is_main && (uintptr_t)lm_live_candidates >= l->lo &&
	    (uintptr_t)lm_live_candidates < l->hi)
		return;
	/* A stripped file (Debian's libc and ld.so) is known from its
	 * headers: no map of the whole file for nothing. */
	if (!l->file && !l->no_symtab && lm_elfmap_probe_symtab(o->path, 0, NULL) == 0)
		l->no_symtab = true;
	if (l->no_symtab || !map_file(set, o) || !l->map.symtab) {
		for (k = 0; k < n; k++)
			pr[k].stripped |= pr[k].here;
		return;
	}
	scan_symtab(o, q, pr, n);
}

static int fill_symtab(const struct lm_object *o, const Elf64_Sym *s, const char *name,
                       struct lm_symbol *out)
{
	size_t len = strcspn(name, "@");
	const char *version;
	bool hidden;

	memset(out, 0, sizeof(*out));
	fill_common(o, s, out);
	version = symtab_version(name, len, &hidden);
	out->name = strndup(name, len);
	out->version = version ? strdup(version) : NULL;
	out->default_version = !hidden;
	out->from_symtab = true;
	return out->name && (!version || out->version) ? 0 : -1;
}

int lm_live_fill_symtab(const struct lm_cand *c, struct lm_symbol *out)
{
	if (fill_symtab(c->o, c->s, c->name, out) != 0)
		return -1;
	for (size_t i = 0; i < c->nclones; i++)
		if (c->clone[i]->st_value != c->s->st_value &&
		    lm_push_name(&out->clones, &out->nclones, c->clone_name[i]) != 0)
			return -1;
	lm_sort_names(out->clones, out->nclones);
	return 0;
}

static bool func_at(const Elf64_Sym *s, uint64_t value)
{
	int type = ELF64_ST_TYPE(s->st_info);

	return s->st_value == value && s->st_shndx != SHN_UNDEF && s->st_shndx < SHN_LORESERVE &&
	       (type == STT_FUNC || type == STT_GNU_IFUNC) && s->st_name != 0;
}

int lm_live_at(const struct lm_object *o, uintptr_t addr, struct lm_symbol *out)
{
	struct lm_live *l = o->live;
	const struct lm_elfmap *m = &l->map;
	uint64_t value = addr - o->bias;
	const char *best = NULL;
	long dyn = -1, sym = -1;
	size_t n = lm_live_count(l);

	memset(out, 0, sizeof(*out));
	/* An address outside the object never maps its file: a program's
	 * .symtab can hold 185,000 entries (issue 19). */
	if (addr < l->lo || addr >= l->hi)
		return -1;
	/* The first in name order of those at the address, .dynsym first. */
	for (size_t i = 1; i < n; i++)
		if (func_at(&l->sym[i], value) && l->sym[i].st_name < l->strsz &&
		    (!best || strcmp(l->str + l->sym[i].st_name, best) < 0)) {
			best = l->str + l->sym[i].st_name;
			dyn = (long)i;
		}
	if (map_file(NULL, o))
		for (size_t i = 1; i < m->nsymtab; i++)
			if (func_at(&m->symtab[i], value) && m->symtab[i].st_name < m->symstrsz &&
			    (!best || strcmp(m->symstr + m->symtab[i].st_name, best) < 0)) {
				best = m->symstr + m->symtab[i].st_name;
				sym = (long)i;
				dyn = -1;
			}
	if (dyn >= 0)
		return fill_dynamic(o, (uint32_t)dyn, out);
	if (sym >= 0)
		return fill_symtab(o, &m->symtab[sym], m->symstr + m->symtab[sym].st_name, out);
	return -1;
}

/* Without .symtab the static functions between two exported ones are
 * invisible: trust only the alignment padding. */
static uint64_t padding_only(const struct lm_symbol *s, uint64_t next)
{
	uint64_t pad = (s->value + s->size + 15) & ~(uint64_t)15;

	return s->size && pad < next ? pad : next;
}

void lm_symtab_reach(struct lm_symbol *s)
{
	const struct lm_object *o = s->obj;
	uint64_t next = 0;

	if (s->next_addr || !o || !o->live)
		return;
	struct lm_live *l = o->live;
	/* Stripped: its .dynsym is in memory, the section's end in its
	 * headers (one read, kept for the next function of the section);
	 * the file is not mapped. */
	if (!l->file && (!l->no_symtab || l->end_shndx != s->shndx)) {
		uint64_t end = 0;

		if (lm_elfmap_probe_symtab(o->path, s->shndx, &end) == 0) {
			l->no_symtab = true;
			l->end_shndx = s->shndx;
			l->sec_end = end;
		}
	}
	if (l->no_symtab && l->end_shndx == s->shndx && l->sec_end) {
		next = lm_syms_next_addr(l->sym, lm_live_count(l), s->shndx, s->value, l->sec_end);
		next = padding_only(s, next);
	} else if (!l->no_symtab && map_file(NULL, o)) {
		next = lm_elfmap_next_addr(&l->map, s->shndx, s->value);
		if (!l->map.symtab)
			next = padding_only(s, next);
	}
	s->next_addr = next > s->value ? next : s->value + s->size;
}

/* `ldmemo symbols [--config] PROGRAM [GLOB]`: the function symbols of
 * PROGRAM and the libraries it would load, as a table: what can be named in
 * a config. With --config, the matching functions that have DWARF become
 * ready-to-edit config sections instead: signatures in config kinds, and
 * [type] sections for the structs their pointers reach.
 *
 * What a [type] cannot say (bitfields, unions, arrays of non-chars, packed
 * members) is kept as bytes(N) fields, with explicit padding where needed,
 * so that the layout (offsets and sizeof) stays the C compiler's; a comment
 * names what was lost. A struct whose layout still cannot be kept is only
 * described in a comment. */
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config/config.h"
#include "symtab/dwarf.h"
#include "symtab/symtab.h"

enum { COL_OBJECT, COL_NAME, COL_BIND, COL_SIZE, COL_VERSION, NCOLS };

struct table {
	char *(*rows)[NCOLS];
	size_t n, cap;
	size_t width[NCOLS];
	const char *glob;
	bool oom;
};

static int add_row(struct table *t, const char *const cells[NCOLS])
{
	size_t c;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		char *(*rows)[NCOLS] = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return -1;
		t->rows = rows;
		t->cap = cap;
	}
	for (c = 0; c < NCOLS; c++) {
		size_t len = strlen(cells[c]);

		t->rows[t->n][c] = strdup(cells[c]);
		if (!t->rows[t->n][c]) {
			while (c > 0)
				free(t->rows[t->n][--c]);
			return -1;
		}
		if (len > t->width[c])
			t->width[c] = len;
	}
	t->n++;
	return 0;
}

static int on_symbol(const struct lm_symbol *s, void *arg)
{
	struct table *t = arg;
	char size[32], version[256];
	const char *cells[NCOLS];

	if (fnmatch(t->glob, s->name, 0) != 0)
		return 0;
	snprintf(size, sizeof(size), "%" PRIu64, s->size);
	if (s->version)
		snprintf(version, sizeof(version), "%s%s", s->default_version ? "@@" : "@",
		         s->version);
	else
		snprintf(version, sizeof(version), "-");
	cells[COL_OBJECT] = s->obj->path;
	cells[COL_NAME] = s->name;
	cells[COL_BIND] = s->type == LM_SYM_IFUNC
	                      ? (s->bind == LM_BIND_WEAK ? "weak,ifunc" : "global,ifunc")
	                      : lm_bind_name(s->bind);
	cells[COL_SIZE] = size;
	cells[COL_VERSION] = version;
	if (add_row(t, cells) != 0) {
		t->oom = true;
		return 1;
	}
	return 0;
}

static void print_table(const struct table *t)
{
	size_t r, c;

	for (r = 0; r < t->n; r++) {
		for (c = 0; c < NCOLS; c++) {
			const char *cell = t->rows[r][c];

			if (c == NCOLS - 1)
				printf("%s\n", cell);
			else if (c == COL_SIZE)
				printf("%*s  ", (int)t->width[c], cell);
			else
				printf("%-*s  ", (int)t->width[c], cell);
		}
	}
}

static void free_table(struct table *t)
{
	size_t r, c;

	for (r = 0; r < t->n; r++)
		for (c = 0; c < NCOLS; c++)
			free(t->rows[r][c]);
	free(t->rows);
}

/* ---- --config: sections from DWARF --------------------------------------- */

enum { T_VISITING, T_DONE, T_FAILED };

/* A [type] being or already written. */
struct gtype {
	char *name;
	int state;
	size_t size, align;
	bool has_pointers;
};

struct gen {
	FILE *types; /* [type] sections, dependencies first */
	struct lm_known known;
	char *tbuf;
	size_t tlen;
	struct gtype *v;
	size_t n;
	bool oom;
	/* --prototypes: sections of unknown purity written live (for
	 * `ldmemo profile`, which samples purity itself) */
	bool live;
};

/* One field as written, with its System V size and alignment. */
struct fld {
	char text[320];
	size_t size, align;
	bool pointers;
};

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

static const char *int_kind(const struct lm_ctype *t)
{
	static const char *const s[] = {"i8", "i16", "", "i32", "", "", "", "i64"};
	static const char *const u[] = {"u8", "u16", "", "u32", "", "", "", "u64"};

	if (t->size < 1 || t->size > 8 || !*s[t->size - 1])
		return NULL;
	return t->is_signed ? s[t->size - 1] : u[t->size - 1];
}

static bool is_char(const struct lm_ctype *t)
{
	return t && t->cls == LM_CT_INT && t->is_char && t->size == 1;
}

/* Can NAME be a [type] name? Asked of the config parser itself, so that
 * the generated text always parses. */
static bool valid_type_name(const char *name)
{
	struct lm_config cfg;
	struct lm_diags diags = {0};
	char text[512];
	int errors;

	if (strlen(name) > 200)
		return false;
	snprintf(text, sizeof(text), "[type %s]\nfields = i8 x\n", name);
	memset(&cfg, 0, sizeof(cfg));
	errors = lm_config_parse(text, strlen(text), "-", &cfg, &diags);
	lm_config_free(&cfg);
	lm_diags_free(&diags);
	return errors == 0;
}

static int gen_type(struct gen *g, const struct lm_ctype *ct);

/* Scalar kinds shared by fields, parameters and returns; NULL when T is
 * not a scalar. */
static const char *scalar_kind(const struct lm_ctype *t)
{
	switch (t->cls) {
	case LM_CT_INT:
		return int_kind(t);
	case LM_CT_BOOL:
		return t->size == 1 ? "bool" : NULL;
	case LM_CT_FLOAT:
		return t->size == 4 ? "f32" : t->size == 8 ? "f64" : NULL;
	default:
		return NULL;
	}
}

static void as_bytes(struct fld *f, size_t size, const char *name)
{
	snprintf(f->text, sizeof(f->text), "bytes(%zu) %s", size, name);
	f->size = size;
	f->align = 1;
}

/* Map member M (named NAME) to a field; a note for what is lost. Returns
 * false for a member that takes no room (a flexible array). */
static bool map_field(struct gen *g, const struct lm_cmember *m, const char *name, struct fld *f,
                      FILE *notes)
{
	const struct lm_ctype *t = m->type;
	const char *k = scalar_kind(t);
	int ti;

	f->pointers = false;
	if (k) {
		snprintf(f->text, sizeof(f->text), "%s %s", k, name);
		f->size = f->align = t->size;
		return true;
	}
	switch (t->cls) {
	case LM_CT_POINTER:
		f->size = f->align = sizeof(void *);
		f->pointers = true;
		if (is_char(t->target)) {
			snprintf(f->text, sizeof(f->text), "str %s", name);
			return true;
		}
		if (t->target && t->target->cls == LM_CT_POINTER && is_char(t->target->target)) {
			snprintf(f->text, sizeof(f->text), "strv %s", name);
			fprintf(notes, "# %s (%s): strv assumes a NULL-terminated array\n", name,
			        m->cname);
			return true;
		}
		if (t->target && t->target->cls == LM_CT_STRUCT) {
			ti = gen_type(g, t->target);
			if (ti >= 0) {
				snprintf(f->text, sizeof(f->text), "%s* %s", g->v[ti].name, name);
				return true;
			}
			fprintf(notes, "# %s (%s): kept as ptr (%s)\n", name, m->cname,
			        ti == -2 ? "TYPE* would make a type contain itself"
			                 : "the struct cannot be described");
		}
		snprintf(f->text, sizeof(f->text), "ptr %s", name);
		return true;
	case LM_CT_ARRAY:
		if (t->count == 0) {
			fprintf(notes,
			        "# %s (%s): a flexible array member cannot be expressed: "
			        "it is not copied\n",
			        name, m->cname);
			return false;
		}
		as_bytes(f, t->size, name);
		if (!is_char(t->target))
			fprintf(notes, "# %s (%s): an array of %s is kept as bytes(%zu)%s\n", name,
			        m->cname, t->target->name, (size_t)t->size,
			        t->target->cls == LM_CT_POINTER
			            ? " (what it points to is not copied)"
			            : "");
		return true;
	case LM_CT_STRUCT:
		ti = gen_type(g, t);
		if (ti >= 0) {
			snprintf(f->text, sizeof(f->text), "%s %s", g->v[ti].name, name);
			f->size = g->v[ti].size;
			f->align = g->v[ti].align;
			f->pointers = g->v[ti].has_pointers;
			return true;
		}
		as_bytes(f, t->size, name);
		fprintf(notes, "# %s (%s): the struct cannot be described: kept as bytes(%zu)\n",
		        name, m->cname, (size_t)t->size);
		return true;
	default:
		as_bytes(f, t->size, name);
		fprintf(notes, "# %s (%s): %s cannot be expressed: kept as bytes(%zu)%s\n", name,
		        m->cname, t->cls == LM_CT_UNION ? "a union" : "this type", (size_t)t->size,
		        t->cls == LM_CT_UNION ? " (pointers in it are not followed)" : "");
		return true;
	}
}

/* Add F at byte OFF of the struct being laid out: padding first when the
 * System V rules alone would not put it there; a member the rules cannot
 * place (packed) becomes bytes. */
static bool place(FILE *fields, size_t *cur, size_t *align, size_t off, struct fld *f,
                  const char *name, FILE *notes, bool *first)
{
	if (off < *cur)
		return false;
	if (align_up(*cur, f->align) != off && off % f->align != 0) {
		fprintf(notes, "# %s: not at its natural alignment (packed): kept as bytes(%zu)\n",
		        name, f->size);
		as_bytes(f, f->size, name);
		f->pointers = false;
	}
	if (align_up(*cur, f->align) != off) {
		fprintf(fields, "%sbytes(%zu) _pad%zu", *first ? "" : ", ", off - *cur, *cur);
		*first = false;
		*cur = off;
	}
	fprintf(fields, "%s%s", *first ? "" : ", ", f->text);
	*first = false;
	*cur = off + f->size;
	if (f->align > *align)
		*align = f->align;
	return true;
}

/* The fields of CT into FIELDS; false when the layout cannot be kept. */
static bool gen_fields(struct gen *g, int idx, const struct lm_ctype *ct, FILE *fields, FILE *notes)
{
	size_t cur = 0, align = 1;
	bool first = true;

	for (size_t i = 0; i < ct->nmembers; i++) {
		const struct lm_cmember *m = &ct->members[i];
		struct fld f = {0};
		char name[64] = "";

		if (m->bit_size) {
			/* A run of bitfields becomes the bytes that hold it. */
			size_t start = m->bit_offset / 8, end = start;

			fprintf(notes, "# bitfields cannot be expressed:");
			for (; i < ct->nmembers && ct->members[i].bit_size; i++) {
				const struct lm_cmember *b = &ct->members[i];
				size_t e = (b->bit_offset + b->bit_size + 7) / 8;

				fprintf(notes, " %s", b->name ? b->name : "(unnamed)");
				if (e > end)
					end = e;
			}
			i--;
			snprintf(name, sizeof(name), "_bits%zu", start);
			fprintf(notes, " kept as bytes(%zu) %s\n", end - start, name);
			as_bytes(&f, end - start, name);
			f.pointers = false;
			if (!place(fields, &cur, &align, start, &f, name, notes, &first))
				return false;
			continue;
		}
		if (!m->name) {
			snprintf(name, sizeof(name), "_anon%zu", (size_t)m->offset);
			as_bytes(&f, m->type->size, name);
			f.pointers = false;
			fprintf(notes,
			        "# %s: an anonymous %s cannot be expressed: kept as bytes(%zu)\n",
			        name, m->type->cls == LM_CT_UNION ? "union" : "member",
			        (size_t)m->type->size);
		} else if (!map_field(g, m, m->name, &f, notes)) {
			continue;
		}
		if (!place(fields, &cur, &align, m->offset, &f, m->name ? m->name : name, notes,
		           &first))
			return false;
		g->v[idx].has_pointers |= f.pointers;
	}
	if (first)
		return false;
	if (align_up(cur, align) < ct->size) {
		fprintf(fields, ", bytes(%zu) _pad%zu", (size_t)ct->size - cur, cur);
		cur = ct->size;
	}
	g->v[idx].size = align_up(cur, align);
	g->v[idx].align = align;
	return g->v[idx].size == ct->size;
}

/* Write the [type] for struct CT (and the ones it needs first). Returns
 * its index in G, -2 while it is being written (a cycle), -1 when it
 * cannot be described. */
static int gen_type(struct gen *g, const struct lm_ctype *ct)
{
	char *fbuf = NULL, *nbuf = NULL;
	size_t flen = 0, nlen = 0;
	FILE *fields, *notes;
	struct gtype *v;
	int idx;
	bool ok;

	if (ct->cls != LM_CT_STRUCT || !ct->complete || !ct->tag)
		return -1;
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->v[i].name, ct->tag) == 0)
			return g->v[i].state == T_DONE       ? (int)i
			       : g->v[i].state == T_VISITING ? -2
			                                     : -1;
	v = realloc(g->v, (g->n + 1) * sizeof(*v));
	if (!v) {
		g->oom = true;
		return -1;
	}
	g->v = v;
	idx = (int)g->n;
	memset(&g->v[idx], 0, sizeof(g->v[idx]));
	g->v[idx].name = strdup(ct->tag);
	if (!g->v[idx].name) {
		g->oom = true;
		return -1;
	}
	g->v[idx].state = T_VISITING;
	g->n++;
	if (!valid_type_name(ct->tag)) {
		g->v[idx].state = T_FAILED;
		fprintf(g->types, "# %s: '%s' cannot be a [type] name\n\n", ct->name, ct->tag);
		return -1;
	}
	fields = open_memstream(&fbuf, &flen);
	notes = open_memstream(&nbuf, &nlen);
	if (!fields || !notes) {
		if (fields)
			fclose(fields);
		if (notes)
			fclose(notes);
		free(fbuf);
		free(nbuf);
		g->oom = true;
		g->v[idx].state = T_FAILED;
		return -1;
	}
	ok = gen_fields(g, idx, ct, fields, notes);
	if (fclose(fields) != 0 || fclose(notes) != 0)
		g->oom = true;
	if (ok && !g->oom) {
		fprintf(g->types, "# %s: %zu bytes\n[type %s]\n%sfields = %s\n\n", ct->name,
		        (size_t)ct->size, ct->tag, nbuf, fbuf);
		g->v[idx].state = T_DONE;
	} else {
		fprintf(g->types,
		        "# %s cannot be described as a [type] (its layout cannot be kept)\n%s\n",
		        ct->name, nbuf ? nbuf : "");
		g->v[idx].state = T_FAILED;
		idx = -1;
	}
	free(fbuf);
	free(nbuf);
	return idx;
}

/* Why a parameter or return of type T cannot be expressed, or NULL. */
static const char *unsupported(const struct lm_ctype *t)
{
	switch (t->cls) {
	case LM_CT_STRUCT:
		return "a struct by value";
	case LM_CT_UNION:
		return "a union by value";
	case LM_CT_FLOAT:
		return t->size > 8 ? "long double" : NULL;
	case LM_CT_INT:
	case LM_CT_BOOL:
		return scalar_kind(t) ? NULL : "an integer wider than 64 bits";
	case LM_CT_POINTER:
	case LM_CT_ARRAY:
		return NULL;
	default:
		return "a type the config cannot name";
	}
}

/* The struct a pointer points to, written as a [type] when it can be:
 * its name for the comments, or NULL. */
static const struct gtype *pointee_type(struct gen *g, const struct lm_ctype *t)
{
	int ti;

	if (t->cls != LM_CT_POINTER || !t->target || t->target->cls != LM_CT_STRUCT)
		return NULL;
	ti = gen_type(g, t->target);
	return ti >= 0 ? &g->v[ti] : NULL;
}

static void param_name(const struct lm_cfunc *f, size_t i, char *out, size_t len)
{
	if (f->params[i].name)
		snprintf(out, len, "%s", f->params[i].name);
	else
		snprintf(out, len, "arg%zu", i + 1);
}

/* Why F cannot be cached, into WHY; false when it can. */
static bool not_cacheable(const struct lm_cfunc *f, char *why, size_t len)
{
	const char *what;
	char pn[128];

	if (f->variadic) {
		snprintf(why, len, "variadic functions are not supported");
		return true;
	}
	if (!f->prototyped && f->nparams == 0) {
		snprintf(why, len, "declared without a prototype: its parameters are unknown");
		return true;
	}
	if (f->ret->cls != LM_CT_VOID && (what = unsupported(f->ret))) {
		snprintf(why, len, "it returns %s (%s)", what, f->ret_cname);
		return true;
	}
	for (size_t i = 0; i < f->nparams; i++) {
		if ((what = unsupported(f->params[i].type))) {
			param_name(f, i, pn, sizeof(pn));
			snprintf(why, len, "parameter '%s' is %s (%s)", pn, what,
			         f->params[i].cname);
			return true;
		}
	}
	return false;
}

static bool ends_with_star(const char *s)
{
	return *s && s[strlen(s) - 1] == '*';
}

static void prototype(const struct lm_cfunc *f, const char *name, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "%s%s%s(", f->ret_cname,
	                            ends_with_star(f->ret_cname) ? "" : " ", name);

	for (size_t i = 0; i < f->nparams && n < len; i++)
		n += (size_t)snprintf(
		    out + n, len - n, "%s%s%s%s", i ? ", " : "", f->params[i].cname,
		    f->params[i].name && !ends_with_star(f->params[i].cname) ? " " : "",
		    f->params[i].name ? f->params[i].name : "");
	if (n < len)
		snprintf(out + n, len - n, "%s)",
		         f->variadic  ? (f->nparams ? ", ..." : "...")
		         : f->nparams ? ""
		                      : "void");
}

/* The kind of parameter I, with a note when the choice is the user's. */
static const char *param_kind(struct gen *g, const struct lm_cfunc *f, size_t i, FILE *notes)
{
	const struct lm_ctype *t = f->params[i].type;
	const struct gtype *gt;
	const char *k = scalar_kind(t);
	char pn[128];

	if (k)
		return k;
	if (t->cls == LM_CT_POINTER && t->target_const && is_char(t->target))
		return "str";
	param_name(f, i, pn, sizeof(pn));
	gt = pointee_type(g, t);
	fprintf(notes,
	        "# %s is %s: kept as ptr (the address is the key); or buf(SIZE) if the function "
	        "reads SIZE bytes there, out(SIZE) if it writes them",
	        pn, f->params[i].cname);
	if (gt && !gt->has_pointers)
		fprintf(notes, "; SIZE may be %s", gt->name);
	else if (gt)
		fprintf(notes, "; SIZE cannot be %s (it has pointer fields)", gt->name);
	fprintf(notes, "\n");
	return "ptr";
}

/* The [type] T of known file F and the types it holds, as written there,
 * unless a type of that name is written already. */
static void known_type(struct gen *g, const struct lm_known_file *f, int ti)
{
	const struct lm_type *t = &f->cfg.types[ti];
	struct gtype *v;

	for (size_t i = 0; i < g->n; i++) {
		if (strcmp(g->v[i].name, t->name) != 0)
			continue;
		if (g->v[i].state != T_FAILED)
			return;
		g->v[i].state = T_DONE; /* DWARF could not say it; the table can */
		lm_known_section(f, t->pos, g->types);
		fputc('\n', g->types);
		return;
	}
	v = realloc(g->v, (g->n + 1) * sizeof(*v));
	if (!v) {
		g->oom = true;
		return;
	}
	g->v = v;
	memset(&g->v[g->n], 0, sizeof(g->v[g->n]));
	g->v[g->n].name = strdup(t->name);
	if (!g->v[g->n].name) {
		g->oom = true;
		return;
	}
	g->v[g->n].state = T_DONE;
	g->v[g->n].size = t->size;
	g->v[g->n].align = t->align;
	g->v[g->n].has_pointers = t->has_pointers;
	g->n++;
	for (size_t i = 0; i < t->nfields; i++)
		if (t->fields[i].kind == LM_K_STRUCT || t->fields[i].kind == LM_K_STRUCT_PTR)
			known_type(g, f, t->fields[i].type);
	lm_known_section(f, t->pos, g->types);
	fputc('\n', g->types);
}

static const char *ownership(const struct lm_method *me)
{
	switch (me->sig.ret.how) {
	case LM_RET_STATIC_STR:
	case LM_RET_STATIC_BUF:
	case LM_RET_STATIC_TYPE:
		return "the result is in storage the library owns, which the next call overwrites";
	case LM_RET_STR:
	case LM_RET_BUF:
		return "the result is malloc'd for the caller";
	case LM_RET_PARAM:
		return "the result is the caller's buffer";
	default:
		return me->sig.ret.kind == LM_K_PTR ? "the pointer itself is the result"
		                                    : "the result is a value";
	}
}

/* The section of a function in the table of known functions, as written
 * there (its ownership checked by hand, not guessed from DWARF). */
static void gen_known(struct gen *g, FILE *out, const struct lm_known_file *kf,
                      const struct lm_method *me, const char *proto)
{
	if (me->sig.ret.how == LM_RET_STATIC_TYPE)
		known_type(g, kf, me->sig.ret.type);
	if (proto)
		fprintf(out, "# %s\n", proto);
	fprintf(out, "# from ldmemo's table of known functions (%s): %s\n", kf->cfg.file,
	        ownership(me));
	lm_known_section(kf, me->pos, out);
	fputc('\n', out);
}

/* One [cache] section for F, defined in O; or a comment saying why not. */
static void gen_method(struct gen *g, FILE *out, const struct lm_cfunc *f, const char *name,
                       const struct lm_object *o)
{
	char proto[1024], sig[1024], why[512], pn[128];
	const char *k, *base = strrchr(o->path, '/');
	char *nbuf = NULL;
	size_t nlen = 0, sl;
	bool commented = false;
	FILE *notes;

	prototype(f, name, proto, sizeof(proto));
	const struct lm_known_file *kf;
	const struct lm_method *me = lm_known_method(&g->known, name, o->path, &kf);
	if (me) {
		gen_known(g, out, kf, me, proto);
		return;
	}
	if (not_cacheable(f, why, sizeof(why))) {
		fprintf(out, "# %s cannot be cached: %s\n#   %s\n\n", name, why, proto);
		return;
	}
	notes = open_memstream(&nbuf, &nlen);
	if (!notes) {
		g->oom = true;
		return;
	}
	k = f->ret->cls == LM_CT_VOID ? "void" : scalar_kind(f->ret) ? scalar_kind(f->ret) : "ptr";
	if (f->ret->cls == LM_CT_POINTER) {
		const struct gtype *gt = pointee_type(g, f->ret);

		/* ptr on a hit hands back the same address: wrong for a static
		 * buffer the next call overwrites (getpwuid). Only a person who
		 * knows who owns the result can choose. */
		commented = true;
		fprintf(notes,
		        "# returns %s and who owns the result is not known, so the section is "
		        "commented out. Uncomment it with the return that says: static %s%s "
		        "(storage the function owns, overwritten by the next call), %s "
		        "(malloc'd for the caller), ptr(NAME) (the caller's buffer NAME), or "
		        "ptr (the pointer itself is the result: interned data never freed)\n",
		        f->ret_cname,
		        gt                        ? gt->name
		        : is_char(f->ret->target) ? "str"
		                                  : "buf(SIZE)",
		        gt ? "*" : "", is_char(f->ret->target) ? "str" : "buf(SIZE)");
	}
	sl = (size_t)snprintf(sig, sizeof(sig), "%s %s(", k, name);
	for (size_t i = 0; i < f->nparams; i++) {
		k = param_kind(g, f, i, notes);
		param_name(f, i, pn, sizeof(pn));
		if (sl < sizeof(sig))
			sl += (size_t)snprintf(sig + sl, sizeof(sig) - sl, "%s%s %s", i ? ", " : "",
			                       k, pn);
	}
	if (sl < sizeof(sig))
		snprintf(sig + sl, sizeof(sig) - sl, "%s)", f->nparams ? "" : "void");
	/* Nothing in the debug information says whether a function's result
	 * depends on its arguments alone and whether it changes anything else
	 * (read, write, free, rand): a live section would cache them, and the
	 * program would go wrong or hang. Only a person can tell. */
	if (!commented && !g->live) {
		commented = true;
		fprintf(notes,
		        "# purity unknown: commented out. Uncomment the section if %s's result "
		        "depends only on its arguments (and what they point to) and it changes "
		        "nothing else: no I/O, no state, no memory freed\n",
		        name);
	}
	if (fclose(notes) != 0)
		g->oom = true;
	fprintf(out, "# %s\n%s%s[cache %s]\n%ssignature = %s\n", proto, nbuf ? nbuf : "",
	        commented ? "# " : "", name, commented ? "# " : "", sig);
	if (!o->is_main)
		fprintf(out, "%sobject = %s\n", commented ? "# " : "", base ? base + 1 : o->path);
	fprintf(out, "\n");
	free(nbuf);
}

/* A matching function: the first definition of its name in search order. */
struct match {
	size_t obj;
	char *name;
};

struct matches {
	struct match *v;
	size_t n, cap;
	size_t obj;
	const char *glob;
	bool oom;
};

static int on_match(const struct lm_symbol *s, void *arg)
{
	struct matches *m = arg;

	if (fnmatch(m->glob, s->name, 0) != 0)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct match *v = realloc(m->v, cap * sizeof(*v));

		if (!v) {
			m->oom = true;
			return 1;
		}
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n].obj = m->obj;
	m->v[m->n].name = strdup(s->name);
	if (!m->v[m->n].name) {
		m->oom = true;
		return 1;
	}
	m->n++;
	return 0;
}

static int by_name_then_obj(const void *a, const void *b)
{
	const struct match *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->obj > y->obj) - (x->obj < y->obj);
}

static int by_obj_then_name(const void *a, const void *b)
{
	const struct match *x = a, *y = b;

	return x->obj != y->obj ? (x->obj > y->obj) - (x->obj < y->obj) : strcmp(x->name, y->name);
}

/* Collect the matches, keeping one definition per name as the dynamic
 * linker would bind it. */
static int collect(const struct lm_objset *set, const char *glob, struct matches *m)
{
	size_t keep = 0;

	m->glob = glob;
	for (m->obj = 0; m->obj < set->n && !m->oom; m->obj++)
		if (lm_symtab_each(&set->v[m->obj], on_match, m) < 0)
			m->oom = true;
	if (m->oom)
		return -1;
	if (!m->n)
		return 0;
	qsort(m->v, m->n, sizeof(*m->v), by_name_then_obj);
	for (size_t i = 0; i < m->n; i++) {
		if (keep && strcmp(m->v[keep - 1].name, m->v[i].name) == 0)
			free(m->v[i].name);
		else
			m->v[keep++] = m->v[i];
	}
	m->n = keep;
	qsort(m->v, m->n, sizeof(*m->v), by_obj_then_name);
	return 0;
}

static void free_matches(struct matches *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
}

static void free_gen(struct gen *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].name);
	free(g->v);
	free(g->tbuf);
	lm_known_free(&g->known);
}

/* Config sections for the matches; 1 when no matching object has DWARF
 * (the caller then lists the symbols), -1 on out-of-memory. */
static int print_config(bool live, const struct lm_objset *set, const char *program,
                        const char *glob, const struct matches *m)
{
	struct lm_dwarf **dw = calloc(set->n ? set->n : 1, sizeof(struct lm_dwarf *));
	size_t *missing = calloc(set->n ? set->n : 1, sizeof(*missing));
	struct gen g = {.live = live};
	char *mbuf = NULL, why[512];
	size_t mlen = 0, described = 0;
	FILE *methods = NULL;
	bool any_dwarf = false;
	int rc = -1;

	if (!dw || !missing || lm_known_load(&g.known) != 0)
		goto out;
	g.types = open_memstream(&g.tbuf, &g.tlen);
	methods = open_memstream(&mbuf, &mlen);
	if (!g.types || !methods)
		goto out;
	for (size_t i = 0; i < m->n && !g.oom; i++) {
		const struct lm_object *o = &set->v[m->v[i].obj];
		const struct lm_known_file *kf;
		const struct lm_method *me = lm_known_method(&g.known, m->v[i].name, o->path, &kf);
		const struct lm_cfunc *f;

		if (i == 0 || m->v[i].obj != m->v[i - 1].obj) {
			dw[m->v[i].obj] = lm_dwarf_open(o->path, NULL, why, sizeof(why));
			if (dw[m->v[i].obj]) {
				any_dwarf = true;
				if (strcmp(lm_dwarf_source(dw[m->v[i].obj]), o->path) != 0)
					fprintf(stderr, "ldmemo: %s: debug information from %s\n",
					        o->path, lm_dwarf_source(dw[m->v[i].obj]));
			} else {
				fprintf(stderr, "ldmemo: %s: %s\n", o->path, why);
			}
		}
		if (me && !dw[m->v[i].obj]) {
			/* The table needs no debug information. */
			gen_known(&g, methods, kf, me, NULL);
			described++;
			any_dwarf = true;
			continue;
		}
		if (!dw[m->v[i].obj]) {
			missing[m->v[i].obj]++;
			continue;
		}
		f = lm_dwarf_func(dw[m->v[i].obj], m->v[i].name);
		if (f) {
			gen_method(&g, methods, f, m->v[i].name, o);
			described++;
		} else {
			fprintf(methods, "# %s: no prototype in the debug information of %s\n\n",
			        m->v[i].name, o->path);
		}
	}
	for (size_t i = 0; i < set->n; i++)
		if (missing[i])
			fprintf(stderr,
			        "ldmemo: %s: %zu matching function%s not described (no debug "
			        "information)\n",
			        set->v[i].path, missing[i], missing[i] == 1 ? "" : "s");
	if (fclose(g.types) != 0 || fclose(methods) != 0)
		g.oom = true;
	g.types = methods = NULL;
	if (g.oom)
		goto out;
	rc = 1;
	if (!any_dwarf)
		goto out;
	printf("# ldmemo config for %s (functions matching '%s'), from its debug information.\n"
	       "# %zu function%s described. Sections whose purity or result ownership is not "
	       "known are commented out: decide them, then add ttl, when, ... as needed.\n\n",
	       program, glob, described, described == 1 ? "" : "s");
	fputs(g.tbuf ? g.tbuf : "", stdout);
	fputs(mbuf ? mbuf : "", stdout);
	rc = 0;
out:
	if (g.types)
		fclose(g.types);
	if (methods)
		fclose(methods);
	for (size_t i = 0; dw && i < set->n; i++)
		lm_dwarf_close(dw[i]);
	free(dw);
	free(missing);
	free(mbuf);
	free_gen(&g);
	return rc;
}

static int list_symbols(const struct lm_objset *set, const char *glob)
{
	static const char *const header[NCOLS] = {"OBJECT", "NAME", "BIND", "SIZE", "VERSION"};
	struct table t = {.glob = glob};
	size_t i;

	if (add_row(&t, header) != 0)
		t.oom = true;
	for (i = 0; i < set->n && !t.oom; i++)
		if (lm_symtab_each(&set->v[i], on_symbol, &t) < 0)
			t.oom = true;
	if (!t.oom)
		print_table(&t);
	free_table(&t);
	return t.oom ? -1 : 0;
}

#define SYMBOLS_USAGE "usage: ldmemo symbols [--config [--prototypes]] PROGRAM [GLOB]"

int lm_cmd_symbols(int argc, char **argv)
{
	static const struct option opts[] = {{"config", no_argument, NULL, 'C'},
	                                     {"prototypes", no_argument, NULL, 'P'},
	                                     {NULL, 0, NULL, 0}};
	struct matches m = {0};
	struct lm_objset set;
	char program[PATH_MAX], err[512];
	const char *glob;
	bool config = false, live = false;
	int opt, rc = 0;

	if (lm_cli_help(argc, argv, SYMBOLS_USAGE))
		return 0;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (opt != 'C' && opt != 'P')
			return lm_cli_usage_error("symbols: unknown option '%s'", argv[optind - 1]);
		config |= opt == 'C';
		live |= opt == 'P';
	}
	if (argc - optind < 1 || argc - optind > 2)
		return lm_cli_usage_error(SYMBOLS_USAGE);
	glob = argc - optind == 2 ? argv[optind + 1] : "*";
	lm_cli_find_program(argv[optind], program, sizeof(program));
	rc = lm_objset_offline(program, &set, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "ldmemo: %s\n", err);
		return rc == LM_OBJSET_DAMAGED ? 2 : 1;
	}
	for (size_t i = 0; i < set.nmissing; i++)
		fprintf(stderr, "ldmemo: warning: %s: library not found\n", set.missing[i]);
	if (config) {
		rc =
		    collect(&set, glob, &m) == 0 ? print_config(live, &set, program, glob, &m) : -1;
		if (rc == 1)
			fprintf(stderr,
			        "ldmemo: no debug information for the functions matching "
			        "'%s': listing the symbols instead\n",
			        glob);
	}
	if (!config || rc == 1)
		rc = list_symbols(&set, glob);
	if (rc < 0)
		fprintf(stderr, "ldmemo: out of memory\n");
	free_matches(&m);
	lm_objset_free(&set);
	return rc < 0 ? 1 : 0;
}

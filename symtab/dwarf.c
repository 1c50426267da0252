/* DWARF prototypes and struct layouts through libdw. libdwfl finds the
 * debug information (the file itself, .gnu_debuglink, build-id); the
 * top-level DIEs of every compilation unit are indexed by name once, and
 * types are converted on demand, each DIE once, so that recursive structs
 * (a list node pointing to itself) terminate. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf.h"

/* A name of the index: a function or a struct/union (tag or typedef). */
struct entry {
	const char *name; /* points into the DWARF string tables */
	Dwarf_Off off;
	int rank; /* functions: 2 definition, 1 declaration */
	const struct lm_cfunc *func;
};

struct index {
	struct entry *v;
	size_t n, cap;
};

/* Converted types by DIE offset: open addressing, power-of-two size. */
struct slot {
	Dwarf_Off off;
	struct lm_ctype *type;
};

struct lm_dwarf {
	Dwfl *dwfl;
	Dwfl_Callbacks cb;
	char *debug_path;
	Dwarf *dw;
	char *source;
	bool indexed;
	struct index funcs, structs;
	struct slot *slots;
	size_t nslots, used;
	struct lm_cfunc **made; /* every function built, for close */
	size_t nmade;
	bool oom;
};

static char *xstrdup(struct lm_dwarf *d, const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		d->oom = true;
	return p;
}

/* ---- The DIE-offset map ------------------------------------------------- */

static size_t slot_of(const struct lm_dwarf *d, Dwarf_Off off)
{
	size_t i = (size_t)(off * 0x9e3779b97f4a7c15ull) & (d->nslots - 1);

	while (d->slots[i].type && d->slots[i].off != off)
		i = (i + 1) & (d->nslots - 1);
	return i;
}

static struct lm_ctype *map_get(const struct lm_dwarf *d, Dwarf_Off off)
{
	return d->nslots ? d->slots[slot_of(d, off)].type : NULL;
}

static int map_put(struct lm_dwarf *d, Dwarf_Off off, struct lm_ctype *t)
{
	if ((d->used + 1) * 2 > d->nslots) {
		struct slot *old = d->slots;
		size_t n = d->nslots;

		d->nslots = n ? n * 2 : 256;
		d->slots = calloc(d->nslots, sizeof(*d->slots));
		if (!d->slots) {
			d->slots = old;
			d->nslots = n;
			d->oom = true;
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (old[i].type)
				d->slots[slot_of(d, old[i].off)] = old[i];
		free(old);
	}
	d->slots[slot_of(d, off)] = (struct slot){off, t};
	d->used++;
	return 0;
}

/* ---- Opening ------------------------------------------------------------ */

struct lm_dwarf *lm_dwarf_open(const char *path, const char *debug_path, char *why, size_t len)
{
	struct lm_dwarf *d = calloc(1, sizeof(*d));
	const char *mainfile = NULL, *debugfile = NULL;
	Dwfl_Module *mod;
	Dwarf_Addr bias;

	if (!d) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	d->cb.find_elf = dwfl_build_id_find_elf;
	d->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	d->cb.section_address = dwfl_offline_section_address;
	if (debug_path) {
		d->debug_path = strdup(debug_path);
		if (!d->debug_path) {
			snprintf(why, len, "out of memory");
			free(d);
			return NULL;
		}
		d->cb.debuginfo_path = &d->debug_path;
	}
	d->dwfl = dwfl_begin(&d->cb);
	if (!d->dwfl) {
		snprintf(why, len, "%s", dwfl_errmsg(-1));
		goto fail;
	}
	dwfl_report_begin(d->dwfl);
	mod = dwfl_report_offline(d->dwfl, path, path, -1);
	if (!mod || dwfl_report_end(d->dwfl, NULL, NULL) != 0) {
		snprintf(why, len, "%s", dwfl_errmsg(-1));
		goto fail;
	}
	d->dw = dwfl_module_getdwarf(mod, &bias);
	if (!d->dw) {
		snprintf(why, len, "no debug information (%s)", dwfl_errmsg(-1));
		goto fail;
	}
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
	d->source = strdup(debugfile ? debugfile : mainfile ? mainfile : path);
	if (!d->source) {
		snprintf(why, len, "out of memory");
		goto fail;
	}
	return d;
fail:
	lm_dwarf_close(d);
	return NULL;
}

const char *lm_dwarf_source(const struct lm_dwarf *d)
{
	return d->source;
}

static void free_type(struct lm_ctype *t)
{
	for (size_t i = 0; i < t->nmembers; i++) {
		free(t->members[i].name);
		free(t->members[i].cname);
	}
	free(t->members);
	free(t->name);
	free(t->tag);
	free(t);
}

static void free_func(struct lm_cfunc *f)
{
	for (size_t i = 0; i < f->nparams; i++) {
		free(f->params[i].name);
		free(f->params[i].cname);
	}
	free(f->params);
	free(f->name);
	free(f->ret_cname);
	free(f);
}

void lm_dwarf_close(struct lm_dwarf *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nslots; i++)
		if (d->slots[i].type)
			free_type(d->slots[i].type);
	for (size_t i = 0; i < d->nmade; i++)
		free_func(d->made[i]);
	free(d->made);
	free(d->slots);
	free(d->funcs.v);
	free(d->structs.v);
	if (d->dwfl)
		dwfl_end(d->dwfl);
	free(d->debug_path);
	free(d->source);
	free(d);
}

/* ---- The name index ----------------------------------------------------- */

static int index_add(struct lm_dwarf *d, struct index *ix, const char *name, Dwarf_Off off,
                     int rank)
{
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 128;
		struct entry *v = realloc(ix->v, cap * sizeof(*v));

		if (!v) {
			d->oom = true;
			return -1;
		}
		ix->v = v;
		ix->cap = cap;
	}
	ix->v[ix->n++] = (struct entry){.name = name, .off = off, .rank = rank};
	return 0;
}

/* Name order; for one name the best rank first, then the first seen. */
static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->rank != y->rank)
		return y->rank - x->rank;
	return x->off < y->off ? -1 : x->off > y->off;
}

static bool is_aggregate(int tag)
{
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

static void index_die(struct lm_dwarf *d, Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	const char *name = dwarf_diename(die);
	Dwarf_Die peeled;

	if (!name)
		return;
	if (tag == DW_TAG_subprogram) {
		index_add(d, &d->funcs, name, dwarf_dieoffset(die),
		          dwarf_hasattr(die, DW_AT_declaration) ? 1 : 2);
	} else if (is_aggregate(tag)) {
		if (!dwarf_hasattr(die, DW_AT_declaration))
			index_add(d, &d->structs, name, dwarf_dieoffset(die), 2);
	} else if (tag == DW_TAG_typedef) {
		if (dwarf_peel_type(die, &peeled) == 0 && is_aggregate(dwarf_tag(&peeled)) &&
		    !dwarf_hasattr(&peeled, DW_AT_declaration))
			index_add(d, &d->structs, name, dwarf_dieoffset(&peeled), 1);
	}
}

static void build_index(struct lm_dwarf *d)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, sub, child;
	uint8_t unit_type;

	d->indexed = true;
	while (dwarf_get_units(d->dw, cu, &cu, NULL, &unit_type, &cudie, &sub) == 0) {
		if (unit_type != DW_UT_compile && unit_type != DW_UT_partial)
			continue;
		if (dwarf_child(&cudie, &child) != 0)
			continue;
		do
			index_die(d, &child);
		while (dwarf_siblingof(&child, &child) == 0);
	}
	/* An object may describe no functions or no structs: qsort wants a
	 * base even for zero elements. */
	if (d->funcs.n)
		qsort(d->funcs.v, d->funcs.n, sizeof(struct entry), entry_cmp);
	if (d->structs.n)
		qsort(d->structs.v, d->structs.n, sizeof(struct entry), entry_cmp);
}

/* The best entry named NAME. */
static struct entry *index_find(struct lm_dwarf *d, struct index *ix, const char *name)
{
	size_t lo = 0, hi;

	if (!d->indexed)
		build_index(d);
	hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ix->n && strcmp(ix->v[lo].name, name) == 0 ? &ix->v[lo] : NULL;
}

/* ---- Types -------------------------------------------------------------- */

static bool type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, out);
}

/* The C spelling of the type DIE (NULL: void) into BUF. */
static void spell(Dwarf_Die *die, char *buf, size_t len, int depth)
{
	Dwarf_Die t;
	bool has = die && type_of(die, &t);
	const char *name = die ? dwarf_diename(die) : NULL;
	char inner[256];

	if (!die) {
		snprintf(buf, len, "void");
		return;
	}
	if (depth > 16) {
		snprintf(buf, len, "...");
		return;
	}
	switch (dwarf_tag(die)) {
	case DW_TAG_base_type:
	case DW_TAG_typedef:
		snprintf(buf, len, "%s", name ? name : "?");
		return;
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type:
		snprintf(buf, len, "%s %s",
		         dwarf_tag(die) == DW_TAG_structure_type ? "struct"
		         : dwarf_tag(die) == DW_TAG_union_type   ? "union"
		                                                 : "enum",
		         name ? name : "<anonymous>");
		return;
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
		spell(has ? &t : NULL, inner, sizeof(inner), depth + 1);
		snprintf(buf, len, "%s %s",
		         dwarf_tag(die) == DW_TAG_const_type ? "const" : "volatile", inner);
		return;
	case DW_TAG_pointer_type:
		if (has && dwarf_tag(&t) == DW_TAG_subroutine_type) {
			snprintf(buf, len, "function pointer");
			return;
		}
		spell(has ? &t : NULL, inner, sizeof(inner), depth + 1);
		snprintf(buf, len, "%s%s*", inner, inner[strlen(inner) - 1] == '*' ? "" : " ");
		return;
	case DW_TAG_array_type:
		spell(has ? &t : NULL, inner, sizeof(inner), depth + 1);
		snprintf(buf, len, "%s[]", inner);
		return;
	case DW_TAG_subroutine_type:
		snprintf(buf, len, "function");
		return;
	default:
		if (has) {
			spell(&t, buf, len, depth + 1);
			return;
		}
		snprintf(buf, len, "%s", name ? name : "?");
		return;
	}
}

static char *spell_dup(struct lm_dwarf *d, Dwarf_Die *die)
{
	char buf[512];

	spell(die, buf, sizeof(buf), 0);
	return xstrdup(d, buf);
}

static uint64_t udata(Dwarf_Die *die, int attr, uint64_t dflt)
{
	Dwarf_Attribute a;
	Dwarf_Word v;

	if (!dwarf_attr_integrate(die, attr, &a) || dwarf_formudata(&a, &v) != 0)
		return dflt;
	return v;
}

static struct lm_ctype *convert(struct lm_dwarf *d, Dwarf_Die *die, int depth);

/* Elements of an array: the product of its subranges; 0 when one is
 * unbounded (a flexible array member). */
static uint64_t array_count(Dwarf_Die *die)
{
	Dwarf_Die sub;
	uint64_t n = 1;

	if (dwarf_child(die, &sub) != 0)
		return 0;
	do {
		if (dwarf_tag(&sub) != DW_TAG_subrange_type)
			continue;
		if (dwarf_hasattr(&sub, DW_AT_count))
			n *= udata(&sub, DW_AT_count, 0);
		else if (dwarf_hasattr(&sub, DW_AT_upper_bound))
			n *= udata(&sub, DW_AT_upper_bound, 0) + 1 -
			     udata(&sub, DW_AT_lower_bound, 0);
		else
			return 0;
	} while (dwarf_siblingof(&sub, &sub) == 0);
	return n;
}

static void base_type(struct lm_ctype *t, Dwarf_Die *die)
{
	switch (udata(die, DW_AT_encoding, 0)) {
	case DW_ATE_boolean:
		t->cls = LM_CT_BOOL;
		break;
	case DW_ATE_float:
		t->cls = LM_CT_FLOAT;
		break;
	case DW_ATE_signed_char:
		t->is_char = true;
		/* fall through */
	case DW_ATE_signed:
		t->cls = t->size <= 8 ? LM_CT_INT : LM_CT_OTHER;
		t->is_signed = true;
		break;
	case DW_ATE_unsigned_char:
		t->is_char = true;
		/* fall through */
	case DW_ATE_unsigned:
	case DW_ATE_UTF:
		t->cls = t->size <= 8 ? LM_CT_INT : LM_CT_OTHER;
		break;
	default:
		t->cls = LM_CT_OTHER;
		break;
	}
}

static int members(struct lm_dwarf *d, struct lm_ctype *t, Dwarf_Die *die, int depth)
{
	Dwarf_Die m, mt;
	size_t cap = 0;

	if (dwarf_child(die, &m) != 0)
		return 0;
	do {
		if (dwarf_tag(&m) == DW_TAG_member)
			cap++;
	} while (dwarf_siblingof(&m, &m) == 0);
	if (!cap)
		return 0;
	t->members = calloc(cap, sizeof(*t->members));
	if (!t->members) {
		d->oom = true;
		return -1;
	}
	dwarf_child(die, &m);
	do {
		struct lm_cmember *cm;
		bool has;

		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		cm = &t->members[t->nmembers++];
		has = type_of(&m, &mt);
		cm->name = xstrdup(d, dwarf_diename(&m));
		cm->cname = spell_dup(d, has ? &mt : NULL);
		cm->type = convert(d, has ? &mt : NULL, depth + 1);
		cm->offset = udata(&m, DW_AT_data_member_location, 0);
		cm->bit_size = udata(&m, DW_AT_bit_size, 0);
		if (cm->bit_size) {
			if (dwarf_hasattr(&m, DW_AT_data_bit_offset)) {
				cm->bit_offset = udata(&m, DW_AT_data_bit_offset, 0);
			} else {
				/* DWARF 2 style: counted from the storage unit's top bit. */
				uint64_t unit =
				    udata(&m, DW_AT_byte_size, cm->type ? cm->type->size : 0);
				cm->bit_offset = cm->offset * 8 + unit * 8 -
				                 udata(&m, DW_AT_bit_offset, 0) - cm->bit_size;
			}
			cm->offset = cm->bit_offset / 8;
		}
		if (!cm->cname || !cm->type)
			return -1;
	} while (dwarf_siblingof(&m, &m) == 0);
	return 0;
}

/* Fill T from the peeled DIE. */
static int fill(struct lm_dwarf *d, struct lm_ctype *t, Dwarf_Die *die, int depth)
{
	Dwarf_Die target;
	bool has = type_of(die, &target);
	Dwarf_Word size = 0;

	if (dwarf_aggregate_size(die, &size) == 0)
		t->size = size;
	switch (dwarf_tag(die)) {
	case DW_TAG_base_type:
		base_type(t, die);
		return 0;
	case DW_TAG_enumeration_type: {
		const struct lm_ctype *u = has ? convert(d, &target, depth + 1) : NULL;

		t->cls = LM_CT_INT;
		t->is_signed = u ? u->is_signed : false;
		return 0;
	}
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
		t->cls = LM_CT_POINTER;
		if (!t->size)
			t->size = sizeof(void *);
		if (has) {
			Dwarf_Die q = target;

			/* Qualifiers on the pointee: is it const? */
			while (dwarf_tag(&q) == DW_TAG_const_type ||
			       dwarf_tag(&q) == DW_TAG_volatile_type ||
			       dwarf_tag(&q) == DW_TAG_restrict_type ||
			       dwarf_tag(&q) == DW_TAG_atomic_type ||
			       dwarf_tag(&q) == DW_TAG_typedef) {
				if (dwarf_tag(&q) == DW_TAG_const_type)
					t->target_const = true;
				if (!type_of(&q, &q))
					break;
			}
			t->target = convert(d, &target, depth + 1);
			return t->target ? 0 : -1;
		}
		return 0;
	case DW_TAG_array_type:
		t->cls = LM_CT_ARRAY;
		t->count = array_count(die);
		t->target = has ? convert(d, &target, depth + 1) : NULL;
		return t->target ? 0 : -1;
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
		t->cls = dwarf_tag(die) == DW_TAG_union_type ? LM_CT_UNION : LM_CT_STRUCT;
		t->tag = xstrdup(d, dwarf_diename(die));
		t->complete = !dwarf_hasattr(die, DW_AT_declaration);
		return t->complete ? members(d, t, die, depth) : 0;
	case DW_TAG_subroutine_type:
		t->cls = LM_CT_FUNC;
		return 0;
	case DW_TAG_unspecified_type:
		t->cls = LM_CT_VOID;
		return 0;
	default:
		t->cls = LM_CT_OTHER;
		return 0;
	}
}

/* An anonymous struct is known by the typedef that names it. */
static void name_anonymous(struct lm_dwarf *d, struct lm_ctype *t, const char *name)
{
	char *n = xstrdup(d, name), *tag = xstrdup(d, name);

	if (!n || !tag) {
		free(n);
		free(tag);
		return;
	}
	free(t->name);
	t->name = n;
	t->tag = tag;
}

/* The first typedef name on the way from DIE through qualifiers. */
static const char *first_typedef(Dwarf_Die *die)
{
	Dwarf_Die q = *die;

	for (int i = 0; i < 16; i++) {
		int tag = dwarf_tag(&q);

		if (tag == DW_TAG_typedef)
			return dwarf_diename(&q);
		if ((tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
		     tag != DW_TAG_restrict_type && tag != DW_TAG_atomic_type) ||
		    !type_of(&q, &q))
			return NULL;
	}
	return NULL;
}

/* The type of DIE with typedefs and qualifiers peeled; NULL is void. Each
 * peeled DIE is converted once, registered before its members so that a
 * struct reaching itself through a pointer finds itself. */
static struct lm_ctype *convert(struct lm_dwarf *d, Dwarf_Die *die, int depth)
{
	static struct lm_ctype void_type = {.cls = LM_CT_VOID, .name = "void"};
	Dwarf_Die peeled;
	struct lm_ctype *t;
	const char *typedef_name = NULL;

	if (!die)
		return &void_type;
	typedef_name = first_typedef(die);
	if (dwarf_peel_type(die, &peeled) != 0)
		return &void_type;
	t = map_get(d, dwarf_dieoffset(&peeled));
	if (!t) {
		if (depth > 64)
			return &void_type;
		t = calloc(1, sizeof(*t));
		if (!t || map_put(d, dwarf_dieoffset(&peeled), t) != 0) {
			free(t);
			d->oom = true;
			return NULL;
		}
		t->name = spell_dup(d, &peeled);
		if (!t->name || fill(d, t, &peeled, depth) != 0)
			return NULL;
	}
	if (!t->tag && typedef_name && (t->cls == LM_CT_STRUCT || t->cls == LM_CT_UNION))
		name_anonymous(d, t, typedef_name);
	return t;
}

/* ---- Lookups ------------------------------------------------------------ */

static struct lm_cfunc *make_func(struct lm_dwarf *d, Dwarf_Die *die)
{
	struct lm_cfunc *f = calloc(1, sizeof(*f));
	struct lm_cfunc **made = realloc(d->made, (d->nmade + 1) * sizeof(struct lm_cfunc *));
	Dwarf_Die c, t;
	bool has;
	size_t cap = 0;

	if (!f || !made) {
		free(f);
		if (made)
			d->made = made;
		d->oom = true;
		return NULL;
	}
	d->made = made;
	d->made[d->nmade++] = f;
	f->name = xstrdup(d, dwarf_diename(die));
	f->prototyped = dwarf_hasattr_integrate(die, DW_AT_prototyped);
	has = type_of(die, &t);
	f->ret = convert(d, has ? &t : NULL, 0);
	f->ret_cname = spell_dup(d, has ? &t : NULL);
	if (!f->name || !f->ret || !f->ret_cname)
		return NULL;
	if (dwarf_child(die, &c) != 0)
		return f;
	do
		cap += dwarf_tag(&c) == DW_TAG_formal_parameter;
	while (dwarf_siblingof(&c, &c) == 0);
	f->params = calloc(cap ? cap : 1, sizeof(*f->params));
	if (!f->params) {
		d->oom = true;
		return NULL;
	}
	dwarf_child(die, &c);
	do {
		struct lm_cparam *p;
		Dwarf_Attribute a;

		if (dwarf_tag(&c) == DW_TAG_unspecified_parameters)
			f->variadic = true;
		if (dwarf_tag(&c) != DW_TAG_formal_parameter)
			continue;
		p = &f->params[f->nparams++];
		has = type_of(&c, &t);
		if (dwarf_attr_integrate(&c, DW_AT_name, &a))
			p->name = xstrdup(d, dwarf_formstring(&a));
		p->type = convert(d, has ? &t : NULL, 0);
		p->cname = spell_dup(d, has ? &t : NULL);
		if (!p->type || !p->cname)
			return NULL;
	} while (dwarf_siblingof(&c, &c) == 0);
	return f;
}

const struct lm_cfunc *lm_dwarf_func(struct lm_dwarf *d, const char *name)
{
	struct entry *e = index_find(d, &d->funcs, name);
	Dwarf_Die die;

	if (!e)
		return NULL;
	if (!e->func && dwarf_offdie(d->dw, e->off, &die))
		e->func = make_func(d, &die);
	return e->func;
}

const struct lm_ctype *lm_dwarf_struct(struct lm_dwarf *d, const char *name)
{
	struct entry *e = index_find(d, &d->structs, name);
	Dwarf_Die die;
	struct lm_ctype *t;

	if (!e || !dwarf_offdie(d->dw, e->off, &die))
		return NULL;
	t = convert(d, &die, 0);
	if (!t || (t->cls != LM_CT_STRUCT && t->cls != LM_CT_UNION))
		return NULL;
	if (!t->tag)
		name_anonymous(d, t, name);
	return t && t->complete ? t : NULL;
}

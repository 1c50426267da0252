/* Compiling a method's signature into a plan: System V argument locations,
 * key steps, the types a deep copy needs, the `when` tree, and the facts
 * the dispatcher asks for (stack bytes, local-only, fingerprint). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "plan_internal.h"
#include "shim/base/why.h"
#include "shim/base/guard.h"

static bool param_is_pointer(enum lm_kind k)
{
	return k == LM_K_PTR || k == LM_K_STR || k == LM_K_BUF || k == LM_K_OUT || k == LM_K_IGNORE;
}

/* Resolve SIZE of a buf/out param or a buf return. */
static int size_compile(const struct lm_config *cfg, const struct lm_sig *sig,
                        const struct lm_size *s, bool is_out, struct lm_psize *ps, char *why,
                        size_t wl)
{
	ps->kind = s->kind;
	ps->lit = s->lit;
	ps->param = s->param;
	switch (s->kind) {
	case LM_SZ_LIT:
		return 0;
	case LM_SZ_PARAM:
		if (s->param < 0 || (size_t)s->param >= sig->nparams ||
		    !lm_kind_is_int(sig->params[s->param].kind)) {
			lm_why(why, wl, "size parameter %d is not an integer parameter", s->param);
			return -1;
		}
		return 0;
	case LM_SZ_TYPE:
		if (!cfg || s->type < 0 || (size_t)s->type >= cfg->ntypes ||
		    cfg->types[s->type].has_pointers) {
			lm_why(why, wl, "size type %d is not a type without pointer fields",
			       s->type);
			return -1;
		}
		ps->kind = LM_SZ_LIT;
		ps->lit = cfg->types[s->type].size;
		return 0;
	case LM_SZ_RET:
		if (is_out && sig->ret.how == LM_RET_VALUE && lm_kind_is_int(sig->ret.kind))
			return 0;
		lm_why(why, wl, "out(ret) needs an integer return");
		return -1;
	case LM_SZ_STR:
		if (is_out)
			return 0;
		break;
	case LM_SZ_NONE:
		break;
	}
	lm_why(why, wl, "a buf/out size is missing or not allowed here");
	return -1;
}

static int params_compile(struct lm_plan *p, const struct lm_config *cfg, const struct lm_sig *sig,
                          char *why, size_t wl)
{
	unsigned ngpr = 0, nxmm = 0, nstack = 0;
	size_t i, nk = 0;

	p->nparams = sig->nparams;
	p->params = calloc(sig->nparams ? sig->nparams : 1, sizeof(*p->params));
	p->ksteps = calloc(sig->nparams ? sig->nparams : 1, sizeof(*p->ksteps));
	p->outs = calloc(sig->nparams ? sig->nparams : 1, sizeof(*p->outs));
	if (!p->params || !p->ksteps || !p->outs) {
		lm_why(why, wl, "out of memory");
		return -1;
	}
	if (sig->nparams > UINT16_MAX) {
		lm_why(why, wl, "too many parameters");
		return -1;
	}
	for (i = 0; i < sig->nparams; i++) {
		const struct lm_param *sp = &sig->params[i];
		struct lm_pparam *pp = &p->params[i];
		struct lm_kstep *ks;
		bool is_float = lm_kind_is_float(sp->kind);

		if (!lm_kind_is_int(sp->kind) && !is_float && !param_is_pointer(sp->kind)) {
			lm_why(why, wl, "parameter %zu: kind %d cannot be a parameter", i + 1,
			       (int)sp->kind);
			return -1;
		}
		pp->kind = sp->kind;
		pp->width = lm_pk_width(sp->kind);
		pp->is_signed = lm_kind_is_signed(sp->kind);
		if (is_float && nxmm < 8) {
			pp->loc.off = (uint32_t)offsetof(struct lm_frame, xmm) + 16 * nxmm++;
		} else if (!is_float && ngpr < 6) {
			pp->loc.off = (uint32_t)offsetof(struct lm_frame, gpr) + 8 * ngpr++;
		} else {
			pp->loc.stack = true;
			pp->loc.off = nstack++;
		}
		if ((sp->kind == LM_K_BUF || sp->kind == LM_K_OUT) &&
		    size_compile(cfg, sig, &sp->size, sp->kind == LM_K_OUT, &pp->size, why, wl) < 0)
			return -1;
		if (sp->kind == LM_K_IGNORE)
			continue;
		ks = &p->ksteps[nk++];
		ks->param = (uint16_t)i;
		ks->loc = pp->loc;
		ks->width = pp->width;
		switch (sp->kind) {
		case LM_K_OUT:
			ks->op = LM_KS_OUT;
			p->key_fixed += 1;
			p->outs[p->nouts++] = (uint16_t)i;
			break;
		case LM_K_STR:
			ks->op = LM_KS_STR;
			p->key_fixed += 1;
			break;
		case LM_K_BUF:
			ks->op = LM_KS_BUF;
			p->key_fixed += 1;
			break;
		default:
			ks->op = LM_KS_RAW;
			p->key_fixed += ks->width;
			break;
		}
	}
	p->nksteps = nk;
	p->stack_bytes = ((uint64_t)nstack * 8 + 15) & ~(uint64_t)15;
	return 0;
}

/* Copy the config's types; reject a type that contains itself by value or
 * whose fields do not fit inside it (a deep copy must never step outside
 * the struct). STATE: 0 unvisited, 1 on the path, 2 done. */
static int type_check(struct lm_plan *p, size_t t, unsigned char *state, char *why, size_t wl)
{
	struct lm_ptype *ty = &p->types[t];
	size_t i;

	if (state[t] == 2)
		return 0;
	if (state[t] == 1) {
		lm_why(why, wl, "type %zu contains itself", t);
		return -1;
	}
	state[t] = 1;
	for (i = 0; i < ty->nfields; i++) {
		struct lm_pfield *fl = &ty->fields[i];
		size_t w;

		if (fl->kind == LM_K_STRUCT || fl->kind == LM_K_STRUCT_PTR) {
			if (fl->type < 0 || (size_t)fl->type >= p->ntypes) {
				lm_why(why, wl, "field type %d is unknown", fl->type);
				return -1;
			}
		}
		if (fl->kind == LM_K_STRUCT) {
			if (type_check(p, (size_t)fl->type, state, why, wl) < 0)
				return -1;
			w = p->types[fl->type].size;
			ty->has_ptr |= p->types[fl->type].has_ptr;
		} else if (fl->kind == LM_K_BYTES) {
			w = fl->nbytes;
		} else if (lm_kind_is_int(fl->kind) || lm_kind_is_float(fl->kind)) {
			w = fl->width;
		} else if (fl->kind == LM_K_PTR || fl->kind == LM_K_STR || fl->kind == LM_K_STRV ||
		           fl->kind == LM_K_STRUCT_PTR) {
			w = 8;
			ty->has_ptr |= fl->kind == LM_K_PTR;
		} else {
			lm_why(why, wl, "field kind %d cannot be a field", (int)fl->kind);
			return -1;
		}
		if (fl->offset > ty->size || w > ty->size - fl->offset) {
			lm_why(why, wl, "a field lies outside its type");
			return -1;
		}
	}
	state[t] = 2;
	return 0;
}

/* STRUCT_PTR cycles are legal in types (lists): has_ptr must see through
 * them, so propagate until nothing changes. */
static void types_ptr_closure(struct lm_plan *p)
{
	bool changed = true;
	size_t t, i;

	while (changed) {
		changed = false;
		for (t = 0; t < p->ntypes; t++) {
			struct lm_ptype *ty = &p->types[t];

			for (i = 0; i < ty->nfields && !ty->has_ptr; i++) {
				const struct lm_pfield *fl = &ty->fields[i];

				if ((fl->kind == LM_K_STRUCT || fl->kind == LM_K_STRUCT_PTR) &&
				    fl->type >= 0 && (size_t)fl->type < p->ntypes &&
				    p->types[fl->type].has_ptr) {
					ty->has_ptr = true;
					changed = true;
				}
			}
		}
	}
}

/* Config type index -> plan type index, for the types one result reaches
 * (open addressing; keys +1 so that 0 marks an empty slot). A table over
 * all the config's types would cost every method O(types): with 16k
 * sections, start-up took minutes. */
struct type_map {
	int *key, *val;
	size_t cap;
};

static int *map_slot(const struct type_map *m, int key)
{
	size_t mask = m->cap - 1;
	for (size_t i = (size_t)key * 0x9e3779b1u & mask;; i = (i + 1) & mask)
		if (m->key[i] == 0 || m->key[i] == key + 1)
			return &m->key[i];
}

/* Copy config type T into P unless it is there: its plan index, -1 when out
 * of memory. */
static int type_take(struct lm_plan *p, size_t *cap, struct type_map *m,
                     const struct lm_config *cfg, int t)
{
	int *k;

	if ((p->ntypes + 1) * 2 > m->cap) {
		struct type_map n = {calloc(m->cap * 2, sizeof(int)),
		                     calloc(m->cap * 2, sizeof(int)), m->cap * 2};
		if (!n.key || !n.val) {
			free(n.key);
			free(n.val);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->key[i]) {
				k = map_slot(&n, m->key[i] - 1);
				*k = m->key[i];
				n.val[k - n.key] = m->val[i];
			}
		free(m->key);
		free(m->val);
		*m = n;
	}
	k = map_slot(m, t);
	if (*k)
		return m->val[k - m->key];
	if (p->ntypes == *cap) {
		struct lm_ptype *v = realloc(p->types, *cap * 2 * sizeof(*v));
		if (!v)
			return -1;
		p->types = v;
		*cap *= 2;
	}
	const struct lm_type *ct = &cfg->types[t];
	struct lm_ptype *pt = &p->types[p->ntypes];

	*pt = (struct lm_ptype){.size = ct->size, .nfields = ct->nfields};
	pt->fields = calloc(ct->nfields ? ct->nfields : 1, sizeof(*pt->fields));
	if (!pt->fields)
		return -1;
	for (size_t i = 0; i < ct->nfields; i++) {
		pt->fields[i].kind = ct->fields[i].kind;
		pt->fields[i].width = lm_pk_width(ct->fields[i].kind);
		pt->fields[i].nbytes = ct->fields[i].nbytes;
		pt->fields[i].type = ct->fields[i].type;
		pt->fields[i].offset = ct->fields[i].offset;
	}
	*k = t + 1;
	m->val[k - m->key] = (int)p->ntypes;
	return (int)p->ntypes++;
}

/* Copy the types a `static TYPE*` result reaches, the root first, and turn
 * their fields' config indices into plan indices (-1: unknown, which the
 * check reports). Other results need no type. */
static int types_copy(struct lm_plan *p, const struct lm_config *cfg, const struct lm_ret *r,
                      char *why, size_t wl)
{
	struct type_map m = {calloc(8, sizeof(int)), calloc(8, sizeof(int)), 8};
	size_t cap = 4;
	int rc = -1;

	if (r->how != LM_RET_STATIC_TYPE || !cfg || r->type < 0 || (size_t)r->type >= cfg->ntypes) {
		free(m.key);
		free(m.val);
		return 0;
	}
	p->types = malloc(cap * sizeof(*p->types));
	if (!m.key || !m.val || !p->types || type_take(p, &cap, &m, cfg, r->type) < 0)
		goto out;
	/* Breadth first: the plan's list is the work queue. */
	for (size_t t = 0; t < p->ntypes; t++) {
		for (size_t i = 0; i < p->types[t].nfields; i++) {
			struct lm_pfield *fl = &p->types[t].fields[i];
			int to;

			if (fl->kind != LM_K_STRUCT && fl->kind != LM_K_STRUCT_PTR)
				continue;
			if (fl->type < 0 || (size_t)fl->type >= cfg->ntypes) {
				fl->type = -1;
				continue;
			}
			to = type_take(p, &cap, &m, cfg, fl->type);
			if (to < 0)
				goto out;
			p->types[t].fields[i].type = to; /* type_take may move p->types */
		}
	}
	rc = 0;
out:
	free(m.key);
	free(m.val);
	if (rc < 0)
		lm_why(why, wl, "out of memory");
	return rc;
}

/* Check every type reachable from T, by value or through pointers. */
static int types_reach(struct lm_plan *p, size_t t, unsigned char *seen, unsigned char *state,
                       char *why, size_t wl)
{
	size_t i;

	if (seen[t])
		return 0;
	seen[t] = 1;
	if (type_check(p, t, state, why, wl) < 0)
		return -1;
	for (i = 0; i < p->types[t].nfields; i++) {
		const struct lm_pfield *fl = &p->types[t].fields[i];

		if ((fl->kind == LM_K_STRUCT || fl->kind == LM_K_STRUCT_PTR) &&
		    types_reach(p, (size_t)fl->type, seen, state, why, wl) < 0)
			return -1;
	}
	return 0;
}

static int types_check_from(struct lm_plan *p, int root, char *why, size_t wl)
{
	unsigned char *seen = calloc(p->ntypes, 2);
	int rc;

	if (!seen) {
		lm_why(why, wl, "out of memory");
		return -1;
	}
	rc = types_reach(p, (size_t)root, seen, seen + p->ntypes, why, wl);
	free(seen);
	if (rc == 0)
		types_ptr_closure(p);
	return rc;
}

static int ret_compile(struct lm_plan *p, const struct lm_config *cfg, const struct lm_sig *sig,
                       char *why, size_t wl)
{
	const struct lm_ret *r = &sig->ret;

	p->ret = *r;
	switch (r->how) {
	case LM_RET_VALUE:
		if (r->kind != LM_K_VOID && r->kind != LM_K_PTR && !lm_kind_is_int(r->kind) &&
		    !lm_kind_is_float(r->kind)) {
			lm_why(why, wl, "kind %d cannot be returned", (int)r->kind);
			return -1;
		}
		p->ret_width = lm_pk_width(r->kind);
		p->ret_float = lm_kind_is_float(r->kind);
		p->ret_signed = lm_kind_is_signed(r->kind);
		return 0;
	case LM_RET_STR:
	case LM_RET_STATIC_STR:
		return 0;
	case LM_RET_BUF:
	case LM_RET_STATIC_BUF:
		return size_compile(cfg, sig, &r->size, false, &p->ret_size, why, wl);
	case LM_RET_PARAM:
		if (r->param < 0 || (size_t)r->param >= sig->nparams ||
		    !param_is_pointer(sig->params[r->param].kind)) {
			lm_why(why, wl, "ptr(NAME) must name a pointer parameter");
			return -1;
		}
		p->ret_param_loc = p->params[r->param].loc;
		return 0;
	case LM_RET_STATIC_TYPE:
		if (!p->ntypes) {
			lm_why(why, wl, "return type %d is unknown", r->type);
			return -1;
		}
		p->ret.type = 0; /* types_copy put it first */
		return types_check_from(p, 0, why, wl);
	}
	lm_why(why, wl, "unknown return form");
	return -1;
}

static struct lm_expr *expr_copy(const struct lm_expr *e)
{
	struct lm_expr *c;

	if (!e)
		return NULL;
	c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	*c = *e;
	c->lhs = c->rhs = NULL;
	if (e->op == LM_E_CMP)
		return c;
	c->lhs = expr_copy(e->lhs);
	c->rhs = expr_copy(e->rhs);
	if (!c->lhs || !c->rhs) {
		free(c->lhs);
		free(c->rhs);
		free(c);
		return NULL;
	}
	return c;
}

static void expr_free(struct lm_expr *e)
{
	if (!e)
		return;
	if (e->op != LM_E_CMP) {
		expr_free(e->lhs);
		expr_free(e->rhs);
	}
	free(e);
}

/* ---- fingerprint ----------------------------------------------------- */

static int fp_u64(struct lm_buf *b, uint64_t v)
{
	return lm_buf_append(b, &v, sizeof(v));
}

static int fp_size(struct lm_buf *b, const struct lm_psize *s)
{
	return fp_u64(b, (uint64_t)s->kind) | fp_u64(b, s->lit) | fp_u64(b, (uint64_t)s->param);
}

/* A type's layout, nested types by their visiting order so that the
 * encoding does not depend on where the types sit in the config. */
static int fp_type(struct lm_buf *b, const struct lm_plan *p, int t, int *order, int *next)
{
	const struct lm_ptype *ty = &p->types[t];
	size_t i;
	int rc;

	if (order[t]) {
		rc = fp_u64(b, 0xff) | fp_u64(b, (uint64_t)order[t]);
		return rc;
	}
	order[t] = ++*next;
	rc = fp_u64(b, ty->size) | fp_u64(b, ty->nfields);
	for (i = 0; i < ty->nfields && rc == 0; i++) {
		const struct lm_pfield *fl = &ty->fields[i];

		rc = fp_u64(b, (uint64_t)fl->kind) | fp_u64(b, fl->offset) | fp_u64(b, fl->nbytes);
		if (rc == 0 && (fl->kind == LM_K_STRUCT || fl->kind == LM_K_STRUCT_PTR))
			rc = fp_type(b, p, fl->type, order, next);
	}
	return rc;
}

static int fingerprint(struct lm_plan *p)
{
	struct lm_buf b = {0};
	int *order = NULL, next = 0, rc;
	size_t i;

	if (p->ntypes && !(order = calloc(p->ntypes, sizeof(*order))))
		return -1;
	rc = lm_buf_append(&b, "ldmemo-plan-1", 13) | lm_buf_append(&b, p->name, strlen(p->name)) |
	     fp_u64(&b, (uint64_t)p->ret.how) | fp_u64(&b, (uint64_t)p->ret.kind) |
	     fp_size(&b, &p->ret_size) | fp_u64(&b, p->nparams);
	if (rc == 0 && p->ret.how == LM_RET_PARAM)
		rc = fp_u64(&b, (uint64_t)p->ret.param);
	if (rc == 0 && p->ret.how == LM_RET_STATIC_TYPE && order)
		rc = fp_type(&b, p, p->ret.type, order, &next);
	for (i = 0; i < p->nparams && rc == 0; i++)
		rc = fp_u64(&b, (uint64_t)p->params[i].kind) | fp_size(&b, &p->params[i].size);
	if (rc == 0)
		p->fingerprint = XXH3_64bits(b.p, b.len);
	free(order);
	lm_buf_free(&b);
	return rc ? -1 : 0;
}

static void local_only(struct lm_plan *p)
{
	size_t i;

	for (i = 0; i < p->nparams; i++)
		if (p->params[i].kind == LM_K_PTR)
			p->local_only = true;
	if ((p->ret.how == LM_RET_VALUE && p->ret.kind == LM_K_PTR) || p->ret.how == LM_RET_PARAM)
		p->local_only = true;
	if (p->ret.how == LM_RET_STATIC_TYPE && p->types && p->types[p->ret.type].has_ptr)
		p->local_only = true;
}

struct lm_plan *lm_plan_compile(const struct lm_config *cfg, const struct lm_method *m, uint32_t id,
                                char *why, size_t whylen)
{
	struct lm_plan *p;
	LM_KEEP_ERRNO();

	if (!m || !m->sig.name || (m->sig.nparams && !m->sig.params)) {
		lm_why(why, whylen, "no signature");
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		lm_why(why, whylen, "out of memory");
		goto fail;
	}
	p->id = id;
	p->name = strdup(m->sig.name);
	if (!p->name) {
		lm_why(why, whylen, "out of memory");
		goto fail;
	}
	if (params_compile(p, cfg, &m->sig, why, whylen) < 0 ||
	    types_copy(p, cfg, &m->sig.ret, why, whylen) < 0 ||
	    ret_compile(p, cfg, &m->sig, why, whylen) < 0)
		goto fail;
	if (m->when && !(p->when = expr_copy(m->when))) {
		lm_why(why, whylen, "out of memory");
		goto fail;
	}
	local_only(p);
	if (fingerprint(p) < 0) {
		lm_why(why, whylen, "out of memory");
		goto fail;
	}
	return p;
fail:
	lm_plan_free(p);
	return NULL;
}

void lm_plan_free(struct lm_plan *p)
{
	size_t t;
	LM_KEEP_ERRNO();

	if (!p)
		return;
	for (t = 0; t < p->ntypes; t++)
		free(p->types[t].fields);
	free(p->types);
	expr_free(p->when);
	free(p->outs);
	free(p->ksteps);
	free(p->params);
	free(p->name);
	free(p);
}

uint64_t lm_plan_stack_bytes(const struct lm_plan *p)
{
	return p->stack_bytes;
}

bool lm_plan_local_only(const struct lm_plan *p)
{
	return p->local_only;
}

uint64_t lm_plan_fingerprint(const struct lm_plan *p)
{
	return p->fingerprint;
}

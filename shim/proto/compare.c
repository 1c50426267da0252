/* A config signature against the C prototype DWARF gives (parameter
 * count, each one's class and width, what an out may point to): shared by
 * `ldmemo check` and the shim's strict-mode plugin, so that both judge a
 * signature alike. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

int lm_proto_appendf(char **buf, const char *fmt, ...)
{
	size_t old = *buf ? strlen(*buf) : 0;
	char line[1024];
	char *p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	p = realloc(*buf, old + strlen(line) + 1);
	if (!p)
		return -1;
	memcpy(p + old, line, strlen(line) + 1);
	*buf = p;
	return 0;
}

enum cclass { CC_NONE, CC_INT, CC_FLOAT, CC_PTR, CC_AGGREGATE, CC_OTHER };

static enum cclass kind_class(enum lm_kind k)
{
	if (k == LM_K_VOID)
		return CC_NONE;
	if (lm_kind_is_int(k))
		return CC_INT;
	if (lm_kind_is_float(k))
		return CC_FLOAT;
	if (k == LM_K_IGNORE)
		return CC_OTHER;
	return CC_PTR;
}

static enum cclass ctype_class(const struct lm_ctype *t)
{
	switch (t->cls) {
	case LM_CT_VOID:
		return CC_NONE;
	case LM_CT_INT:
	case LM_CT_BOOL:
		return CC_INT;
	case LM_CT_FLOAT:
		return CC_FLOAT;
	case LM_CT_POINTER:
	case LM_CT_ARRAY:
		return CC_PTR;
	case LM_CT_STRUCT:
	case LM_CT_UNION:
		return CC_AGGREGATE;
	default:
		return CC_OTHER;
	}
}

static size_t kind_size(enum lm_kind k)
{
	return kind_class(k) == CC_PTR ? sizeof(void *) : lm_kind_width(k);
}

/* "i64 (8 bytes)" against "int (4 bytes)": an error when the class or the
 * width differs, a warning when only the signedness does; 0 when equal. */
int lm_proto_scalar(enum lm_kind k, const struct lm_ctype *t)
{
	enum cclass kc = kind_class(k), tc = ctype_class(t);

	if (kc == CC_OTHER)
		return 0;
	if (kc != tc || (kc != CC_NONE && kind_size(k) != t->size))
		return 2;
	if (kc == CC_INT && k != LM_K_BOOL && t->cls == LM_CT_INT &&
	    lm_kind_is_signed(k) != t->is_signed)
		return 1;
	return 0;
}

static enum lm_kind ret_kind(const struct lm_ret *r)
{
	return r->how == LM_RET_VALUE ? r->kind : LM_K_PTR;
}

void lm_proto_kind_desc(enum lm_kind k, char *out, size_t len)
{
	if (kind_class(k) == CC_OTHER || k == LM_K_VOID)
		snprintf(out, len, "%s", lm_kind_name(k));
	else
		snprintf(out, len, "%s (%zu bytes)", lm_kind_name(k), kind_size(k));
}

static int report_kind(char **buf, int how, const char *what, enum lm_kind k,
                       const struct lm_ctype *t, const char *cname)
{
	char kd[64];

	lm_proto_kind_desc(k, kd, sizeof(kd));
	return lm_proto_appendf(buf, "  %s: %s: %s in the config, %s (%zu bytes%s) in DWARF\n",
	                        how == 2 ? "error" : "warning", what, kd, cname, (size_t)t->size,
	                        how == 1 ? (t->is_signed ? ", signed" : ", unsigned") : "");
}

void lm_proto_describe(const struct lm_cfunc *f, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "%s %s(", f->ret_cname, f->name);

	for (size_t i = 0; i < f->nparams && n < len; i++)
		n += (size_t)snprintf(
		    out + n, len - n, "%s%s%s%s", i ? ", " : "", f->params[i].cname,
		    f->params[i].name && !strchr(f->params[i].cname, '*') ? " " : "",
		    f->params[i].name ? f->params[i].name : "");
	if (n < len)
		snprintf(out + n, len - n, "%s)", f->variadic ? ", ..." : "");
}

/* The first member of T, nested structs, unions and arrays included, that
 * holds an address (PATH gets its name, "owner" or "u.p"); NULL when none
 * does. DEPTH bounds a self-referencing layout. */
static const struct lm_cmember *pointer_member(const struct lm_ctype *t, char *path, size_t len,
                                               int depth)
{
	while (t && t->cls == LM_CT_ARRAY)
		t = t->target;
	if (!t || (t->cls != LM_CT_STRUCT && t->cls != LM_CT_UNION) || depth > 8)
		return NULL;
	for (size_t i = 0; i < t->nmembers; i++) {
		const struct lm_cmember *m = &t->members[i];
		const struct lm_ctype *mt = m->type;
		while (mt && mt->cls == LM_CT_ARRAY)
			mt = mt->target;
		if (mt && mt->cls == LM_CT_POINTER) {
			snprintf(path, len, "%s", m->name ? m->name : "(anonymous)");
			return m;
		}
		char inner[256];
		if (pointer_member(mt, inner, sizeof(inner), depth + 1)) {
			/* A name longer than PATH is cut: it only names the member. */
			if (snprintf(path, len, "%s%s%s", m->name ? m->name : "",
			             m->name ? "." : "", inner) >= (int)len)
				path[len - 1] = '\0';
			return m;
		}
	}
	return NULL;
}

/* out(SIZE) over a struct that holds pointers: a hit writes back the
 * addresses the function stored, which point into storage of the call
 * that filled the entry (getpwuid_r's buffer): the caller would follow
 * them into memory it no longer owns. Refused unless that storage is
 * described, which out(SIZE) cannot do. */
static int check_out_structs(const struct lm_sig *sig, const struct lm_cfunc *f, char **buf,
                             size_t *errs)
{
	int rc = 0;

	for (size_t i = 0; i < sig->nparams && i < f->nparams; i++) {
		const struct lm_ctype *t = f->params[i].type;
		char path[256];

		if (sig->params[i].kind != LM_K_OUT || !t || t->cls != LM_CT_POINTER ||
		    !pointer_member(t->target, path, sizeof(path), 0))
			continue;
		rc |= lm_proto_appendf(
		    buf,
		    "  error: parameter %zu%s%s%s: out over %s, which holds pointers "
		    "(%s): a hit would give back addresses into another call's storage; "
		    "cache it only through a [type] and a static TYPE* return\n",
		    i + 1, f->params[i].name ? " '" : "",
		    f->params[i].name ? f->params[i].name : "", f->params[i].name ? "'" : "",
		    t->target->name ? t->target->name : "a struct", path);
		(*errs)++;
	}
	return rc;
}

/* The parameter's name as the messages quote it: " 'rec'", or "". */
static void param_quote(const struct lm_cparam *cp, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s", cp->name ? " '" : "", cp->name ? cp->name : "",
	         cp->name ? "'" : "");
}

/* An out over a pointer to const (`const char *`, often a string
 * literal in read-only memory): a hit writes the stored bytes back
 * there, and the program dies in ldmemo. Said at the config line. */
static int check_out_const(const char *file, const struct lm_method *m, const struct lm_cfunc *f,
                           char **buf, size_t *errs)
{
	const struct lm_sig *sig = &m->sig;
	int rc = 0;

	for (size_t i = 0; i < sig->nparams && i < f->nparams; i++) {
		const struct lm_ctype *t = f->params[i].type;
		char q[160];

		if (sig->params[i].kind != LM_K_OUT || !t || t->cls != LM_CT_POINTER ||
		    !t->target_const)
			continue;
		param_quote(&f->params[i], q, sizeof q);
		rc |= lm_proto_appendf(
		    buf,
		    "  error: %s:%d: parameter %zu%s: out over %s, a pointer to const: a "
		    "hit would write into memory the function only reads (a string "
		    "literal is read-only); declare it str or buf\n",
		    file, sig->params[i].pos.line ? sig->params[i].pos.line : m->pos.line, i + 1, q,
		    f->params[i].cname);
		(*errs)++;
	}
	return rc;
}

int lm_proto_compare(const char *file, const struct lm_method *m, const struct lm_cfunc *f,
                     char **buf)
{
	const struct lm_sig *sig = &m->sig;
	char what[160];
	size_t errs = 0;
	int rc = 0, how;

	if (f->variadic) {
		rc |= lm_proto_appendf(buf, "  error: DWARF says %s is variadic\n", m->name);
		errs++;
	}
	if (f->nparams != sig->nparams && (f->prototyped || f->nparams)) {
		rc |=
		    lm_proto_appendf(buf, "  error: %zu parameter%s in the config, %zu in DWARF\n",
		                     sig->nparams, sig->nparams == 1 ? "" : "s", f->nparams);
		errs++;
	}
	how = lm_proto_scalar(ret_kind(&sig->ret), f->ret);
	if (how) {
		rc |= report_kind(buf, how, "return", ret_kind(&sig->ret), f->ret, f->ret_cname);
		errs += how == 2;
	}
	for (size_t i = 0; i < sig->nparams && i < f->nparams; i++) {
		how = lm_proto_scalar(sig->params[i].kind, f->params[i].type);
		if (!how)
			continue;
		snprintf(what, sizeof(what), "parameter %zu%s%s%s", i + 1,
		         f->params[i].name ? " '" : "", f->params[i].name ? f->params[i].name : "",
		         f->params[i].name ? "'" : "");
		rc |= report_kind(buf, how, what, sig->params[i].kind, f->params[i].type,
		                  f->params[i].cname);
		errs += how == 2;
	}
	rc |= check_out_structs(sig, f, buf, &errs);
	rc |= check_out_const(file, m, f, buf, &errs);
	return rc ? -1 : (int)errs;
}

bool lm_proto_unreliable(const struct lm_cfunc *f)
{
	return !f->prototyped && !f->nparams;
}

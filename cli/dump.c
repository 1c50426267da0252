#include "dump.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(struct lm_json_err *err, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(struct lm_json_err *err, size_t at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err->offset = at;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct lm_json *field(const struct lm_json *obj, const char *key, enum lm_json_type t,
                                   struct lm_json_err *err)
{
	static const char *const tname[] = {"an object", "an array", "a string", "a number"};
	const struct lm_json *v = lm_json_get(obj, key);
	if (!v)
		bad(err, obj->offset, "missing field \"%s\"", key);
	else if (v->type != t)
		bad(err, v->offset, "field \"%s\" should be %s", key, tname[t]);
	return v && v->type == t ? v : NULL;
}

static int get_str(const struct lm_json *obj, const char *key, const char **out,
                   struct lm_json_err *err)
{
	const struct lm_json *v = field(obj, key, LM_JSON_STRING, err);
	*out = v ? v->str : NULL;
	return v ? 0 : -1;
}

static int get_u64(const struct lm_json *obj, const char *key, uint64_t *out,
                   struct lm_json_err *err)
{
	const struct lm_json *v = field(obj, key, LM_JSON_NUMBER, err);
	if (!v)
		return -1;
	if (lm_json_u64(v, out) != 0)
		return bad(err, v->offset, "field \"%s\" should be a non-negative integer", key);
	return 0;
}

/* A method's field F: signed fields (a loss) may be negative. */
static int get_field(const struct lm_json *obj, int f, uint64_t *out, struct lm_json_err *err)
{
	const char *key = lm_snap_field_name[f];
	const struct lm_json *v = field(obj, key, LM_JSON_NUMBER, err);
	if (!v)
		return -1;
	if (lm_snap_field_signed[f] && v->len > 1 && v->str[0] == '-') {
		struct lm_json abs = *v;
		abs.str++;
		abs.len--;
		if (lm_json_u64(&abs, out) != 0 || *out > (uint64_t)INT64_MAX)
			return bad(err, v->offset, "field \"%s\" should be an integer", key);
		*out = -*out;
		return 0;
	}
	if (lm_json_u64(v, out) != 0)
		return bad(err, v->offset, "field \"%s\" should be %s", key,
		           lm_snap_field_signed[f] ? "an integer" : "a non-negative integer");
	return 0;
}

static int read_method(const struct lm_json *o, struct lm_snap_method *m, struct lm_json_err *err)
{
	if (o->type != LM_JSON_OBJECT)
		return bad(err, o->offset, "a method should be an object");
	if (get_str(o, "name", &m->name, err) || get_str(o, "object", &m->object, err) ||
	    get_str(o, "hook", &m->hook, err) || get_str(o, "mode", &m->mode, err))
		return -1;
	for (int f = 0; f < LM_SF_COUNT; f++)
		if (get_field(o, f, &m->v[f], err))
			return -1;
	return 0;
}

static int read_writer(const struct lm_json *o, struct lm_snap_writer *w, struct lm_json_err *err)
{
	if (o->type != LM_JSON_OBJECT)
		return bad(err, o->offset, "a write function should be an object");
	return get_str(o, "name", &w->name, err) || get_str(o, "object", &w->object, err) ||
	               get_str(o, "hook", &w->hook, err) || get_u64(o, "calls", &w->calls, err) ||
	               get_u64(o, "dropped", &w->dropped, err)
	           ? -1
	           : 0;
}

static int read_snapshot(const struct lm_json *r, struct lm_snapshot *s, struct lm_json_err *err)
{
	if (r->type != LM_JSON_OBJECT)
		return bad(err, r->offset, "a dump should be an object");
	if (get_str(r, "version", &s->version, err) || get_u64(r, "pid", &s->pid, err) ||
	    get_str(r, "program", &s->program, err) || get_str(r, "backend", &s->backend, err) ||
	    get_u64(r, "entries", &s->entries, err) || get_u64(r, "bytes", &s->bytes, err))
		return -1;
	const struct lm_json *up = field(r, "uptime_s", LM_JSON_NUMBER, err);
	if (!up)
		return -1;
	if (lm_json_milli(up, &s->uptime_ms) != 0)
		return bad(err, up->offset, "field \"uptime_s\" should be a non-negative decimal");
	const struct lm_json *ms = field(r, "methods", LM_JSON_ARRAY, err);
	const struct lm_json *ws = ms ? field(r, "invalidators", LM_JSON_ARRAY, err) : NULL;
	if (!ws)
		return -1;
	s->methods = calloc(ms->n ? ms->n : 1, sizeof *s->methods);
	s->writers = calloc(ws->n ? ws->n : 1, sizeof *s->writers);
	if (!s->methods || !s->writers)
		return bad(err, r->offset, "out of memory");
	for (; s->nmethods < ms->n; s->nmethods++)
		if (read_method(ms->items[s->nmethods], &s->methods[s->nmethods], err))
			return -1;
	for (; s->nwriters < ws->n; s->nwriters++)
		if (read_writer(ws->items[s->nwriters], &s->writers[s->nwriters], err))
			return -1;
	return 0;
}

int lm_dump_next(const char *buf, size_t len, size_t *pos, struct lm_dump *d,
                 struct lm_json_err *err)
{
	*d = (struct lm_dump){0};
	size_t p = *pos;
	while (p < len && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\n' || buf[p] == '\r'))
		p++;
	if (p == len) {
		*pos = p;
		return 0;
	}
	d->root = lm_json_parse(buf, len, &p, err);
	if (!d->root)
		return -1;
	if (read_snapshot(d->root, &d->snap, err) != 0) {
		lm_dump_free(d);
		return -1;
	}
	*pos = p;
	return 1;
}

void lm_dump_free(struct lm_dump *d)
{
	free(d->snap.methods);
	free(d->snap.writers);
	lm_json_free(d->root);
	*d = (struct lm_dump){0};
}

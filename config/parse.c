/* The file as a whole: lines, section headers and `key = value` pairs
 * (spec 3.1), then the passes that turn the collected values into a
 * struct lm_config. Names are collected before any value is read, so a
 * value may refer to a section further down the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse_internal.h"

/* A key as written, in the section being scanned. */
struct key_entry {
	enum lm_key key;
	struct lm_kv kv;
};

struct lm_parser {
	struct lm_ctx c;
	struct lm_rsec *secs;
	size_t nsecs, cap;
	struct key_entry *kvs; /* every section's keys, in the order written */
	size_t nkvs, kvcap;
	int cur;                        /* section receiving keys; -1: none */
	bool skipping;                  /* after a bad header: its keys are not checked */
	int global;                     /* index of [global] in secs, -1 */
	struct lm_names types, methods; /* section names (into the text) -> secs index */
};

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool ident_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
	       (ch >= '0' && ch <= '9');
}

static struct lm_pos at(int line, const char *base, const char *p)
{
	struct lm_pos pos = {line, (int)(p - base) + 1};
	return pos;
}

static void mark_broken(struct lm_parser *ps)
{
	if (ps->cur >= 0)
		ps->secs[ps->cur].broken = true;
}

/* End of the meaningful part of a line: a `#` or `;` at its start or after
 * a blank begins a comment, unless it sits inside a "string". */
static const char *cut_comment(const char *s, const char *end)
{
	bool quoted = false;
	for (const char *p = s; p < end; p++) {
		if (quoted) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"') {
			quoted = true;
		} else if ((*p == '#' || *p == ';') && (p == s || blank(p[-1]))) {
			return p;
		}
	}
	return end;
}

static bool valid_name(const char *s, size_t n, bool type)
{
	size_t i = 0;
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	while (i < n && ident_char(s[i]))
		i++;
	if (i == n)
		return true;
	if (type || s[i] != '@' || i == 0 || i + 1 == n)
		return false;
	for (i++; i < n; i++)
		if (!ident_char(s[i]) && s[i] != '.')
			return false;
	return true;
}

static struct lm_rsec *new_section(struct lm_parser *ps)
{
	struct lm_rsec *v = lm_grow(&ps->c, ps->secs, &ps->cap, ps->nsecs, sizeof(*v), 8);
	if (!v)
		return NULL;
	ps->secs = v;
	memset(&ps->secs[ps->nsecs], 0, sizeof(ps->secs[0]));
	ps->secs[ps->nsecs].index = -1;
	ps->secs[ps->nsecs].first = (uint32_t)ps->nkvs;
	return &ps->secs[ps->nsecs++];
}

/* KEY of SEC (the section being scanned, whose keys end the list), or NULL. */
static const struct lm_kv *find_key(const struct lm_parser *ps, const struct lm_rsec *sec,
                                    enum lm_key key)
{
	for (uint32_t i = sec->first; i < sec->first + sec->nkeys; i++)
		if (ps->kvs[i].key == key)
			return &ps->kvs[i].kv;
	return NULL;
}

/* A new entry for KEY at the end of the list, counted in SEC; NULL when
 * out of memory. */
static struct lm_kv *add_key(struct lm_parser *ps, struct lm_rsec *sec, enum lm_key key)
{
	struct key_entry *v = lm_grow(&ps->c, ps->kvs, &ps->kvcap, ps->nkvs, sizeof(*v), 16);
	if (!v)
		return NULL;
	ps->kvs = v;
	struct key_entry *e = &ps->kvs[ps->nkvs++];
	sec->nkeys++;
	e->key = key;
	memset(&e->kv, 0, sizeof(e->kv));
	return &e->kv;
}

/* An earlier section of the same name space, or NULL. Methods and types
 * have separate name spaces: [type stat] next to [cache stat] is common. */
static const struct lm_rsec *find_earlier(struct lm_parser *ps, const struct lm_rsec *s)
{
	bool method = s->kind == LM_SEC_CACHE || s->kind == LM_SEC_INVALIDATE;
	int self = (int)(s - ps->secs);
	int i = lm_names_put(method ? &ps->methods : &ps->types, s->name, s->nlen, self);

	if (i < 0)
		ps->c.oom = true;
	return i >= 0 && i != self ? &ps->secs[i] : NULL;
}

static void header(struct lm_parser *ps, int line, const char *base, const char *s, const char *end)
{
	static const char *const kinds[] = {"global", "type", "cache", "invalidate"};
	struct lm_ctx *c = &ps->c;
	const char *p = s + 1, *kw, *name, *close;
	size_t kwlen, nlen;
	int kind = -1;
	struct lm_rsec *sec;

	ps->cur = -1;
	ps->skipping = true;
	close = memchr(s, ']', (size_t)(end - s));
	if (!close) {
		lm_diag_error(c, at(line, base, s), "missing ']' in section header");
		return;
	}
	for (const char *q = close + 1; q < end; q++) {
		if (!blank(*q)) {
			lm_diag_error(c, at(line, base, q), "unexpected text after ']'");
			return;
		}
	}
	while (p < close && blank(*p))
		p++;
	kw = p;
	while (p < close && !blank(*p))
		p++;
	kwlen = (size_t)(p - kw);
	while (p < close && blank(*p))
		p++;
	name = p;
	while (p < close && !blank(*p))
		p++;
	nlen = (size_t)(p - name);
	while (p < close && blank(*p))
		p++;
	for (int k = 0; k < 4; k++)
		if (strlen(kinds[k]) == kwlen && memcmp(kinds[k], kw, kwlen) == 0)
			kind = k;
	if (kwlen == 0) {
		lm_diag_error(c, at(line, base, s), "empty section header");
		return;
	}
	if (kind < 0) {
		lm_diag_error(c, at(line, base, kw),
		              "unknown section '" LM_QFMT
		              "' (expected global, type, cache or invalidate)",
		              LM_QARG(kw, kwlen));
		return;
	}
	if (p != close) {
		lm_diag_error(c, at(line, base, p), "unexpected '" LM_QFMT "' in section header",
		              LM_QARG(p, (size_t)(close - p)));
		return;
	}
	if (kind == LM_SEC_GLOBAL && nlen) {
		lm_diag_error(c, at(line, base, name), "[global] takes no name");
		return;
	}
	if (kind != LM_SEC_GLOBAL && !nlen) {
		lm_diag_error(c, at(line, base, close), "missing name in [%s]", kinds[kind]);
		return;
	}
	if (kind != LM_SEC_GLOBAL && !valid_name(name, nlen, kind == LM_SEC_TYPE)) {
		lm_diag_error(c, at(line, base, name), "invalid %s name '" LM_QFMT "'",
		              kind == LM_SEC_TYPE ? "type" : "function", LM_QARG(name, nlen));
		return;
	}
	if (kind == LM_SEC_TYPE && lm_is_reserved_word(name, nlen)) {
		lm_diag_error(c, at(line, base, name),
		              "'" LM_QFMT "' is a built-in kind, not a type name",
		              LM_QARG(name, nlen));
		return;
	}
	sec = new_section(ps);
	if (!sec)
		return;
	sec->kind = (enum lm_sec_kind)kind;
	sec->pos = at(line, base, s);
	sec->npos = at(line, base, name);
	sec->name = name;
	sec->nlen = nlen;
	if (kind != LM_SEC_TYPE && nlen) {
		const char *v = memchr(name, '@', nlen);
		if (v) {
			sec->nlen = (size_t)(v - name);
			sec->version = v + 1;
			sec->verlen = nlen - sec->nlen - 1;
		}
	}
	ps->cur = (int)(ps->nsecs - 1);
	ps->skipping = false;
	if (kind == LM_SEC_GLOBAL) {
		if (ps->global >= 0) {
			lm_diag_error(c, sec->pos, "duplicate [global] section (first at line %d)",
			              ps->secs[ps->global].pos.line);
			sec->broken = true;
		} else {
			ps->global = ps->cur;
		}
		return;
	}
	const struct lm_rsec *o = find_earlier(ps, sec);
	if (o) {
		lm_diag_error(c, sec->npos, "'" LM_QFMT "' is already defined at line %d",
		              LM_QARG(sec->name, sec->nlen), o->pos.line);
		sec->broken = true;
		sec->index = -2; /* not entered */
	}
}

static void key_value(struct lm_parser *ps, int line, const char *base, const char *s,
                      const char *end)
{
	struct lm_ctx *c = &ps->c;
	const char *eq = memchr(s, '=', (size_t)(end - s)), *k = s, *kend, *v;
	struct lm_rsec *sec;
	int key;

	if (!eq) {
		lm_diag_error(c, at(line, base, s), "expected 'key = value' or a [section] header");
		mark_broken(ps);
		return;
	}
	kend = eq;
	while (kend > k && blank(kend[-1]))
		kend--;
	if (kend == k) {
		lm_diag_error(c, at(line, base, s), "missing key before '='");
		mark_broken(ps);
		return;
	}
	for (const char *q = k; q < kend; q++) {
		if (!ident_char(*q)) {
			lm_diag_error(c, at(line, base, k), "invalid key '" LM_QFMT "'",
			              LM_QARG(k, (size_t)(kend - k)));
			mark_broken(ps);
			return;
		}
	}
	if (ps->cur < 0) {
		if (!ps->skipping)
			lm_diag_error(c, at(line, base, k), "key '" LM_QFMT "' outside a section",
			              LM_QARG(k, (size_t)(kend - k)));
		return;
	}
	sec = &ps->secs[ps->cur];
	key = lm_key_lookup(c, sec, k, (size_t)(kend - k), at(line, base, k));
	if (key < 0) {
		sec->broken = true;
		return;
	}
	v = eq + 1;
	while (v < end && blank(*v))
		v++;
	const struct lm_kv *first = find_key(ps, sec, (enum lm_key)key);
	if (first) {
		char label[96];
		lm_diag_error(c, at(line, base, k), "duplicate key '%s' in %s (first at line %d)",
		              lm_key_name(key), lm_sec_label(sec, label, sizeof(label)),
		              first->kpos.line);
		sec->broken = true;
		return;
	}
	if (v == end) {
		lm_diag_error(c, at(line, base, v), "missing value for '%s'", lm_key_name(key));
		sec->broken = true;
		return;
	}
	struct lm_kv *kv = add_key(ps, sec, (enum lm_key)key);
	if (!kv)
		return;
	kv->present = true;
	kv->val = v;
	kv->vlen = (size_t)(end - v);
	kv->kpos = at(line, base, k);
	kv->vpos = at(line, base, v);
}

static void scan_lines(struct lm_parser *ps, const char *text, size_t len)
{
	const char *p = text, *stop = text + len;
	int line = 0;

	while (p < stop && !ps->c.oom) {
		const char *nl = memchr(p, '\n', (size_t)(stop - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(stop - p);
		const char *end, *s = p, *nul;

		line++;
		if (n && p[n - 1] == '\r')
			n--;
		end = p + n;
		nul = memchr(s, '\0', n);
		if (nul) {
			lm_diag_error(&ps->c, at(line, p, nul), "NUL byte in line");
			mark_broken(ps);
		} else {
			end = cut_comment(s, end);
			while (s < end && blank(*s))
				s++;
			while (end > s && blank(end[-1]))
				end--;
			if (s < end && *s == '[')
				header(ps, line, p, s, end);
			else if (s < end)
				key_value(ps, line, p, s, end);
		}
		p = nl ? nl + 1 : stop;
		if (line == INT32_MAX)
			break;
	}
}

static void enter_sections(struct lm_parser *ps)
{
	struct lm_config *cfg = ps->c.cfg;
	size_t nt = 0, nm = 0;

	for (size_t i = 0; i < ps->nsecs; i++) {
		if (ps->secs[i].index == -2 || ps->secs[i].kind == LM_SEC_GLOBAL)
			continue;
		if (ps->secs[i].kind == LM_SEC_TYPE)
			nt++;
		else
			nm++;
	}
	cfg->types = lm_calloc(&ps->c, nt, sizeof(*cfg->types));
	cfg->methods = lm_calloc(&ps->c, nm, sizeof(*cfg->methods));
	if (ps->c.oom)
		return;
	for (size_t i = 0; i < ps->nsecs; i++) {
		struct lm_rsec *s = &ps->secs[i];
		if (s->index == -2 || s->kind == LM_SEC_GLOBAL)
			continue;
		if (s->kind == LM_SEC_TYPE) {
			struct lm_type *t = &cfg->types[cfg->ntypes];
			t->name = lm_strndup(&ps->c, s->name, s->nlen);
			t->pos = s->pos;
			t->broken = s->broken;
			s->index = (int)cfg->ntypes++;
			if (t->name &&
			    lm_names_put(&cfg->type_names, t->name, s->nlen, s->index) < 0)
				ps->c.oom = true;
			continue;
		}
		struct lm_method *m = &cfg->methods[cfg->nmethods];
		m->name = lm_strndup(&ps->c, s->name, s->nlen);
		if (s->version)
			m->version = lm_strndup(&ps->c, s->version, s->verlen);
		m->invalidator = s->kind == LM_SEC_INVALIDATE;
		m->ttl_ms = LM_DUR_UNSET;
		m->coalesce = LM_UNSET;
		m->adaptive = LM_UNSET;
		m->mode = LM_MODE_CACHE;
		m->hook = LM_HOOK_AUTO;
		m->pos = s->pos;
		s->index = (int)cfg->nmethods++;
		if (m->name && lm_names_put(&cfg->method_names, m->name, s->nlen, s->index) < 0)
			ps->c.oom = true;
	}
}

/* Run F on every section of KIND, marking sections whose values have errors. */
static void each(struct lm_parser *ps, enum lm_sec_kind kind,
                 void (*f)(struct lm_ctx *, struct lm_rsec *))
{
	for (size_t i = 0; i < ps->nsecs && !ps->c.oom; i++) {
		struct lm_rsec *s = &ps->secs[i];
		if (s->kind != kind || (kind != LM_SEC_GLOBAL && s->index < 0) ||
		    (kind == LM_SEC_GLOBAL && (int)i != ps->global))
			continue;
		struct lm_kv keys[LM_KEY_COUNT] = {0};
		for (uint32_t k = s->first; k < s->first + s->nkeys; k++)
			keys[ps->kvs[k].key] = ps->kvs[k].kv;
		s->keys = keys;
		int before = ps->c.errors;
		f(&ps->c, s);
		s->keys = NULL;
		if (ps->c.errors != before)
			s->broken = true;
		if (kind == LM_SEC_TYPE && s->broken)
			ps->c.cfg->types[s->index].broken = true;
		else if (kind != LM_SEC_GLOBAL && kind != LM_SEC_TYPE && s->broken)
			ps->c.cfg->methods[s->index].broken = true;
	}
}

int lm_config_parse(const char *text, size_t len, const char *file, struct lm_config *out,
                    struct lm_diags *diags)
{
	int saved = errno;
	struct lm_parser ps = {.c = {.cfg = out, .diags = diags}, .cur = -1, .global = -1};

	memset(out, 0, sizeof(*out));
	lm_global_defaults(&out->global);
	out->file = file ? lm_strndup(&ps.c, file, strlen(file)) : NULL;
	if (text)
		scan_lines(&ps, text, len);
	if (!ps.c.oom)
		enter_sections(&ps);
	each(&ps, LM_SEC_GLOBAL, lm_global_apply);
	each(&ps, LM_SEC_TYPE, lm_type_parse_fields);
	if (!ps.c.oom)
		lm_types_layout(&ps.c);
	each(&ps, LM_SEC_CACHE, lm_method_apply);
	each(&ps, LM_SEC_INVALIDATE, lm_method_apply);
	each(&ps, LM_SEC_INVALIDATE, lm_drop_parse);
	free(ps.secs);
	free(ps.kvs);
	lm_names_free(&ps.types);
	lm_names_free(&ps.methods);
	lm_diags_sort(diags);
	errno = saved;
	return ps.c.oom ? -1 : ps.c.errors;
}

int lm_config_load_fd(int fd, const char *path, struct lm_config *out, struct lm_diags *diags)
{
	int saved = errno, rc, err = 0;
	char *buf = NULL;
	size_t len = 0, cap = 0, first = 65536;
	const char *why = NULL;
	struct stat st;

	/* A file's own size (and a byte to see its end) for the first read:
	 * the shim reads its config in every process it starts in, and 64 KiB
	 * of heap for a 200-byte file costs page faults. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < 65536)
		first = (size_t)st.st_size + 1;
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : first;
			char *nb = cap < (1u << 30) ? realloc(buf, ncap) : NULL;
			if (!nb) {
				why = "file too large or out of memory";
				break;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = errno;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (why || err) {
		struct lm_ctx c = {.cfg = out, .diags = diags};
		free(buf);
		memset(out, 0, sizeof(*out));
		lm_global_defaults(&out->global);
		out->file = path ? strdup(path) : NULL;
		/* EISDIR: a directory given as the config says so. */
		lm_diag_error(&c, (struct lm_pos){0, 0}, "cannot read config: %s",
		              why ? why : strerror(err));
		errno = saved;
		return c.oom ? -1 : 1;
	}
	rc = lm_config_parse(buf, len, path, out, diags);
	free(buf);
	errno = saved;
	return rc;
}

int lm_config_load(const char *path, struct lm_config *out, struct lm_diags *diags)
{
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : -1;
	if (fd < 0) {
		struct lm_ctx c = {.cfg = out, .diags = diags};
		int saved = errno;
		memset(out, 0, sizeof(*out));
		lm_global_defaults(&out->global);
		out->file = path ? strdup(path) : NULL;
		lm_diag_error(&c, (struct lm_pos){0, 0}, "cannot read config: %s", strerror(saved));
		errno = saved;
		return c.oom ? -1 : 1;
	}
	return lm_config_load_fd(fd, path, out, diags);
}

#include "stats_format.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

const char *const lm_snap_field_name[LM_SF_COUNT] = {
#define LM_X(name, kind) #name,
    LM_SNAP_FIELDS(LM_X)
#undef LM_X
};

const bool lm_snap_field_gauge[LM_SF_COUNT] = {
#define LM_X(name, kind) [LM_SF_##name] = #kind[0] == 'G',
    LM_SNAP_FIELDS(LM_X)
#undef LM_X
};

const bool lm_snap_field_signed[LM_SF_COUNT] = {[LM_SF_saved_ns] = true};

/* ---- An output buffer ---------------------------------------------------- */

struct out {
	int fd;
	int failed;
	size_t n;
	char buf[4096];
};

static void flush(struct out *o)
{
	size_t off = 0;
	while (off < o->n && !o->failed) {
		ssize_t w = write(o->fd, o->buf + off, o->n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			o->failed = 1;
		else
			off += (size_t)w;
	}
	o->n = 0;
}

static void put_n(struct out *o, const char *s, size_t len)
{
	while (len > 0) {
		if (o->n == sizeof o->buf)
			flush(o);
		size_t k = sizeof o->buf - o->n;
		if (k > len)
			k = len;
		memcpy(o->buf + o->n, s, k);
		o->n += k;
		s += k;
		len -= k;
	}
}

static void put(struct out *o, const char *s)
{
	put_n(o, s, strlen(s));
}

static size_t fmt_u64(char *b, uint64_t v)
{
	char t[24];
	size_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		b[i] = t[n - 1 - i];
	b[n] = '\0';
	return n;
}

static void put_u64(struct out *o, uint64_t v)
{
	char b[24];
	put_n(o, b, fmt_u64(b, v));
}

/* Field F's value V: signed fields as their int64_t. */
static void put_field(struct out *o, int f, uint64_t v)
{
	if (lm_snap_field_signed[f] && (int64_t)v < 0) {
		put(o, "-");
		v = -v;
	}
	put_u64(o, v);
}

/* V / SCALE with DEC decimals, rounded. */
static void put_fixed(struct out *o, uint64_t v, uint64_t scale, int dec)
{
	uint64_t pow = 1;
	for (int i = 0; i < dec; i++)
		pow *= 10;
	unsigned __int128 x = ((unsigned __int128)v * pow + scale / 2) / scale;
	put_u64(o, (uint64_t)(x / pow));
	if (dec == 0)
		return;
	put(o, ".");
	char b[24];
	size_t n = fmt_u64(b, (uint64_t)(x % pow));
	for (size_t i = n; i < (size_t)dec; i++)
		put(o, "0");
	put_n(o, b, n);
}

/* A JSON string body: quotes, backslashes and control characters escaped. */
static void put_json_str(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			put_n(o, e, 2);
		} else if (c < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			put_n(o, e, 6);
		} else {
			put_n(o, (const char *)&c, 1);
		}
	}
}

/* A Prometheus label value: only backslash, quote and newline are escaped,
 * as the exposition format defines them. */
static void put_label(struct out *o, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\') {
			char e[2] = {'\\', *s};
			put_n(o, e, 2);
		} else if (*s == '\n') {
			put(o, "\\n");
		} else {
			put_n(o, s, 1);
		}
	}
}

/* ---- json ---------------------------------------------------------------- */

static void json_str(struct out *o, const char *name, const char *v)
{
	put(o, "\"");
	put(o, name);
	put(o, "\":\"");
	put_json_str(o, v);
	put(o, "\"");
}

static void json_u64(struct out *o, const char *name, uint64_t v)
{
	put(o, ",\"");
	put(o, name);
	put(o, "\":");
	put_u64(o, v);
}

static void write_json(const struct lm_snapshot *s, struct out *o)
{
	put(o, "{");
	json_str(o, "version", s->version);
	json_u64(o, "pid", s->pid);
	put(o, ",");
	json_str(o, "program", s->program);
	put(o, ",\"uptime_s\":");
	put_fixed(o, s->uptime_ms, 1000, 3);
	put(o, ",");
	json_str(o, "backend", s->backend);
	json_u64(o, "entries", s->entries);
	json_u64(o, "bytes", s->bytes);
	if (s->host) {
		put(o, ",\"host\":{");
		put(o, "\"size\":");
		put_u64(o, s->host_size);
		json_u64(o, "entries", s->host_entries);
		json_u64(o, "evictions", s->host_evictions);
		put(o, "}");
	}
	put(o, ",\"methods\":[");
	for (size_t i = 0; i < s->nmethods; i++) {
		const struct lm_snap_method *m = &s->methods[i];
		put(o, i ? ",{" : "{");
		json_str(o, "name", m->name);
		put(o, ",");
		json_str(o, "object", m->object);
		put(o, ",");
		json_str(o, "hook", m->hook);
		put(o, ",");
		json_str(o, "mode", m->mode);
		for (int f = 0; f < LM_SF_COUNT; f++) {
			put(o, ",\"");
			put(o, lm_snap_field_name[f]);
			put(o, "\":");
			put_field(o, f, m->v[f]);
		}
		put(o, "}");
	}
	put(o, "],\"invalidators\":[");
	for (size_t i = 0; i < s->nwriters; i++) {
		const struct lm_snap_writer *w = &s->writers[i];
		put(o, i ? ",{" : "{");
		json_str(o, "name", w->name);
		put(o, ",");
		json_str(o, "object", w->object);
		put(o, ",");
		json_str(o, "hook", w->hook);
		json_u64(o, "calls", w->calls);
		json_u64(o, "dropped", w->dropped);
		put(o, "}");
	}
	put(o, "]}\n");
}

/* ---- prom ---------------------------------------------------------------- */

static const char *const field_help[LM_SF_COUNT] = {
    [LM_SF_calls] = "Calls that reached the hook.",
    [LM_SF_hits] = "Calls answered from the cache.",
    [LM_SF_misses] = "Calls that ran the original function.",
    [LM_SF_bypassed] = "Calls that ran uncached on purpose.",
    [LM_SF_stored] = "Results stored.",
    [LM_SF_stale] = "Stale results returned under stale_if_error.",
    [LM_SF_mismatches] = "Verify mode: real results that differed from the cached one.",
    [LM_SF_uncacheable] = "Results not stored because when failed.",
    [LM_SF_coalesced] = "Hits that waited for a concurrent miss.",
    [LM_SF_shared_hits] = "Hits served from the host tier (shared memory).",
    [LM_SF_expired] = "Entries found past their TTL.",
    [LM_SF_evicted] = "Entries evicted for room.",
    [LM_SF_invalidated] = "Entries dropped by write functions or by hand.",
    [LM_SF_entries] = "Entries held now.",
    [LM_SF_bytes] = "Bytes held now.",
    [LM_SF_miss_ns] = "Nanoseconds spent in the original function on misses.",
    [LM_SF_saved_ns] = "Estimated net nanoseconds saved, less ldmemo's own cost; negative: a loss.",
    [LM_SF_negative] = "Failed results stored (for negative_ttl), among stored.",
};

static void prom_family(struct out *o, const char *name, const char *suffix, const char *type,
                        const char *help)
{
	put(o, "# HELP ldmemo_");
	put(o, name);
	put(o, suffix);
	put(o, " ");
	put(o, help);
	put(o, "\n# TYPE ldmemo_");
	put(o, name);
	put(o, suffix);
	put(o, " ");
	put(o, type);
	put(o, "\n");
}

static void prom_sample(struct out *o, const char *name, const char *suffix, const char *method,
                        const char *program, int field, uint64_t v)
{
	put(o, "ldmemo_");
	put(o, name);
	put(o, suffix);
	put(o, "{");
	if (method) { /* the host tier's samples are the whole mapping's */
		put(o, "method=\"");
		put_label(o, method);
		put(o, "\",");
	}
	put(o, "program=\"");
	put_label(o, program);
	put(o, "\"} ");
	if (field >= 0)
		put_field(o, field, v);
	else
		put_u64(o, v);
	put(o, "\n");
}

static void write_prom(const struct lm_snapshot *s, struct out *o)
{
	for (int f = 0; f < LM_SF_COUNT; f++) {
		bool gauge = lm_snap_field_gauge[f];
		const char *suffix = gauge ? "" : "_total";
		prom_family(o, lm_snap_field_name[f], suffix, gauge ? "gauge" : "counter",
		            field_help[f]);
		for (size_t i = 0; i < s->nmethods; i++)
			prom_sample(o, lm_snap_field_name[f], suffix, s->methods[i].name,
			            s->program, f, s->methods[i].v[f]);
	}
	prom_family(o, "writer_calls", "_total", "counter", "Calls of a write function.");
	for (size_t i = 0; i < s->nwriters; i++)
		prom_sample(o, "writer_calls", "_total", s->writers[i].name, s->program, -1,
		            s->writers[i].calls);
	prom_family(o, "writer_dropped", "_total", "counter",
	            "Entries dropped by a write function.");
	for (size_t i = 0; i < s->nwriters; i++)
		prom_sample(o, "writer_dropped", "_total", s->writers[i].name, s->program, -1,
		            s->writers[i].dropped);
	if (!s->host)
		return;
	prom_family(o, "host_entries", "", "gauge", "Entries the host tier holds now.");
	prom_sample(o, "host_entries", "", NULL, s->program, -1, s->host_entries);
	prom_family(o, "host_evictions", "_total", "counter",
	            "Entries the host tier evicted for room, by every process.");
	prom_sample(o, "host_evictions", "_total", NULL, s->program, -1, s->host_evictions);
	prom_family(o, "host_size", "", "gauge", "Bytes of the host tier's mapping.");
	prom_sample(o, "host_size", "", NULL, s->program, -1, s->host_size);
}

/* ---- text ---------------------------------------------------------------- */

/* A small string builder for one table cell. */
struct cell {
	size_t n;
	char b[32];
};

static void cell_put(struct cell *c, const char *s)
{
	for (; *s && c->n + 1 < sizeof c->b; s++)
		c->b[c->n++] = *s;
	c->b[c->n] = '\0';
}

static void cell_u64(struct cell *c, uint64_t v)
{
	char b[24];
	fmt_u64(b, v);
	cell_put(c, b);
}

/* V / SCALE with DEC decimals into a cell, through a scratch buffer. */
static void cell_fixed(struct cell *c, uint64_t v, uint64_t scale, int dec)
{
	struct out o = {.fd = -1};
	put_fixed(&o, v, scale, dec);
	o.buf[o.n] = '\0';
	cell_put(c, o.buf);
}

/* A duration in the unit that reads best. */
static void cell_duration(struct cell *c, uint64_t ns)
{
	static const struct {
		uint64_t scale;
		int dec;
		const char *unit;
	} u[] = {{1, 0, " ns"}, {1000, 1, " us"}, {1000000, 1, " ms"}, {1000000000, 2, " s"}};
	int k = ns < 1000 ? 0 : ns < 1000000 ? 1 : ns < 1000000000 ? 2 : 3;
	cell_fixed(c, ns, u[k].scale, u[k].dec);
	cell_put(c, u[k].unit);
}

static void cell_bytes(struct cell *c, uint64_t b)
{
	static const char *const unit[] = {" B", " KiB", " MiB", " GiB", " TiB"};
	int k = 0;
	uint64_t scale = 1;
	while (k < 4 && b >= scale * 1024) {
		scale *= 1024;
		k++;
	}
	cell_fixed(c, b, scale, k ? 1 : 0);
	cell_put(c, unit[k]);
}

static void cell_ratio(struct cell *c, uint64_t hits, uint64_t calls)
{
	if (calls == 0) {
		cell_put(c, "-");
		return;
	}
	uint64_t permille = (uint64_t)(((unsigned __int128)hits * 1000 + calls / 2) / calls);
	if (permille == 1000 && hits < calls)
		permille = 999; /* never 100.0% while there are calls that were not hits */
	cell_fixed(c, permille, 10, 1);
	cell_put(c, "%");
}

enum {
	COL_NAME,
	COL_HOOK,
	COL_CALLS,
	COL_HITS,
	COL_RATIO,
	COL_MISSES,
	COL_STORED,
	COL_NEGATIVE,
	COL_ENTRIES,
	COL_BYTES,
	COL_SAVED,
	COL_MISSTIME,
	NCOL
};

static const char *const head[NCOL] = {"method",  "hook",   "calls",  "hits",
                                       "hit%",    "misses", "stored", "negative",
                                       "entries", "memory", "saved",  "miss time"};

/* The numeric cells of one row; name and hook are the snapshot's own. */
static void row_cells(const struct lm_snap_method *m, struct cell c[NCOL])
{
	memset(c, 0, NCOL * sizeof *c);
	const uint64_t *v = m->v;
	cell_u64(&c[COL_CALLS], v[LM_SF_calls]);
	cell_u64(&c[COL_HITS], v[LM_SF_hits]);
	cell_ratio(&c[COL_RATIO], v[LM_SF_hits], v[LM_SF_calls]);
	cell_u64(&c[COL_MISSES], v[LM_SF_misses]);
	cell_u64(&c[COL_STORED], v[LM_SF_stored]);
	cell_u64(&c[COL_NEGATIVE], v[LM_SF_negative]);
	cell_u64(&c[COL_ENTRIES], v[LM_SF_entries]);
	cell_bytes(&c[COL_BYTES], v[LM_SF_bytes]);
	if ((int64_t)v[LM_SF_saved_ns] < 0) {
		cell_put(&c[COL_SAVED], "loss ");
		cell_duration(&c[COL_SAVED], -v[LM_SF_saved_ns]);
	} else {
		cell_duration(&c[COL_SAVED], v[LM_SF_saved_ns]);
	}
	cell_duration(&c[COL_MISSTIME], v[LM_SF_miss_ns]);
}

static const char *row_text(const struct lm_snap_method *m, const struct cell c[NCOL], int col)
{
	if (col == COL_NAME)
		return m->name;
	if (col == COL_HOOK)
		return m->hook;
	return c[col].b;
}

/* Left-aligned text columns, right-aligned numbers, two spaces between. */
static void put_row(struct out *o, const char *const text[NCOL], const size_t w[NCOL])
{
	for (int i = 0; i < NCOL; i++) {
		size_t len = strlen(text[i]);
		if (i >= COL_CALLS)
			for (size_t k = len; k < w[i]; k++)
				put(o, " ");
		put(o, text[i]);
		if (i + 1 == NCOL)
			break;
		if (i < COL_CALLS)
			for (size_t k = len; k < w[i]; k++)
				put(o, " ");
		put(o, "  ");
	}
	put(o, "\n");
}

static void write_title(const struct lm_snapshot *s, struct out *o, bool colour)
{
	struct cell up = {0}, mem = {0};
	cell_duration(&up, s->uptime_ms * 1000000);
	cell_bytes(&mem, s->bytes);
	put(o, colour ? "\033[1mldmemo[" : "ldmemo[");
	put_u64(o, s->pid);
	put(o, "]: statistics for ");
	put(o, s->program);
	put(o, colour ? "\033[0m" : "");
	put(o, ": up ");
	put(o, up.b);
	put(o, ", backend ");
	put(o, s->backend);
	put(o, ", ");
	put_u64(o, s->entries);
	put(o, s->entries == 1 ? " entry, " : " entries, ");
	put(o, mem.b);
	if (s->host) {
		struct cell hsz = {0};
		cell_bytes(&hsz, s->host_size);
		put(o, "; host tier ");
		put(o, hsz.b);
		put(o, ", ");
		put_u64(o, s->host_entries);
		put(o, s->host_entries == 1 ? " entry, " : " entries, ");
		put_u64(o, s->host_evictions);
		put(o, " evicted");
	}
	put(o, "\n");
}

static void write_text(const struct lm_snapshot *s, struct out *o, bool colour)
{
	size_t w[NCOL];
	struct cell c[NCOL];
	for (int i = 0; i < NCOL; i++)
		w[i] = strlen(head[i]);
	for (size_t r = 0; r < s->nmethods; r++) {
		row_cells(&s->methods[r], c);
		for (int i = 0; i < NCOL; i++) {
			size_t len = strlen(row_text(&s->methods[r], c, i));
			if (len > w[i])
				w[i] = len;
		}
	}
	write_title(s, o, colour);
	put(o, colour ? "\033[1m" : "");
	put_row(o, head, w);
	put(o, colour ? "\033[0m" : "");
	for (size_t r = 0; r < s->nmethods; r++) {
		const struct lm_snap_method *m = &s->methods[r];
		const char *text[NCOL];
		row_cells(m, c);
		for (int i = 0; i < NCOL; i++)
			text[i] = row_text(m, c, i);
		put_row(o, text, w);
	}
	for (size_t r = 0; r < s->nmethods; r++) {
		const struct lm_snap_method *m = &s->methods[r];
		if (strcmp(m->mode, "verify") != 0)
			continue;
		put(o, "verify ");
		put(o, m->name);
		put(o, ": ");
		put_u64(o, m->v[LM_SF_mismatches]);
		put(o, " mismatches in ");
		put_u64(o, m->v[LM_SF_hits]);
		put(o, " would-be hits\n");
	}
	for (size_t r = 0; r < s->nmethods; r++) {
		const struct lm_snap_method *m = &s->methods[r];
		if (strcmp(m->mode, "bypass") != 0)
			continue;
		put(o, "adaptive ");
		put(o, m->name);
		put(o, ": not cached for now, caching it did not pay; its calls since go "
		       "straight to the function, counted as bypassed\n");
	}
	for (size_t r = 0; r < s->nwriters; r++) {
		const struct lm_snap_writer *wr = &s->writers[r];
		put(o, "write function ");
		put(o, wr->name);
		put(o, " (");
		put(o, wr->hook);
		put(o, "): ");
		put_u64(o, wr->calls);
		put(o, " calls, ");
		put_u64(o, wr->dropped);
		put(o, " entries dropped\n");
	}
}

int lm_stats_render(const struct lm_snapshot *s, int fd, enum lm_stats_format fmt, bool colour)
{
	struct out o = {.fd = fd};
	if (fmt == LM_FMT_JSON)
		write_json(s, &o);
	else if (fmt == LM_FMT_PROM)
		write_prom(s, &o);
	else
		write_text(s, &o, colour);
	flush(&o);
	return o.failed ? -1 : 0;
}

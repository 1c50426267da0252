#include "stats_format.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../config/defaults.h"
#include "counters.h"
#include "runtime.h"

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

/* JSON and Prometheus label strings: escape quotes, backslashes and
 * control characters. */
static void put_escaped(struct out *o, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			put_n(o, e, 2);
		} else if (c < 0x20) {
			static const char hex[] = "0123456789abcdef";
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			put_n(o, e, 6);
		} else {
			put_n(o, (const char *)&c, 1);
		}
	}
}

static void put_pad(struct out *o, const char *s, size_t width, int right)
{
	size_t len = strlen(s);
	if (right)
		for (size_t i = len; i < width; i++)
			put(o, " ");
	put(o, s);
	if (!right)
		for (size_t i = len; i < width; i++)
			put(o, " ");
}

/* ---- Numbers of one method ------------------------------------------------ */

struct mstats {
	uint64_t c[LM_C_COUNT];
	struct lm_store_mstats s;
	uint64_t saved_ns;
};

static void collect(const struct lm_runtime *rt, uint32_t id, struct mstats *ms)
{
	for (int i = 0; i < LM_C_COUNT; i++)
		ms->c[i] = lm_counters_sum(id, (enum lm_counter)i);
	lm_store_method_stats(rt->store, id, &ms->s);
	uint64_t misses = ms->c[LM_C_misses];
	ms->saved_ns =
	    misses ? (uint64_t)((unsigned __int128)ms->c[LM_C_hits] * ms->c[LM_C_miss_ns] / misses)
	           : 0;
}

static const char *hook_name(enum lm_hook_state s)
{
	static const char *const names[] = {"unresolved", "failed", "detour", "got"};
	return names[s];
}

static const char *program_path(void)
{
	static char path[4096];
	if (!path[0]) {
		ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
		path[n > 0 ? n : 0] = '\0';
	}
	return path;
}

static const char *backend_name(const struct lm_runtime *rt)
{
	static const char *const names[] = {"local", "redis", "memcached"};
	return names[rt->cfg.global.backend.kind];
}

/* ---- json ---------------------------------------------------------------- */

static void put_field(struct out *o, const char *name, uint64_t v)
{
	put(o, ",\"");
	put(o, name);
	put(o, "\":");
	put_u64(o, v);
}

static void write_json(const struct lm_runtime *rt, struct out *o)
{
	uint64_t entries, bytes;
	lm_store_totals(rt->store, &entries, &bytes);
	put(o, "{\"version\":\"" LDMEMO_VERSION "\",\"pid\":");
	put_u64(o, (uint64_t)getpid());
	put(o, ",\"program\":\"");
	put_escaped(o, program_path());
	put(o, "\",\"uptime_s\":");
	put_fixed(o, (uint64_t)(lm_now_ns() - rt->start_ns), 1000000000, 3);
	put(o, ",\"backend\":\"");
	put(o, backend_name(rt));
	put(o, "\"");
	put_field(o, "entries", entries);
	put_field(o, "bytes", bytes);
	const char *sep = "";
	put(o, ",\"methods\":[");
	for (uint32_t i = 0; i < rt->nmethods; i++) {
		const struct lm_rt_method *m = &rt->methods[i];
		if (m->cfg->invalidator)
			continue;
		struct mstats ms;
		collect(rt, i, &ms);
		put(o, sep);
		sep = ",";
		put(o, "{\"name\":\"");
		put_escaped(o, m->cfg->name);
		put(o, "\",\"object\":\"");
		put_escaped(o, m->object ? m->object : "");
		put(o, "\",\"hook\":\"");
		put(o, hook_name(m->state));
		put(o, "\",\"mode\":\"");
		put(o, m->verify ? "verify" : "cache");
		put(o, "\"");
		put_field(o, "calls", ms.c[LM_C_calls]);
		put_field(o, "hits", ms.c[LM_C_hits]);
		put_field(o, "misses", ms.c[LM_C_misses]);
		put_field(o, "bypassed", ms.c[LM_C_bypassed]);
		put_field(o, "stored", ms.c[LM_C_stored]);
		put_field(o, "stale", ms.c[LM_C_stale]);
		put_field(o, "mismatches", ms.c[LM_C_mismatches]);
		put_field(o, "uncacheable", ms.c[LM_C_uncacheable]);
		put_field(o, "coalesced", ms.c[LM_C_coalesced]);
		put_field(o, "expired", ms.s.expired);
		put_field(o, "evicted", ms.s.evicted);
		put_field(o, "invalidated", ms.s.invalidated);
		put_field(o, "entries", ms.s.entries);
		put_field(o, "bytes", ms.s.bytes);
		put_field(o, "miss_ns", ms.c[LM_C_miss_ns]);
		put_field(o, "saved_ns", ms.saved_ns);
		put(o, "}");
	}
	put(o, "],\"invalidators\":[");
	sep = "";
	for (uint32_t i = 0; i < rt->nmethods; i++) {
		const struct lm_rt_method *m = &rt->methods[i];
		if (!m->cfg->invalidator)
			continue;
		put(o, sep);
		sep = ",";
		put(o, "{\"name\":\"");
		put_escaped(o, m->cfg->name);
		put(o, "\",\"object\":\"");
		put_escaped(o, m->object ? m->object : "");
		put(o, "\",\"hook\":\"");
		put(o, hook_name(m->state));
		put(o, "\"");
		put_field(o, "calls", lm_counters_sum(i, LM_C_calls));
		put_field(o, "dropped", lm_counters_sum(i, LM_C_dropped));
		put(o, "}");
	}
	put(o, "]}\n");
}

/* ---- prom ---------------------------------------------------------------- */

static void prom_metric(const struct lm_runtime *rt, struct out *o, const char *name,
                        const char *type, int field, bool writers)
{
	put(o, "# TYPE ldmemo_");
	put(o, name);
	put(o, " ");
	put(o, type);
	put(o, "\n");
	for (uint32_t i = 0; i < rt->nmethods; i++) {
		const struct lm_rt_method *m = &rt->methods[i];
		if (m->cfg->invalidator != writers)
			continue;
		struct mstats ms;
		collect(rt, i, &ms);
		uint64_t v = field >= 0 ? ms.c[field] : 0;
		if (field == -1)
			v = ms.s.entries;
		else if (field == -2)
			v = ms.s.bytes;
		else if (field == -3)
			v = ms.s.expired;
		else if (field == -4)
			v = ms.s.evicted;
		else if (field == -5)
			v = ms.s.invalidated;
		else if (field == -6)
			v = ms.saved_ns;
		put(o, "ldmemo_");
		put(o, name);
		put(o, "{method=\"");
		put_escaped(o, m->cfg->name);
		put(o, "\",program=\"");
		put_escaped(o, program_path());
		put(o, "\"} ");
		put_u64(o, v);
		put(o, "\n");
	}
}

static void write_prom(const struct lm_runtime *rt, struct out *o)
{
	static const struct {
		const char *name;
		int field;
	} counters[] = {
	    {"calls_total", LM_C_calls},
	    {"hits_total", LM_C_hits},
	    {"misses_total", LM_C_misses},
	    {"bypassed_total", LM_C_bypassed},
	    {"stored_total", LM_C_stored},
	    {"stale_total", LM_C_stale},
	    {"mismatches_total", LM_C_mismatches},
	    {"uncacheable_total", LM_C_uncacheable},
	    {"coalesced_total", LM_C_coalesced},
	    {"expired_total", -3},
	    {"evicted_total", -4},
	    {"invalidated_total", -5},
	    {"miss_ns_total", LM_C_miss_ns},
	    {"saved_ns_total", -6},
	};
	for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
		prom_metric(rt, o, counters[i].name, "counter", counters[i].field, false);
	prom_metric(rt, o, "entries", "gauge", -1, false);
	prom_metric(rt, o, "bytes", "gauge", -2, false);
	prom_metric(rt, o, "writer_calls_total", "counter", LM_C_calls, true);
	prom_metric(rt, o, "writer_dropped_total", "counter", LM_C_dropped, true);
}

/* ---- text ---------------------------------------------------------------- */

/* A duration in the unit that reads best. */
static void fmt_duration(char *b, size_t len, uint64_t ns)
{
	struct out o = {.fd = -1};
	if (ns < 1000) {
		put_u64(&o, ns);
		put(&o, " ns");
	} else if (ns < 1000000) {
		put_fixed(&o, ns, 1000, 1);
		put(&o, " us");
	} else if (ns < 1000000000) {
		put_fixed(&o, ns, 1000000, 1);
		put(&o, " ms");
	} else {
		put_fixed(&o, ns, 1000000000, 2);
		put(&o, " s");
	}
	size_t n = o.n < len - 1 ? o.n : len - 1;
	memcpy(b, o.buf, n);
	b[n] = '\0';
}

static void fmt_num(char *b, uint64_t v)
{
	fmt_u64(b, v);
}

static void fmt_ratio(char *b, size_t len, uint64_t hits, uint64_t calls)
{
	struct out o = {.fd = -1};
	if (calls == 0)
		put(&o, "-");
	else {
		put_fixed(&o, hits * 100, calls, 1);
		put(&o, "%");
	}
	size_t n = o.n < len - 1 ? o.n : len - 1;
	memcpy(b, o.buf, n);
	b[n] = '\0';
}

static void copy_cell(char *b, size_t len, const char *s)
{
	size_t n = strlen(s);
	if (n > len - 1)
		n = len - 1;
	memcpy(b, s, n);
	b[n] = '\0';
}

static void write_text(const struct lm_runtime *rt, struct out *o)
{
	static const char *const head[] = {"method", "hook",   "calls",   "hits",  "hit%",
	                                   "misses", "stored", "entries", "saved", "miss time"};
	enum { NCOL = 10 };
	size_t w[NCOL];
	for (int i = 0; i < NCOL; i++)
		w[i] = strlen(head[i]);
	char cell[NCOL][32];
	/* Two passes: widths, then rows. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			put(o, "ldmemo[");
			put_u64(o, (uint64_t)getpid());
			put(o, "]: statistics for ");
			put(o, program_path());
			put(o, "\n");
			for (int i = 0; i < NCOL; i++) {
				put_pad(o, head[i], w[i], i >= 2);
				put(o, i + 1 < NCOL ? "  " : "\n");
			}
		}
		for (uint32_t id = 0; id < rt->nmethods; id++) {
			const struct lm_rt_method *m = &rt->methods[id];
			if (m->cfg->invalidator)
				continue;
			struct mstats ms;
			collect(rt, id, &ms);
			const char *name = m->cfg->name;
			copy_cell(cell[0], sizeof cell[0], name);
			copy_cell(cell[1], sizeof cell[1], hook_name(m->state));
			fmt_num(cell[2], ms.c[LM_C_calls]);
			fmt_num(cell[3], ms.c[LM_C_hits]);
			fmt_ratio(cell[4], sizeof cell[4], ms.c[LM_C_hits], ms.c[LM_C_calls]);
			fmt_num(cell[5], ms.c[LM_C_misses]);
			fmt_num(cell[6], ms.c[LM_C_stored]);
			fmt_num(cell[7], ms.s.entries);
			fmt_duration(cell[8], sizeof cell[8], ms.saved_ns);
			fmt_duration(cell[9], sizeof cell[9], ms.c[LM_C_miss_ns]);
			for (int i = 0; i < NCOL; i++) {
				size_t l = strlen(cell[i]);
				if (pass == 0 && l > w[i])
					w[i] = l;
				if (pass == 1) {
					put_pad(o, cell[i], w[i], i >= 2);
					put(o, i + 1 < NCOL ? "  " : "\n");
				}
			}
		}
	}
	for (uint32_t id = 0; id < rt->nmethods; id++) {
		const struct lm_rt_method *m = &rt->methods[id];
		if (!m->cfg->invalidator)
			continue;
		put(o, "write function ");
		put(o, m->cfg->name);
		put(o, " (");
		put(o, hook_name(m->state));
		put(o, "): ");
		put_u64(o, lm_counters_sum(id, LM_C_calls));
		put(o, " calls, ");
		put_u64(o, lm_counters_sum(id, LM_C_dropped));
		put(o, " entries dropped\n");
	}
}

int lm_stats_format(const struct lm_runtime *rt, int fd, enum lm_stats_format fmt)
{
	struct out o = {.fd = fd};
	if (fmt == LM_FMT_JSON)
		write_json(rt, &o);
	else if (fmt == LM_FMT_PROM)
		write_prom(rt, &o);
	else
		write_text(rt, &o);
	flush(&o);
	return o.failed ? -1 : 0;
}

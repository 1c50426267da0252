/* `keys METHOD [LIMIT]` on the control socket: the live entries of one
 * method, each key rendered by its parameter kinds (as the logs render
 * them), with its age and the time it has left. The store is walked with
 * the iteration persistence uses; each line goes to the in-memory reply
 * while the entry's shard is held, so nothing here waits on the client. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "shim/base/clock.h"
#include "shim/call/runtime.h"

struct keys_ctx {
	int out;
	const struct lm_rt_method *m;
	size_t limit, total, shown;
	int64_t now;
};

static void put_duration(char *buf, size_t len, int64_t ms)
{
	if (ms < 10000)
		snprintf(buf, len, "%" PRId64 "ms", ms);
	else if (ms < 600000)
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	else if (ms < 36000000)
		snprintf(buf, len, "%" PRId64 "m", ms / 60000);
	else
		snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
}

/* The age comes from the TTL the entry was stored with, which only the
 * method's settings tell: known when the TTL is finite and the entry
 * cannot be a negative one stored with the (shorter) negative TTL. */
static bool age_of(const struct lm_rt_method *m, int64_t left, int64_t *age)
{
	if (m->ttl_ms == LM_DUR_NEVER || m->ttl_ms <= 0 || left > m->ttl_ms)
		return false;
	if (m->negative_ttl_ms > 0 && left <= m->negative_ttl_ms)
		return false;
	*age = m->ttl_ms - left;
	return true;
}

static void key_line(const struct lm_entry *e, void *arg)
{
	struct keys_ctx *c = arg;
	if (lm_entry_method(e) != c->m->id)
		return;
	c->total++;
	if (c->limit && c->shown >= c->limit)
		return;
	uint32_t klen;
	const void *key = lm_entry_key(e, &klen);
	char desc[512], age[32] = "?", left[32] = "never";
	lm_plan_key_describe(c->m->plan, key, klen, desc, sizeof desc);
	int64_t exp = lm_entry_expires_ms(e), a;
	if (exp != LM_DUR_NEVER) {
		int64_t l = exp > c->now ? exp - c->now : 0;
		put_duration(left, sizeof left, l);
		if (age_of(c->m, l, &a))
			put_duration(age, sizeof age, a);
	}
	dprintf(c->out, "%s  age %s  ttl left %s\n", desc, age, left);
	c->shown++;
}

void lm_control_keys(int out, uint32_t id, size_t limit)
{
	const struct lm_rt_method *m = &lm_rt->methods[id];
	if (!m->plan) {
		dprintf(out, "error %s is not hooked: it has no entries\n", m->cfg->name);
		return;
	}
	struct keys_ctx c = {.out = out, .m = m, .limit = limit, .now = lm_clock_ms()};
	dprintf(out, "ok\n");
	lm_store_each(lm_rt->store, key_line, &c);
	dprintf(out, "%zu entr%s, %zu shown\n", c.total, c.total == 1 ? "y" : "ies", c.shown);
}

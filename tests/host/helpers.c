#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

static char dir[64];

const char *ht_dir_new(void)
{
	snprintf(dir, sizeof dir, "/tmp/ldmemo-host-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
	return dir;
}

void ht_dir_free(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

const char *ht_map_path(const char *ns)
{
	static char p[512];
	cr_assert_eq(lm_host_path(dir, (unsigned)geteuid(), ns, p, sizeof p), 0);
	return p;
}

struct lm_host *ht_open(const char *ns, uint64_t size)
{
	char why[512], note[512];
	struct lm_host *h = lm_host_open(dir, ns, size, why, sizeof why, note, sizeof note);
	cr_assert(h != NULL, "%s", why);
	return h;
}

uint64_t ht_hash(const char *key)
{
	return XXH3_64bits(key, strlen(key));
}

int ht_get(struct lm_host *h, const struct lm_host_method *m, const char *key, char *buf,
           size_t len)
{
	struct lm_buf out = {0};
	int64_t exp;
	struct lm_host_ticket t;
	int r = lm_host_get(h, m, ht_hash(key), key, (uint32_t)strlen(key), &out, &exp, &t);
	if (r == 1) {
		cr_assert_lt(out.len, len);
		memcpy(buf, out.p, out.len);
		buf[out.len] = 0;
	}
	lm_buf_free(&out);
	return r;
}

int ht_set(struct lm_host *h, const struct lm_host_method *m, const char *key, const char *val,
           int64_t ttl_ms)
{
	struct lm_buf out = {0};
	int64_t exp;
	struct lm_host_ticket t;
	lm_host_get(h, m, ht_hash(key), key, (uint32_t)strlen(key), &out, &exp, &t);
	lm_buf_free(&out);
	return lm_host_set(h, m, ht_hash(key), key, (uint32_t)strlen(key), val, strlen(val), ttl_ms,
	                   &t);
}

const char *ht_path(const char *name)
{
	static __thread char buf[4][512];
	static __thread int next;
	char *b = buf[next++ % 4];
	snprintf(b, 512, "%s/build/tests/host/%s", getenv("PWD") ? getenv("PWD") : ".", name);
	return b;
}

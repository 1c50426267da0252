/* Backend URLs: local, redis://[:PASSWORD@]HOST[:PORT][/DB], unix:PATH,
 * memcached://HOST[:PORT][,HOST[:PORT]...]. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "defaults.h"

void lm_backend_free(struct lm_backend *b)
{
	if (!b)
		return;
	free(b->url);
	free(b->password);
	free(b->unix_path);
	for (size_t i = 0; i < b->nhosts; i++)
		free(b->hosts[i].host);
	free(b->hosts);
	memset(b, 0, sizeof(*b));
}

/* A decimal number in [lo, hi] filling S[0..N); -1 when not. */
static long number(const char *s, size_t n, long lo, long hi)
{
	long v = 0;
	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi ? v : -1;
}

/* HOST[:PORT] or [IPV6][:PORT] in S[0..N). */
static int hostport(const char *s, size_t n, int defport, struct lm_hostport *hp)
{
	const char *host = s, *colon = NULL;
	size_t hlen;
	long port = defport;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return -1;
		host = s + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < s + n) {
			if (close[1] != ':')
				return -1;
			colon = close + 1;
		}
	} else {
		colon = memchr(s, ':', n);
		hlen = colon ? (size_t)(colon - s) : n;
	}
	if (hlen == 0 || memchr(host, '/', hlen) || memchr(host, '@', hlen))
		return -1;
	if (colon) {
		port = number(colon + 1, (size_t)(s + n - colon - 1), 1, 65535);
		if (port < 0)
			return -1;
	}
	hp->host = strndup(host, hlen);
	if (!hp->host)
		return -1;
	hp->port = (int)port;
	return 0;
}

static int redis(const char *s, struct lm_backend *b)
{
	const char *at = strrchr(s, '@'), *slash;
	size_t n;

	if (at) {
		if (s[0] != ':' || at == s + 1)
			return -1;
		b->password = strndup(s + 1, (size_t)(at - s - 1));
		if (!b->password)
			return -1;
		s = at + 1;
	}
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (slash) {
		long db = number(slash + 1, strlen(slash + 1), 0, 1 << 20);
		if (db < 0)
			return -1;
		b->db = (int)db;
	}
	b->hosts = calloc(1, sizeof(*b->hosts));
	if (!b->hosts)
		return -1;
	if (hostport(s, n, LM_DEFAULT_REDIS_PORT, &b->hosts[0]) < 0)
		return -1;
	b->nhosts = 1;
	return 0;
}

static int memcached(const char *s, struct lm_backend *b)
{
	size_t count = 1;
	for (const char *p = s; *p; p++)
		count += *p == ',';
	b->hosts = calloc(count, sizeof(*b->hosts));
	if (!b->hosts)
		return -1;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		if (hostport(s, n, LM_DEFAULT_MEMCACHED_PORT, &b->hosts[b->nhosts]) < 0)
			return -1;
		b->nhosts++;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

int lm_parse_backend(const char *s, struct lm_backend *b)
{
	int rc = -1;

	memset(b, 0, sizeof(*b));
	if (!s)
		return -1;
	b->url = strdup(s);
	if (!b->url)
		return -1;
	if (strcmp(s, "local") == 0) {
		b->kind = LM_BACKEND_LOCAL;
		rc = 0;
	} else if (strncmp(s, "redis://", 8) == 0) {
		b->kind = LM_BACKEND_REDIS;
		rc = redis(s + 8, b);
	} else if (strncmp(s, "unix:", 5) == 0) {
		b->kind = LM_BACKEND_REDIS;
		if (s[5]) {
			b->unix_path = strdup(s + 5);
			rc = b->unix_path ? 0 : -1;
		}
	} else if (strncmp(s, "memcached://", 12) == 0) {
		b->kind = LM_BACKEND_MEMCACHED;
		rc = memcached(s + 12, b);
	}
	if (rc < 0)
		lm_backend_free(b);
	return rc;
}

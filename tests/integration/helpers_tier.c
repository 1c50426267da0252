#include "helpers_tier.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int64_t lm_test_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lm_test_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

enum lm_l2_result lm_test_get(struct lm_l2 *l, uint32_t method, const char *key, char *buf,
                              size_t len)
{
	struct lm_buf out = {0};
	enum lm_l2_result r = lm_l2_get(l, method, key, (uint32_t)strlen(key), &out);
	buf[0] = 0;
	if (r == LM_L2_HIT) {
		size_t n = out.len < len - 1 ? out.len : len - 1;
		memcpy(buf, out.p, n);
		buf[n] = 0;
	}
	lm_buf_free(&out);
	return r;
}

enum lm_l2_result lm_test_set(struct lm_l2 *l, uint32_t method, const char *key, const char *val,
                              int64_t ttl_ms)
{
	return lm_l2_set(l, method, key, (uint32_t)strlen(key), val, strlen(val), ttl_ms);
}

#include "log.h"
#include "shim/base/guard.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum lm_log_level lm_log_level = LM_LOG_WARN;
static int log_fd = 2;

static const char *const level_names[] = {"quiet", "error", "warn", "info", "debug"};

int lm_log_parse_level(const char *s)
{
	for (int i = 0; i <= LM_LOG_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void lm_log_set_fd(int fd)
{
	log_fd = fd;
}

int lm_log_fd(void)
{
	return log_fd;
}

static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(log_fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void emit_line(const char *body, size_t len)
{
	char buf[1200];
	int n = snprintf(buf, sizeof buf, "ldmemo[%d]: %.*s\n", (int)getpid(), (int)len, body);
	if (n > (int)sizeof buf - 1)
		n = (int)sizeof buf - 1;
	if (n > 0)
		write_all(buf, (size_t)n);
}

void lm_log(enum lm_log_level lvl, const char *fmt, ...)
{
	if (lvl > lm_log_level || lvl == LM_LOG_QUIET)
		return;
	LM_KEEP_ERRNO();
	char body[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof body - 1)
		n = (int)sizeof body - 1;
	if (n > 0)
		emit_line(body, (size_t)n);
}

void lm_log_block(enum lm_log_level lvl, const char *text)
{
	if (lvl > lm_log_level || lvl == LM_LOG_QUIET)
		return;
	LM_KEEP_ERRNO();
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);
		emit_line(text, len);
		text += len + (nl != NULL);
	}
}

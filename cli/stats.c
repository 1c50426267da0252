/* `ldmemo stats [-f FORMAT] [-a] FILE`: re-renders json statistics dumps
 * (as the shim writes them, one object per dump) as text, json or prom,
 * through the same renderer as the shim. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dump.h"
#include "shim/ops/stats_format.h"

#define MAX_INPUT (256u << 20)

static const char usage[] =
    "Usage: ldmemo stats [-f FORMAT] [-a] FILE\n"
    "\n"
    "Re-render statistics dumped in json format (LDMEMO_STATS_FORMAT=json) as text,\n"
    "json or prom. FILE holds one or more dumps, one JSON object each (a file\n"
    "written at each LDMEMO_STATS_SIGNAL holds several); - reads stdin. The last\n"
    "dump is rendered: counters only grow, so it is the most complete.\n"
    "\n"
    "  -f, --format FORMAT  text (default), json or prom\n"
    "  -a, --all            render every dump in turn, not only the last\n"
    "  -h, --help           this text\n"
    "\n"
    "The text table is coloured when stdout is a terminal and NO_COLOR is unset.\n"
    "\n"
    "Exit status: 0; 1 FILE cannot be read or is not a dump (the message names\n"
    "the byte offset); 2 usage error.\n";

static int usage_error(const char *what)
{
	return lm_cli_usage_error("stats: %s", what);
}

/* The whole of FD, NUL-terminated; NULL with errno set. */
static char *slurp(int fd, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 1 == cap) {
			if (cap >= MAX_INPUT) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t k = read(fd, buf + n, cap - 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		if (k == 0) {
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		n += (size_t)k;
	}
	int err = errno;
	free(buf);
	errno = err;
	return NULL;
}

struct opts {
	enum lm_stats_format fmt;
	bool all;
	const char *file;
};

/* An exit status to return at once (help, usage error), or -1 to go on. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.fmt = LM_FMT_TEXT};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *f = NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(a, "-a") == 0 || strcmp(a, "--all") == 0) {
			o->all = true;
		} else if (strcmp(a, "-f") == 0 || strcmp(a, "--format") == 0) {
			if (++i == argc)
				return usage_error("-f needs a FORMAT");
			f = argv[i];
		} else if (strncmp(a, "--format=", 9) == 0) {
			f = a + 9;
		} else if (a[0] == '-' && a[1] != '\0') {
			char msg[256];
			snprintf(msg, sizeof msg, "unknown option %s", a);
			return usage_error(msg);
		} else if (o->file) {
			return usage_error("one FILE only");
		} else {
			o->file = a;
		}
		if (f && lm_parse_stats_format(f, &o->fmt) != 0) {
			char msg[256];
			snprintf(msg, sizeof msg, "%s: not a format (text, json, prom)", f);
			return usage_error(msg);
		}
	}
	return -1;
}

/* Every dump of BUF; *N of them. NULL after a message on error. */
static struct lm_dump *read_dumps(const char *name, const char *buf, size_t len, size_t *n)
{
	struct lm_dump *d = NULL;
	size_t cap = 0, pos = 0;
	*n = 0;
	for (;;) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			struct lm_dump *nd = realloc(d, cap * sizeof *d);
			if (!nd) {
				fprintf(stderr, "ldmemo: stats: %s: out of memory\n", name);
				break;
			}
			d = nd;
		}
		struct lm_json_err err = {0};
		int rc = lm_dump_next(buf, len, &pos, &d[*n], &err);
		if (rc == 1) {
			(*n)++;
			continue;
		}
		if (rc == 0 && *n > 0)
			return d;
		if (rc == 0)
			fprintf(stderr, "ldmemo: stats: %s: byte %zu: no statistics dump\n", name,
			        pos);
		else
			fprintf(stderr, "ldmemo: stats: %s: byte %zu: %s\n", name, err.offset,
			        err.msg);
		break;
	}
	while (*n > 0)
		lm_dump_free(&d[--*n]);
	free(d);
	return NULL;
}

int lm_cmd_stats(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (!o.file)
		return usage_error("missing FILE");
	bool use_stdin = strcmp(o.file, "-") == 0;
	int fd = use_stdin ? 0 : open(o.file, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	char *buf = fd < 0 ? NULL : slurp(fd, &len);
	if (!buf) {
		fprintf(stderr, "ldmemo: stats: %s: %s\n", o.file, strerror(errno));
		if (fd > 0)
			close(fd);
		return 1;
	}
	if (!use_stdin)
		close(fd);
	size_t n;
	struct lm_dump *d = read_dumps(use_stdin ? "stdin" : o.file, buf, len, &n);
	rc = d ? 0 : 1;
	const char *nc = getenv("NO_COLOR");
	bool colour = o.fmt == LM_FMT_TEXT && isatty(1) && !(nc && *nc);
	size_t first = d && !o.all ? n - 1 : 0;
	for (size_t i = first; d && i < n && rc == 0; i++) {
		bool sep = i > first && o.fmt == LM_FMT_TEXT;
		if ((sep && write(1, "\n", 1) != 1) ||
		    lm_stats_render(&d[i].snap, 1, o.fmt, colour) != 0) {
			fprintf(stderr, "ldmemo: stats: cannot write: %s\n", strerror(errno));
			rc = 1;
		}
	}
	for (size_t i = 0; d && i < n; i++)
		lm_dump_free(&d[i]);
	free(d);
	free(buf);
	return rc;
}

/* `ldmemo ctl PID (stats [-f FORMAT] | invalidate METHOD [VALUE...] |
 * invalidate --all | keys METHOD [--limit N])`: one request to a live process's control socket
 * (the protocol is described in shim/ops/control.c).
 *
 * Exit status: 0 done; 1 the process answered an error; 2 it cannot be
 * reached (no such process, control off, permission) or a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config/config.h"

#define CTL_EXIT_ERROR       1
#define CTL_EXIT_UNREACHABLE 2
#define CTL_MAX_REQUEST      4096
#define CTL_TIMEOUT_MS       10000

struct req {
	char buf[CTL_MAX_REQUEST + 1];
	size_t len;
	bool overflow;
};

static void add(struct req *r, const char *s, size_t n)
{
	if (r->len + n >= CTL_MAX_REQUEST) {
		r->overflow = true;
		return;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

static void add_str(struct req *r, const char *s)
{
	add(r, s, strlen(s));
}

/* A quoted string for the wire, escaping \, " and newlines. */
static void add_quoted(struct req *r, const char *s, size_t n)
{
	add(r, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '"')
			add(r, "\\", 1);
		add(r, s[i] == '\n' ? "\\n" : s + i, s[i] == '\n' ? 2 : 1);
	}
	add(r, "\"", 1);
}

static bool is_number(const char *s)
{
	char *end;
	if (!*s || *s == ' ' || *s == '\t')
		return false;
	errno = 0;
	if (*s == '-')
		(void)strtoll(s, &end, 0);
	else
		(void)strtoull(s, &end, 0);
	if (!*end && errno == 0)
		return true;
	errno = 0;
	(void)strtod(s, &end);
	return !*end && errno == 0;
}

/* A command-line value: `*`, a number, "text" in quotes (taken as is
 * between them), or any other word as a string. */
static void add_value(struct req *r, const char *v)
{
	size_t n = strlen(v);
	add(r, " ", 1);
	if (strcmp(v, "*") == 0 || is_number(v))
		add_str(r, v);
	else if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		add_quoted(r, v + 1, n - 2);
	else
		add_quoted(r, v, n);
}

#define CTL_USAGE                                              \
	"usage: ldmemo ctl PID stats [-f text|json|prom]\n"    \
	"       ldmemo ctl PID invalidate METHOD [VALUE...]\n" \
	"       ldmemo ctl PID invalidate --all\n"             \
	"       ldmemo ctl PID keys METHOD [--limit N]\n"      \
	"       ldmemo ctl host NAMESPACE (stats [-f text|json] | invalidate METHOD|--all)"

/* Keys listed when --limit is not given. */
#define CTL_KEYS_DEFAULT "100"

static int usage(const char *why)
{
	return lm_cli_usage_error("ctl: %s\n" CTL_USAGE, why);
}

static int build_stats(int argc, char **argv, struct req *r)
{
	const char *fmt = "text";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "-f") == 0 || strcmp(a, "--format") == 0) && i + 1 < argc)
			fmt = argv[++i];
		else if (strncmp(a, "--format=", 9) == 0)
			fmt = a + 9;
		else if (strncmp(a, "-f", 2) == 0 && a[2])
			fmt = a + 2;
		else
			return usage("stats takes only -f FORMAT");
	}
	enum lm_stats_format f;
	if (lm_parse_stats_format(fmt, &f) != 0)
		return usage("unknown format (text, json, prom)");
	add_str(r, "stats ");
	add_str(r, fmt);
	return 0;
}

static int build_invalidate(int argc, char **argv, struct req *r)
{
	if (argc < 2)
		return usage("invalidate needs METHOD or --all");
	if (strcmp(argv[1], "--all") == 0) {
		if (argc > 2)
			return usage("invalidate --all takes no values");
		add_str(r, "invalidate --all");
		return 0;
	}
	if (argv[1][0] == '-' || strpbrk(argv[1], " \t\n\""))
		return usage("bad METHOD");
	add_str(r, "invalidate ");
	add_str(r, argv[1]);
	for (int i = 2; i < argc; i++)
		add_value(r, argv[i]);
	return 0;
}

static int build_keys(int argc, char **argv, struct req *r)
{
	const char *limit = CTL_KEYS_DEFAULT, *method = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--limit") == 0 && i + 1 < argc)
			limit = argv[++i];
		else if (strncmp(a, "--limit=", 8) == 0)
			limit = a + 8;
		else if (a[0] != '-' && !method)
			method = a;
		else
			return usage("keys takes METHOD and --limit N");
	}
	if (!method || strpbrk(method, " \t\n\""))
		return usage("keys needs METHOD");
	char *end;
	errno = 0;
	(void)strtoull(limit, &end, 10);
	if (!*limit || *end || errno || limit[0] == '-')
		return usage("--limit takes a number (0: every key)");
	add_str(r, "keys ");
	add_str(r, method);
	add_str(r, " ");
	add_str(r, limit);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The value of NAME in /proc/PID/environ, or false. */
static bool proc_env(int pid, const char *name, char *out, size_t len)
{
	char path[64], buf[65536];
	snprintf(path, sizeof path, "/proc/%d/environ", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	size_t nl = strlen(name);
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			snprintf(out, len, "%s", p + nl + 1);
			return true;
		}
	return false;
}

/* Connect to PID's socket where the shim would have put it: under the
 * process's XDG_RUNTIME_DIR (or ours), else /tmp/ldmemo-UID for its uid
 * (or ours). -1 with errno of the most telling failure. */
static int connect_to(int pid, char *where, size_t wlen)
{
	char dirs[4][sizeof(((struct sockaddr_un *)0)->sun_path)];
	int n = 0;
	char xdg[sizeof dirs[0]];
	/* A longer directory cannot hold a socket: the shim has none there. */
	if (proc_env(pid, "XDG_RUNTIME_DIR", xdg, sizeof xdg) && xdg[0] == '/' &&
	    strlen(xdg) + 8 < sizeof dirs[0])
		snprintf(dirs[n++], sizeof dirs[0], "%.*s/ldmemo", (int)sizeof dirs[0] - 8, xdg);
	const char *own = getenv("XDG_RUNTIME_DIR");
	if (own && own[0] == '/' && strlen(own) + 8 < sizeof dirs[0])
		snprintf(dirs[n++], sizeof dirs[0], "%.*s/ldmemo", (int)sizeof dirs[0] - 8, own);
	char proc[64];
	struct stat st;
	snprintf(proc, sizeof proc, "/proc/%d", pid);
	if (stat(proc, &st) == 0)
		snprintf(dirs[n++], sizeof dirs[0], "/tmp/ldmemo-%u", (unsigned)st.st_uid);
	snprintf(dirs[n++], sizeof dirs[0], "/tmp/ldmemo-%u", (unsigned)geteuid());
	int err = ENOENT;
	for (int i = 0; i < n; i++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int k = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%d.sock", dirs[i], pid);
		if (k < 0 || (size_t)k >= sizeof sa.sun_path)
			continue;
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			snprintf(where, wlen, "%s", sa.sun_path);
			return fd;
		}
		if (errno != ENOENT && err == ENOENT) {
			err = errno;
			snprintf(where, wlen, "%s", sa.sun_path);
		}
		close(fd);
	}
	errno = err;
	return -1;
}

static int unreachable(int pid, const char *where, int err)
{
	if (err == ENOENT)
		fprintf(stderr,
		        "ldmemo: process %d has no control socket (is control on? "
		        "LDMEMO_CONTROL=1 or control = on)\n",
		        pid);
	else if (err == ECONNREFUSED)
		fprintf(stderr, "ldmemo: %s: nobody listens (the process has exited or exec'd)\n",
		        where);
	else
		fprintf(stderr, "ldmemo: %s: %s\n", where, strerror(err));
	return CTL_EXIT_UNREACHABLE;
}

/* Send R, then read the whole reply into a fresh buffer (NULL on timeout
 * or failure, errno set). */
static char *exchange(int fd, const struct req *r, size_t *len)
{
	int64_t deadline = now_ms() + CTL_TIMEOUT_MS;
	char line[CTL_MAX_REQUEST + 2];
	size_t n = (size_t)snprintf(line, sizeof line, "%s\n", r->buf);
	if (send(fd, line, n, MSG_NOSIGNAL) != (ssize_t)n)
		return NULL;
	shutdown(fd, SHUT_WR);
	size_t cap = 65536;
	*len = 0;
	char *buf = malloc(cap);
	while (buf) {
		int64_t left = deadline - now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			free(buf);
			errno = ETIMEDOUT;
			return NULL;
		}
		if (*len + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				break;
			buf = nb;
		}
		ssize_t k = read(fd, buf + *len, cap - *len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int err = errno;
			free(buf);
			errno = err;
			return NULL;
		}
		if (k == 0) {
			buf[*len] = '\0';
			return buf;
		}
		*len += (size_t)k;
	}
	free(buf);
	errno = ENOMEM;
	return NULL;
}

/* BODY: the reply's lines after the status line are the answer (stats,
 * keys); else the status line's count is (invalidate). */
static int report(int pid, bool body, const char *rep, size_t len)
{
	const char *nl = memchr(rep, '\n', len);
	size_t first = nl ? (size_t)(nl - rep) : len;
	if (len == 0) {
		fprintf(stderr,
		        "ldmemo: process %d closed the connection without answering "
		        "(not the same user?)\n",
		        pid);
		return CTL_EXIT_UNREACHABLE;
	}
	if (strncmp(rep, "error ", 6) == 0) {
		fprintf(stderr, "ldmemo: process %d: %.*s\n", pid, (int)(first - 6), rep + 6);
		return CTL_EXIT_ERROR;
	}
	if (!nl || strncmp(rep, "ok", 2) != 0 || (first > 2 && rep[2] != ' ')) {
		fprintf(stderr, "ldmemo: process %d: unexpected answer '%.*s'\n", pid,
		        (int)(first > 80 ? 80 : first), rep);
		return CTL_EXIT_ERROR;
	}
	if (body) {
		fwrite(nl + 1, 1, len - first - 1, stdout);
	} else {
		unsigned long long n = strtoull(rep + 2, NULL, 10);
		printf("%llu entr%s dropped\n", n, n == 1 ? "y" : "ies");
	}
	return fflush(stdout) == 0 ? 0 : CTL_EXIT_ERROR;
}

int lm_cmd_ctl(int argc, char **argv)
{
	if (argc == 2 && lm_cli_help(argc, argv, CTL_USAGE))
		return 0;
	if (argc >= 2 && strcmp(argv[1], "host") == 0)
		return lm_cmd_ctl_host(argc - 1, argv + 1);
	if (argc < 3)
		return usage("missing PID or request");
	char *end;
	errno = 0;
	long pid = strtol(argv[1], &end, 10);
	if (*end || end == argv[1] || pid <= 0 || pid > INT32_MAX || errno)
		return usage("PID must be a process id");
	struct req r = {.len = 0};
	bool stats = strcmp(argv[2], "stats") == 0, keys = strcmp(argv[2], "keys") == 0;
	int rc;
	if (stats)
		rc = build_stats(argc - 2, argv + 2, &r);
	else if (keys)
		rc = build_keys(argc - 2, argv + 2, &r);
	else if (strcmp(argv[2], "invalidate") == 0)
		rc = build_invalidate(argc - 2, argv + 2, &r);
	else
		return usage("the request is stats, invalidate or keys");
	if (rc != 0)
		return rc;
	if (r.overflow)
		return usage("request longer than 4096 bytes");
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
		fprintf(stderr, "ldmemo: no process %ld\n", pid);
		return CTL_EXIT_UNREACHABLE;
	}
	char where[256] = "";
	int fd = connect_to((int)pid, where, sizeof where);
	if (fd < 0)
		return unreachable((int)pid, where, errno);
	size_t len;
	char *rep = exchange(fd, &r, &len);
	int err = errno;
	close(fd);
	if (!rep)
		return unreachable((int)pid, where, err);
	rc = report((int)pid, stats || keys, rep, len);
	free(rep);
	return rc;
}

/* Many clients at once on the control socket (issue 16, 3): idle
 * connections do not starve a new one, and requests that arrive in pieces,
 * interleaved between clients, are each answered. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "helpers.h"

#define CTL(pid, ...) run_ctl(pid, (const char *const[]){__VA_ARGS__, NULL})

static const struct fx_opts on = {.control = true};

static void send_str(int fd, const char *s)
{
	cr_assert_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Everything until the shim closes (at most 15 s), NUL-terminated. */
static char *read_all(int fd)
{
	struct timeval tv = {.tv_sec = 15};
	static char buf[1 << 16];
	size_t n = 0;
	ssize_t k;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	while (n < sizeof buf - 1 && (k = recv(fd, buf + n, sizeof buf - 1 - n, 0)) > 0)
		n += (size_t)k;
	buf[n] = '\0';
	return buf;
}

/* The stats reply of the fixture, in JSON. */
static void expect_stats(const char *reply, pid_t pid)
{
	char want[32];
	snprintf(want, sizeof want, "\"pid\":%d,", (int)pid);
	cr_expect_eq(strncmp(reply, "ok\n", 3), 0, "%.80s", reply);
	cr_expect(strstr(reply, want) != NULL, "%.200s", reply);
}

/* Served one at a time, each idle connection held the socket for 1 s:
 * 20 of them made `ldmemo ctl` time out after 10 s. */
Test(clients, idle_connections_do_not_starve_a_new_client)
{
	struct fx f;
	int idle[20];

	fx_start(&f, &on);
	for (size_t i = 0; i < sizeof idle / sizeof idle[0]; i++)
		idle[i] = fx_connect(f.sock);
	struct run r = CTL(f.pid, "stats", "-f", "json");
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "\"pid\":") != NULL, "%s", r.out);
	run_free(&r);
	/* The oldest was hung up on, not answered. */
	cr_expect_str_eq(read_all(idle[0]), "");
	for (size_t i = 0; i < sizeof idle / sizeof idle[0]; i++)
		close(idle[i]);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(clients, a_request_sent_in_pieces_is_answered)
{
	struct fx f;

	fx_start(&f, &on);
	int fd = fx_connect(f.sock);
	send_str(fd, "sta");
	usleep(20000);
	send_str(fd, "ts js");
	usleep(20000);
	send_str(fd, "on\n");
	expect_stats(read_all(fd), f.pid);
	close(fd);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

/* A's request is unfinished while B sends and gets its answer: B does not
 * wait for A, and A, finished afterwards, is answered too. */
Test(clients, interleaved_clients_are_each_answered)
{
	struct fx f;

	fx_start(&f, &on);
	int a = fx_connect(f.sock), b = fx_connect(f.sock);
	send_str(a, "stats js");
	send_str(b, "stats json\n");
	expect_stats(read_all(b), f.pid);
	send_str(a, "on\n");
	expect_stats(read_all(a), f.pid);
	close(a);
	close(b);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

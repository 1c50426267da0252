/* The control socket (spec section 8): `control = on` or LDMEMO_CONTROL=1.
 *
 * Where: $XDG_RUNTIME_DIR/ldmemo/PID.sock, else /tmp/ldmemo-UID/PID.sock.
 * The directory is created with mode 0700; one owned by another user or
 * open to others is refused (someone could swap the socket). A peer whose
 * uid (SO_PEERCRED) is neither ours nor root's is hung up on.
 *
 * Protocol: one request per connection, a line of at most 4096 bytes
 * ending in "\n"; the reply follows, then the shim closes. Every reply
 * starts with a status line, "ok[ N]\n" or "error MESSAGE\n".
 *
 *   stats [text|json|prom]\n        ok\n, then the dump (default text)
 *   invalidate --all\n              ok N\n: N entries dropped
 *   invalidate METHOD\n             ok N\n: every entry of METHOD
 *   invalidate METHOD VALUE...\n    ok N\n: the entries whose key parameters
 *                                   (the params other than ignore and out, in
 *                                   order) equal the values: as in `drop`, an
 *                                   integer, a float, a "string" (\\, \" and
 *                                   \n escapes) or * for any; a wrong count
 *                                   or kind is an error
 *
 * The program's own threads never wait on this one: requests are served
 * by a thread that holds no lock between store operations, and the reply
 * is rendered into memory before it is sent. Up to 16 connections are read
 * at once (one poll() over them all); each has 1 s to send its request and
 * 2 s to take the reply. When a 17th arrives the oldest is hung up on, so
 * that idle connections cannot starve a new client (issue 16). The thread runs with
 * lm_in_shim set (hooked functions it calls run uncached) and every signal
 * blocked (the program's handlers never run on it).
 *
 * fork: the thread does not survive it. The child closes the parent's
 * socket and connection, and opens its own socket for its own pid with a
 * thread of its own. The socket is removed at exit, by its own process. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config/defaults.h"
#include "shim/base/log.h"
#include "shim/call/runtime.h"
#include "shim/base/guard.h"
#include "shim/base/section.h"

#define LM_CTL_MAX_REQUEST 4096
#define LM_CTL_READ_MS     1000
#define LM_CTL_WRITE_MS    2000
#define LM_CTL_STACK       (256 * 1024)
#define LM_CTL_BACKLOG     16
#define LM_CTL_MAX_CLIENTS 16
#define LM_CTL_RETRY_NS    (100 * 1000 * 1000L)
#define LM_CTL_PATH_MAX    sizeof(((struct sockaddr_un *)0)->sun_path)

static struct {
	int listen_fd;
	pid_t pid; /* whose socket path is set */
	char path[LM_CTL_PATH_MAX];
	/* The open connections, for a forked child to close. */
	_Atomic int client_fd[LM_CTL_MAX_CLIENTS];
	_Atomic int reply_fd;
} ctl = {.listen_fd = -1, .client_fd = {[0 ... LM_CTL_MAX_CLIENTS - 1] = -1}, .reply_fd = -1};

/* A connection whose request is being read; the serving thread's alone. */
static struct client {
	int64_t deadline; /* the request is complete by then (now_ms time), or dropped */
	size_t n;         /* bytes in buf */
	char buf[LM_CTL_MAX_REQUEST + 1];
} clients[LM_CTL_MAX_CLIENTS] LM_LARGE_BSS;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for EVENTS on FD until DEADLINE (now_ms time): 1 ready, 0 not. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return false;
	return cr.uid == 0 || cr.uid == geteuid() || cr.uid == getuid();
}

static void send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k > 0) {
			p += k;
			n -= (size_t)k;
		} else if (k < 0 && errno != EINTR &&
		           (errno != EAGAIN || !wait_fd(fd, POLLOUT, deadline))) {
			return;
		}
	}
}

/* Send what REPLY (an in-memory file) holds. */
static void send_reply(int fd, int reply)
{
	int64_t deadline = now_ms() + LM_CTL_WRITE_MS;
	char buf[4096];
	off_t off = 0;
	ssize_t k;
	while ((k = pread(reply, buf, sizeof buf, off)) > 0) {
		send_all(fd, buf, (size_t)k, deadline);
		off += k;
		if (now_ms() >= deadline)
			return;
	}
}

static void close_fd(_Atomic int *slot)
{
	int fd = atomic_exchange(slot, -1);
	if (fd >= 0)
		close(fd);
}

/* Answer REQ (a complete line, NUL-terminated) on FD. */
static void answer(int fd, const char *req)
{
	static const char no_memory[] = "error out of memory\n";
	int reply = atomic_load(&ctl.reply_fd);
	if (reply < 0 || ftruncate(reply, 0) != 0 || lseek(reply, 0, SEEK_SET) != 0) {
		send_all(fd, no_memory, sizeof no_memory - 1, now_ms() + LM_CTL_WRITE_MS);
		return;
	}
	lm_control_answer(req, reply);
	send_reply(fd, reply);
}

static void drop(int i)
{
	close_fd(&ctl.client_fd[i]);
}

/* Read what client I sent; answer and close it once its line is complete. */
static void client_read(int i)
{
	static const char too_long[] = "error request too long\n";
	struct client *c = &clients[i];
	int fd = atomic_load(&ctl.client_fd[i]);
	ssize_t k = recv(fd, c->buf + c->n, LM_CTL_MAX_REQUEST - c->n, MSG_DONTWAIT);
	if (k < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (k < 0) {
		drop(i);
		return;
	}
	char *nl = k > 0 ? memchr(c->buf + c->n, '\n', (size_t)k) : NULL;
	c->n += (size_t)k;
	if (nl || k == 0) {
		/* A line, or what came before the client shut its side. */
		size_t len = nl ? (size_t)(nl - c->buf) : c->n;
		c->buf[len] = '\0';
		if ((len || nl) && !memchr(c->buf, '\0', len))
			answer(fd, c->buf);
		drop(i);
	} else if (c->n == LM_CTL_MAX_REQUEST) {
		send_all(fd, too_long, sizeof too_long - 1, now_ms() + LM_CTL_WRITE_MS);
		drop(i);
	}
}

/* Take one waiting connection into a free slot, hanging up on the oldest
 * when none is free. -1 when the socket is shut down. */
static int accept_one(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
			return 0;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			struct timespec ts = {0, LM_CTL_RETRY_NS};
			nanosleep(&ts, NULL);
			return 0;
		}
		return -1;
	}
	if (!peer_allowed(fd)) {
		close(fd);
		return 0;
	}
	int slot = 0;
	for (int i = 0; i < LM_CTL_MAX_CLIENTS; i++) {
		if (atomic_load(&ctl.client_fd[i]) < 0) {
			slot = i;
			break;
		}
		if (clients[i].deadline < clients[slot].deadline)
			slot = i;
	}
	drop(slot);
	clients[slot].deadline = now_ms() + LM_CTL_READ_MS;
	clients[slot].n = 0;
	atomic_store(&ctl.client_fd[slot], fd);
	return 0;
}

static void *serve(void *arg)
{
	(void)arg;
	int lfd = ctl.listen_fd; /* set before the thread was created */
	lm_guard_own_thread();
	pthread_setname_np(pthread_self(), "ldmemo-ctl");
	atomic_store(&ctl.reply_fd, memfd_create("ldmemo-ctl", MFD_CLOEXEC));
	for (;;) {
		struct pollfd pf[1 + LM_CTL_MAX_CLIENTS] = {{.fd = lfd, .events = POLLIN}};
		int who[LM_CTL_MAX_CLIENTS], nf = 1, timeout = -1;
		int64_t now = now_ms();
		for (int i = 0; i < LM_CTL_MAX_CLIENTS; i++) {
			int fd = atomic_load(&ctl.client_fd[i]);
			if (fd < 0)
				continue;
			if (clients[i].deadline <= now) {
				drop(i);
				continue;
			}
			int left = (int)(clients[i].deadline - now);
			timeout = timeout < 0 || left < timeout ? left : timeout;
			who[nf - 1] = i;
			pf[nf++] = (struct pollfd){.fd = fd, .events = POLLIN};
		}
		if (poll(pf, (nfds_t)nf, timeout) <= 0)
			continue; /* a deadline passed, or EINTR */
		for (int k = 1; k < nf; k++)
			if (pf[k].revents)
				client_read(who[k - 1]);
		if (pf[0].revents && accept_one(lfd) < 0)
			return NULL; /* shut down at exit */
	}
}

/* DIR, created 0700 if missing; 0 when it is ours and closed to others. */
static int private_dir(const char *dir)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		lm_warn("control socket: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		lm_warn("control socket: cannot open %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		lm_warn("control socket: %s is not private (owner %u, mode %03o; "
		        "want owner %u, mode 700): no control socket",
		        dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777),
		        (unsigned)geteuid());
		return -1;
	}
	return 0;
}

static int socket_path(char *out, size_t len)
{
	char dir[LM_CTL_PATH_MAX];
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n = xdg && xdg[0] == '/'
	            ? snprintf(dir, sizeof dir, "%s/ldmemo", xdg)
	            : snprintf(dir, sizeof dir, "/tmp/ldmemo-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= sizeof dir) {
		lm_warn("control socket: directory name too long");
		return -1;
	}
	if (private_dir(dir) != 0)
		return -1;
	n = snprintf(out, len, "%s/%d.sock", dir, (int)getpid());
	if (n < 0 || (size_t)n >= len) {
		lm_warn("control socket: path too long under %s", dir);
		return -1;
	}
	return 0;
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* Non-blocking: a connection gone between poll() and accept() must
	 * not hold the thread. */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* A socket left by an earlier process with our pid: the directory
	 * is ours, so it is stale. */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || chmod(path, 0600) != 0 ||
	    listen(fd, LM_CTL_BACKLOG) != 0) {
		int err = errno;
		close(fd);
		unlink(path);
		errno = err;
		return -1;
	}
	return fd;
}

static bool start_thread(void)
{
	pthread_attr_t attr;
	sigset_t all;
	pthread_t t;
	if (pthread_attr_init(&attr) != 0)
		return false;
	sigfillset(&all);
	bool ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
	          pthread_attr_setstacksize(&attr, LM_CTL_STACK) == 0 &&
	          pthread_attr_setsigmask_np(&attr, &all) == 0 &&
	          pthread_create(&t, &attr, serve, NULL) == 0;
	pthread_attr_destroy(&attr);
	return ok;
}

/* Bind before the thread starts, so the socket exists once start-up (or
 * fork) returns. */
static void open_socket(void)
{
	char path[LM_CTL_PATH_MAX];
	if (socket_path(path, sizeof path) != 0)
		return;
	int fd = listen_at(path);
	if (fd < 0) {
		lm_warn("control socket: cannot listen on %s: %s", path, strerror(errno));
		return;
	}
	ctl.listen_fd = fd;
	if (!start_thread()) {
		lm_warn("control socket: cannot start its thread");
		ctl.listen_fd = -1;
		close(fd);
		unlink(path);
		return;
	}
	ctl.pid = getpid();
	memcpy(ctl.path, path, sizeof path);
	lm_info("control socket: %s", path);
}

static void child_after_fork(void)
{
	LM_KEEP_ERRNO();
	lm_guard_enter();
	if (ctl.listen_fd >= 0)
		close(ctl.listen_fd);
	ctl.listen_fd = -1;
	ctl.path[0] = '\0';
	for (int i = 0; i < LM_CTL_MAX_CLIENTS; i++)
		close_fd(&ctl.client_fd[i]);
	close_fd(&ctl.reply_fd);
	open_socket();
	lm_guard_leave();
}

void lm_control_setup(const struct lm_runtime *rt)
{
	bool on = rt->cfg.global.control;
	const char *e = getenv(LM_ENV_CONTROL);
	if (e && *e && lm_parse_bool(e, &on) != 0)
		lm_warn("%s=%s: not 1 or 0", LM_ENV_CONTROL, e);
	if (!on)
		return;
	pthread_atfork(NULL, NULL, child_after_fork);
	open_socket();
}

__attribute__((destructor)) static void lm_control_at_exit(void)
{
	if (ctl.listen_fd < 0 || ctl.pid != getpid())
		return;
	LM_KEEP_ERRNO();
	/* Wakes the thread out of poll: accept fails and it returns. */
	shutdown(ctl.listen_fd, SHUT_RDWR);
	unlink(ctl.path);
}

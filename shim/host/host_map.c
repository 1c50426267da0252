/* Opening the host tier's mapping (spec 11): named by user and namespace,
 * made 0600 by whichever process comes first, checked by every other.
 * A new mapping is made whole under a temporary name and linked into
 * place, so a mapping found under its name never has a half-written
 * header; one that fails the checks is refused (not ours, or open to
 * others) or replaced (ours, but another format, truncated or damaged). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "host_layout.h"

uint64_t lm_host_layout_fp(void)
{
	const uint64_t shape[] = {
	    sizeof(struct lm_host_hdr),
	    sizeof(struct lm_host_slot),
	    LM_HOST_MBUCKETS,
	    LM_HOST_KBUCKETS,
	    LM_HOST_PROBE,
	    LM_HOST_SUM_OFF,
	    __builtin_offsetof(struct lm_host_hdr, mgen),
	    __builtin_offsetof(struct lm_host_slot, data),
	};
	return XXH3_64bits(shape, sizeof shape);
}

size_t lm_host_slot_capacity(void)
{
	return sizeof(((struct lm_host_slot *)0)->data);
}

static const char *default_dir(void)
{
	struct stat st;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode))
		return "/dev/shm";
	const char *x = getenv("XDG_RUNTIME_DIR");
	return x && x[0] == '/' ? x : NULL;
}

int lm_host_path(const char *dir, unsigned uid, const char *ns, char *out, size_t len)
{
	if (!dir)
		dir = default_dir();
	if (!dir)
		return -1;
	int n = snprintf(out, len, "%s/ldmemo-%u-", dir, uid);
	if (n < 0 || (size_t)n >= len)
		return -1;
	size_t i = (size_t)n;
	/* The namespace is a word of the config; only a plain file name is
	 * made of it. */
	const char *p = ns;
	for (; *p && i + 1 < len; p++)
		out[i++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		                   (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'
		               ? *p
		               : '_';
	if (*p)
		return -1;
	out[i] = 0;
	return 0;
}

static uint64_t slots_for(uint64_t size)
{
	return size > LM_HOST_HDR_BYTES ? (size - LM_HOST_HDR_BYTES) / LM_HOST_SLOT_BYTES : 0;
}

/* A header we can use: ours, this layout, and sizes that agree with the
 * file. */
static const char *header_problem(const struct lm_host_hdr *h, uint64_t fsize)
{
	if (h->magic != LM_HOST_MAGIC)
		return "not an ldmemo host mapping";
	if (h->version != LM_HOST_VERSION || h->layout != lm_host_layout_fp())
		return "another format";
	if (h->uid != geteuid())
		return "made for another user";
	if (h->size != fsize || h->slots_off != LM_HOST_HDR_BYTES ||
	    h->nslots != slots_for(h->size) || h->nslots < LM_HOST_PROBE)
		return "truncated or damaged";
	return NULL;
}

static struct lm_host *map_fd(int fd, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	struct lm_host *h = calloc(1, sizeof *h);
	if (!h) {
		munmap(p, size);
		return NULL;
	}
	h->hdr = p;
	h->size = size;
	h->nslots = h->hdr->nslots;
	h->slots = (struct lm_host_slot *)((unsigned char *)p + LM_HOST_HDR_BYTES);
	return h;
}

/* A complete mapping under a temporary name next to PATH; its fd, -1 on
 * failure. The file stays empty of entries: ftruncate gives zeros. */
static int make_new(const char *path, uint64_t size, char *tmp, size_t tmplen)
{
	if (snprintf(tmp, tmplen, "%s.%d.tmp", path, (int)getpid()) >= (int)tmplen)
		return -1;
	unlink(tmp);
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	struct lm_host_hdr h = {
	    .magic = LM_HOST_MAGIC,
	    .version = LM_HOST_VERSION,
	    .uid = (uint32_t)geteuid(),
	    .layout = lm_host_layout_fp(),
	    .size = size,
	    .nslots = slots_for(size),
	    .slots_off = LM_HOST_HDR_BYTES,
	};
	/* fchmod: the umask may have taken bits we rely on being exactly so */
	if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)size) != 0 ||
	    pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

static void say(char *buf, size_t len, const char *fmt, const char *path, const char *what)
{
	if (buf && len)
		snprintf(buf, len, fmt, path, what);
}

/* Check an open FD found at PATH and map it. NULL with WHY when it is
 * refused (not ours, open to others, not a file); NULL with *BAD when it
 * is ours but unusable; FD is closed either way. */
static struct lm_host *check_map(int fd, const char *path, char *why, size_t whylen,
                                 const char **bad)
{
	struct stat st;
	*bad = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		say(why, whylen, "%s: %s", path, "not a regular file: refused");
		return NULL;
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		say(why, whylen, "%s: %s", path, "owned by another user: refused");
		return NULL;
	}
	if (st.st_mode & 077) {
		close(fd);
		say(why, whylen, "%s: %s", path,
		    "open to group or others (not mode 0600): refused");
		return NULL;
	}
	*bad = "truncated or damaged";
	struct lm_host *h = NULL;
	if ((uint64_t)st.st_size >= LM_HOST_HDR_BYTES) {
		h = map_fd(fd, (uint64_t)st.st_size);
		*bad = h ? header_problem(h->hdr, (uint64_t)st.st_size) : "cannot map";
	}
	close(fd);
	if (!*bad)
		return h;
	lm_host_close(h);
	return NULL;
}

struct lm_host *lm_host_open(const char *dir, const char *ns, uint64_t size, char *why,
                             size_t whylen, char *note, size_t notelen)
{
	char path[512], tmp[600];
	if (note && notelen)
		note[0] = 0;
	if (lm_host_path(dir, (unsigned)geteuid(), ns, path, sizeof path) != 0) {
		say(why, whylen, "%s%s", "", "no directory for the host tier (/dev/shm)");
		return NULL;
	}
	if (slots_for(size) < LM_HOST_PROBE) {
		say(why, whylen, "%s: %s", path, "shared_memory is too small");
		return NULL;
	}
	for (int attempt = 0; attempt < 3; attempt++) {
		int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT) {
			say(why, whylen, "%s: %s", path, strerror(errno));
			return NULL;
		}
		if (fd < 0) {
			int nfd = make_new(path, size, tmp, sizeof tmp);
			if (nfd < 0) {
				say(why, whylen, "%s: cannot create: %s", path, strerror(errno));
				return NULL;
			}
			/* link fails when another process came first: use theirs */
			int linked = link(tmp, path);
			unlink(tmp);
			if (linked == 0) {
				struct lm_host *h = map_fd(nfd, size);
				close(nfd);
				if (!h)
					say(why, whylen, "%s: cannot map: %s", path,
					    strerror(errno));
				return h;
			}
			close(nfd);
			continue;
		}
		const char *bad;
		struct lm_host *h = check_map(fd, path, why, whylen, &bad);
		if (!bad)
			return h;
		/* Ours, but not usable: replaced by a fresh one, atomically, so
		 * that others opening it meanwhile see either file whole. */
		say(note, notelen, "%s: %s: replaced", path, bad);
		int nfd = make_new(path, size, tmp, sizeof tmp);
		if (nfd < 0 || rename(tmp, path) != 0) {
			if (nfd >= 0) {
				close(nfd);
				unlink(tmp);
			}
			say(why, whylen, "%s: %s: cannot replace it", path, bad);
			return NULL;
		}
		h = map_fd(nfd, size);
		close(nfd);
		if (!h)
			say(why, whylen, "%s: cannot map: %s", path, strerror(errno));
		return h;
	}
	say(why, whylen, "%s: %s", path, "it keeps changing while opened");
	return NULL;
}

struct lm_host *lm_host_attach(const char *dir, const char *ns, char *path, size_t pathlen,
                               char *why, size_t whylen)
{
	if (lm_host_path(dir, (unsigned)geteuid(), ns, path, pathlen) != 0) {
		say(why, whylen, "%s%s", "", "no directory for the host tier (/dev/shm)");
		return NULL;
	}
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		say(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	const char *bad;
	struct lm_host *h = check_map(fd, path, why, whylen, &bad);
	if (!h && bad)
		say(why, whylen, "%s: %s", path, bad);
	return h;
}

void lm_host_close(struct lm_host *h)
{
	if (!h)
		return;
	munmap(h->hdr, h->size);
	free(h);
}

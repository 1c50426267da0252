/* /proc/self/maps read line by line: every mapping seen with its
 * protection, also when lines straddle the reads and carry long paths. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/hook/procmaps.h"

#define NPAGES 300

struct want {
	uintptr_t addr[NPAGES];
	int prot[NPAGES];
	int found[NPAGES];
};

static int check(uintptr_t start, uintptr_t end, int prot, void *arg)
{
	struct want *w = arg;

	cr_assert_lt(start, end);
	for (int i = 0; i < NPAGES; i++)
		if (w->addr[i] >= start && w->addr[i] < end) {
			w->found[i]++;
			cr_expect_eq(prot, w->prot[i], "page %d", i);
		}
	return 0;
}

/* Pages of alternating protection do not merge: hundreds of lines, more
 * than one read's worth, each with its own permissions. */
Test(procmaps, every_mapping_with_its_protection)
{
	static struct want w;
	long ps = sysconf(_SC_PAGESIZE);
	unsigned char *area = mmap(NULL, (size_t)ps * NPAGES, PROT_READ | PROT_WRITE,
	                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(area, MAP_FAILED);
	for (int i = 0; i < NPAGES; i++) {
		w.prot[i] = i % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
		w.addr[i] = (uintptr_t)(area + (size_t)i * ps);
		cr_assert_eq(mprotect(area + (size_t)i * ps, (size_t)ps, w.prot[i]), 0);
	}
	cr_assert_eq(lm_maps_foreach(check, &w), 0);
	for (int i = 0; i < NPAGES; i++) {
		cr_expect_eq(w.found[i], 1, "page %d seen once", i);
		cr_expect_eq(lm_maps_prot(w.addr[i]), w.prot[i], "page %d", i);
	}
	munmap(area, (size_t)ps * NPAGES);
}

/* A file mapping whose path is longer than the line head that is kept. */
Test(procmaps, long_path_names)
{
	char path[300];
	int n = snprintf(path, sizeof path, "/tmp/ldmemo-maps-");

	memset(path + n, 'x', 200);
	strcpy(path + n + 200, "-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 4096), 0);
	void *a = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	void *b = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	cr_assert_neq(a, MAP_FAILED);
	cr_assert_neq(b, MAP_FAILED);
	cr_expect_eq(lm_maps_prot((uintptr_t)a), PROT_READ);
	cr_expect_eq(lm_maps_prot((uintptr_t)b), PROT_READ | PROT_EXEC);
	munmap(a, 4096);
	munmap(b, 4096);
	close(fd);
	unlink(path);
}

static void *wait_for_pipe(void *arg)
{
	char c;

	return (void *)(long)read(*(int *)arg, &c, 1);
}

/* In a child (criterion's worker runs threads): 0 when the count of 1
 * read while held stays, and the live count comes back at the release. */
static int held_count_child(void)
{
	pthread_t t;
	int fds[2], bad = 0;

	if (lm_thread_count() != 1 || pipe(fds) != 0)
		return 1;
	lm_maps_hold();
	bad |= (lm_thread_count() != 1) << 1;
	if (pthread_create(&t, NULL, wait_for_pipe, &fds[0]) != 0)
		return 1;
	bad |= (lm_thread_count() != 1) << 2;
	lm_maps_release();
	bad |= (lm_thread_count() != 2) << 3;
	if (write(fds[1], "x", 1) != 1)
		return 1;
	pthread_join(t, NULL);
	return bad;
}

/* While the maps are held, a count of 1 is read once: the holder starts
 * no thread. After the release the count is read live again. */
Test(procmaps, thread_count_of_one_kept_while_held)
{
	int status;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(held_count_child());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_expect_eq(WEXITSTATUS(status), 0, "failed checks (bits): %d", WEXITSTATUS(status));
}

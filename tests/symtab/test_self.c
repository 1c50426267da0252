/* lm_self_exe (symtab/self.c): the program's path, read once and shared
 * by every caller, whichever thread reads it first. */
#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symtab/symtab.h"

#define THREADS 4

static pthread_barrier_t start;

/* All at once: the first reading races the others. */
static void *read_it(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	return (void *)lm_self_exe();
}

/* In a child that has not read it yet: whether every thread got the same
 * copy. */
static bool one_copy_for_all(void)
{
	pthread_t t[THREADS];
	void *seen[THREADS];
	pthread_barrier_init(&start, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, read_it, NULL) != 0)
			return false;
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], &seen[i]);
	for (int i = 0; i < THREADS; i++)
		if (!seen[i] || seen[i] != lm_self_exe())
			return false;
	return true;
}

/* Twenty children race their first reading (one race is won by a thread
 * that reads alone often enough to hide a copy per thread). */
Test(self, the_programs_path_once_for_every_thread)
{
	int split = 0;
	for (int c = 0; c < 20; c++) {
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0)
			_exit(one_copy_for_all() ? 0 : 1);
		int st;
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		cr_assert(WIFEXITED(st));
		split += WEXITSTATUS(st);
	}
	cr_expect_eq(split, 0, "%d of 20 processes had a copy per thread", split);
	const char *p = lm_self_exe();
	cr_assert_not_null(p);
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	cr_assert_gt(n, 0);
	path[n] = '\0';
	cr_expect_str_eq(p, path);
}

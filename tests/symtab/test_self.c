/* lm_self_exe (symtab/self.c): the program's path, read once and shared
 * by every caller, whichever thread reads it first. */
#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "symtab/symtab.h"

static void *read_it(void *arg)
{
	(void)arg;
	return (void *)lm_self_exe();
}

Test(self, the_programs_path_once_for_every_thread)
{
	pthread_t t[4];
	void *seen[4];
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, read_it, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], &seen[i]);
	const char *p = lm_self_exe();
	cr_assert_not_null(p);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(seen[i], p, "thread %d read its own copy", i);
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	cr_assert_gt(n, 0);
	path[n] = '\0';
	cr_expect_str_eq(p, path);
}

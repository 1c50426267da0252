#include "helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *fmt(const char *a, const char *b, const char *c)
{
	char *s = NULL;
	cr_assert(asprintf(&s, "%s%s%s", a, b, c) >= 0);
	return s;
}

static const char *root(void)
{
	const char *pwd = getenv("PWD");
	return pwd ? pwd : ".";
}

char *hd_path(const char *name)
{
	return fmt(root(), "/build/tests/hardening/", name);
}

char *hd_shim(void)
{
	return fmt(root(), "/build/libldmemo.so", "");
}

char *hd_tmpdir(mode_t mode)
{
	char *d = strdup("/tmp/ldmemo-hd-XXXXXX");
	cr_assert(d && mkdtemp(d));
	cr_assert_eq(chmod(d, mode), 0);
	return d;
}

char *hd_write(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *p = fmt(dir, "/", name);
	FILE *f = fopen(p, "we");
	cr_assert(f != NULL, "create %s", p);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(p, mode), 0);
	return p;
}

void hd_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *p = fmt(dir, "/", e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

char *hd_env(const char *name, const char *value)
{
	return fmt(name, "=", value);
}

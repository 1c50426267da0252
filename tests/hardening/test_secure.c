/* Secure-execution mode (spec section 2): in a setuid program the shim
 * ignores LDMEMO_* and does nothing, even when the dynamic linker did load
 * it. ld.so preloads into a setuid program only a set-user-ID library from
 * a standard directory, named without a slash (ld.so(8)); the test installs
 * such a copy of the shim for the duration of the test and runs a
 * setuid-root copy of a fixture as nobody. Needs root. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "tests/integration/helpers.h"

#define LIBDIR "/usr/lib/x86_64-linux-gnu"

static char *dir, *prog, *lib, *libname, *conf_path;

/* A config the shim would act on: it caches suid_square and warns about
 * a function that does not exist. */
static const char conf[] = "[global]\n"
                           "programs = suid-prog\n"
                           "[cache suid_square]\n"
                           "signature = long suid_square(long x)\n"
                           "[cache hd_no_such_function]\n"
                           "signature = long hd_no_such_function(long x)\n";

static int copy(const char *from, const char *to, mode_t mode)
{
	char *cmd = NULL;
	if (asprintf(&cmd, "cp '%s' '%s'", from, to) < 0)
		return -1;
	int rc = system(cmd);
	free(cmd);
	return rc == 0 && chown(to, 0, 0) == 0 && chmod(to, mode) == 0 ? 0 : -1;
}

static void setup(void)
{
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0)
		return;
	dir = hd_tmpdir(0755);
	cr_assert(asprintf(&prog, "%s/suid-prog", dir) >= 0);
	cr_assert(asprintf(&libname, "libldmemo-hdtest-%d.so", (int)getpid()) >= 0);
	cr_assert(asprintf(&lib, LIBDIR "/%s", libname) >= 0);
	char *fixture = hd_path("suid"), *shim = hd_shim();
	cr_assert_eq(copy(fixture, prog, 04755), 0);
	cr_assert_eq(copy(shim, lib, 04755), 0);
	conf_path = hd_write(dir, "app.conf", conf, 0644);
	free(fixture);
	free(shim);
}

static void teardown(void)
{
	if (lib)
		unlink(lib);
	if (dir)
		hd_rmdir(dir);
	free(dir);
	free(prog);
	free(lib);
	free(libname);
	free(conf_path);
}

static struct it_run run(const char *const *argv)
{
	char *pre = hd_env("LD_PRELOAD", libname), *cfg = hd_env("LDMEMO_CONFIG", conf_path);
	const char *env[] = {pre, cfg, "LDMEMO_STATS=stderr", NULL};
	struct it_run r = it_run(NULL, argv, env);
	free(pre);
	free(cfg);
	return r;
}

Test(secure, setuid_program_with_the_shim_loaded_stays_untouched, .init = setup, .fini = teardown)
{
	if (!dir)
		cr_skip_test("needs root and setpriv to install and run a setuid program");
	/* Control: root running it is not secure execution; the shim acts. */
	const char *direct[] = {prog, NULL};
	struct it_run c = run(direct);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "secure=0 shim=1 ") != NULL, "%s", c.out);
	cr_expect_eq(it_field(c.out, "runs"), 10, "%s", c.out);
	cr_expect(strstr(c.err, "hd_no_such_function") != NULL, "%s", c.err);
	it_free(&c);

	/* nobody running the setuid-root copy: loaded, but inactive and
	 * silent (no warning, no statistics). */
	const char *as_nobody[] = {
	    "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", prog, NULL};
	struct it_run r = run(as_nobody);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "secure=1 shim=1 ") != NULL, "%s", r.out);
	cr_expect_eq(it_field(r.out, "runs"), 30, "%s", r.out);
	cr_expect_str_empty(r.err);
	it_free(&r);
}

/* Strict mode compares each signature with the prototype in its object's
 * own DWARF, as `ldmemo check` does, through a plugin that only strict
 * mode loads (libldmemo-proto.so, which brings libdw). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static struct it_run strict_basic(const char *conf)
{
	const char *env[] = {"LDMEMO_STRICT=1", NULL};
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	return it_run(conf, argv, env);
}

/* fix_square takes a long; libfix.so is built with -g. */
Test(proto, strict_refuses_a_signature_its_dwarf_contradicts)
{
	struct it_run r = strict_basic("[cache fix_square]\nsignature = long fix_square(str x)\n");
	cr_assert_eq(r.status, 125, "%s", r.err);
	cr_assert(strstr(r.err, ".conf:1: fix_square: the signature disagrees with the prototype "
	                        "in the debug information of "),
	          "%s", r.err);
	cr_assert(strstr(r.err, "error: parameter 1 'x': str (8 bytes) in the config, long int"),
	          "%s", r.err);
	cr_assert(strstr(r.err, "long int fix_square(long int x)"), "%s", r.err);
	it_free(&r);
}

/* The const out of issue 16 is refused before the first call, as check does. */
Test(proto, strict_refuses_an_out_over_a_const_pointer)
{
	struct it_run r =
	    strict_basic("[cache fix_strlen]\nsignature = long fix_strlen(out(4) s)\n");
	cr_assert_eq(r.status, 125, "%s", r.err);
	cr_assert(strstr(r.err, "parameter 1 's': out over const char *, a pointer to const"), "%s",
	          r.err);
	it_free(&r);
}

Test(proto, strict_runs_a_signature_its_dwarf_agrees_with)
{
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	struct it_run bare = it_run(NULL, argv, NULL);
	struct it_run r = strict_basic("[cache fix_square]\nsignature = long fix_square(long x)\n");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.err, "disagrees"), "%s", r.err);
	cr_assert_str_neq(r.out, bare.out); /* runs= differs: calls were cached */
	it_free(&r);
	it_free(&bare);
}

/* The default start-up pays nothing for it: neither the plugin nor libdw
 * is mapped. */
Test(proto, a_default_start_maps_no_libdw)
{
	const char *argv[] = {"/bin/cat", "/proc/self/maps", NULL};
	struct it_run r =
	    it_run("[cache fix_square]\nsignature = long fix_square(long x)\n", argv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "/libldmemo.so"), "%s", r.out);
	cr_assert_null(strstr(r.out, "libdw"), "%s", r.out);
	cr_assert_null(strstr(r.out, "libldmemo-proto"), "%s", r.out);
	it_free(&r);
}

/* The plugin exports its entry point and nothing else: its copies of the
 * config and DWARF code must not interpose on the shim's. */
Test(proto, the_plugin_exports_only_its_entry_point)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "nm -D --defined-only %s/build/libldmemo-proto.so",
	         getenv("PWD") ? getenv("PWD") : ".");
	FILE *p = popen(cmd, "r");
	cr_assert(p != NULL);
	char line[512];
	int n = 0;
	while (fgets(line, sizeof line, p)) {
		char addr[64], type[8], name[256];
		if (sscanf(line, "%63s %7s %255s", addr, type, name) != 3)
			continue;
		cr_expect_str_eq(name, "lm_proto_check", "%s", line);
		n++;
	}
	cr_assert_eq(pclose(p), 0);
	cr_assert_eq(n, 1);
}

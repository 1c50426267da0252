/* The layering of scripts/layers.txt is enforced: on the real tree both
 * checks pass, and in a scratch tree a forbidden #include or a forbidden
 * symbol fails with a message naming the edge. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char out[8192];

/* Run CMD with sh; its exit status, its output in `out`. */
static int run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "%s", cmd);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char scratch[] = "/tmp/lm_layersXXXXXX";

/* A scratch repository with the real checker and table. */
static void make_scratch(void)
{
	cr_assert_not_null(mkdtemp(scratch));
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
	         "mkdir -p %s/scripts %s/config %s/shim/base %s/shim/call && "
	         "cp scripts/layers.py scripts/layers.txt %s/scripts/",
	         scratch, scratch, scratch, scratch, scratch);
	cr_assert_eq(system(cmd), 0);
}

static void drop_scratch(void)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", scratch);
	cr_expect_eq(system(cmd), 0);
}

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", scratch, rel);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

TestSuite(layers, .init = make_scratch, .fini = drop_scratch);

Test(layers, the_tree_keeps_its_include_layering)
{
	cr_assert_eq(run("python3 scripts/layers.py $(git ls-files 'shim/*.[ch]' 'config/*.[ch]' "
	                 "'symtab/*.[ch]' 'cli/*.[ch]' 'include/*.h') 2>&1"),
	             0, "%s", out);
}

Test(layers, config_including_the_shim_fails_naming_the_edge)
{
	put("shim/base/log.h", "#define X 1\n");
	put("config/lexer.c", "#include \"../shim/base/log.h\"\nint x = X;\n");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cd %s && python3 scripts/layers.py config/lexer.c 2>&1",
	         scratch);
	cr_assert_eq(run(cmd), 1, "%s", out);
	cr_expect(strstr(out, "config/lexer.c") &&
	              strstr(out, "config may not depend on shim/base"),
	          "%s", out);
}

Test(layers, base_calling_into_call_fails_at_the_symbol_check)
{
	put("shim/base/why.c", "long lm_invalidate_all(void);\n"
	                       "long lm_why_probe(void) { return lm_invalidate_all(); }\n");
	put("shim/call/invalidate.c", "long lm_invalidate_all(void) { return 0; }\n");
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
	         "cd %s && mkdir -p B/shim/base B/shim/call && "
	         "cc -c shim/base/why.c -o B/shim/base/why.o && "
	         "cc -c shim/call/invalidate.c -o B/shim/call/invalidate.o && "
	         "python3 scripts/layers.py --objects B B/shim/base/why.o "
	         "B/shim/call/invalidate.o 2>&1",
	         scratch);
	cr_assert_eq(run(cmd), 1, "%s", out);
	cr_expect(strstr(out, "uses lm_invalidate_all of shim/call: shim/base may not depend on "
	                      "shim/call"),
	          "%s", out);
	/* The other way round is allowed. */
	snprintf(cmd, sizeof cmd,
	         "cd %s && python3 scripts/layers.py --objects B B/shim/call/invalidate.o 2>&1",
	         scratch);
	cr_expect_eq(run(cmd), 0, "%s", out);
}

/* Start-up as the spec's section 2 and guarantee 10 describe it: inactive
 * unless asked, fail open, strict when asked, and what each log level
 * shows. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static const char good[] = "[cache fix_square]\nsignature = long fix_square(long x)\n";

static struct it_run run_basic(const char *conf, const char *const *env)
{
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	return it_run(conf, argv, env);
}

Test(startup, inactive_without_config)
{
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	const char *env[] = {"LD_PRELOAD=build/libldmemo.so", NULL};
	struct it_run r = it_run(NULL, argv, env);
	cr_assert_eq(r.status, 0);
	cr_expect_eq(it_field(r.out, "runs"), 30);
	cr_expect_str_empty(r.err);
	it_free(&r);
}

Test(startup, disable_leaves_program_alone)
{
	const char *env[] = {"LDMEMO_DISABLE=1", "LDMEMO_LOG=debug", NULL};
	struct it_run r = run_basic(good, env);
	cr_assert_eq(r.status, 0);
	cr_expect_eq(it_field(r.out, "runs"), 30);
	cr_expect_str_empty(r.err);
	it_free(&r);
}

Test(startup, config_error_fails_open_with_position)
{
	const char conf[] = "[cache fix_square]\nsignature = long fix_square(long x)\ntll = 5\n";
	struct it_run r = run_basic(conf, NULL);
	cr_assert_eq(r.status, 0);
	cr_expect(strstr(r.err, "app.conf:3:1: error: unknown key 'tll'") != NULL, "%s", r.err);
	cr_expect(strncmp(r.err, "ldmemo[", 7) == 0, "%s", r.err);
	/* The broken section runs unhooked; the program is unchanged. */
	cr_expect_eq(it_field(r.out, "runs"), 30);
	it_free(&r);
}

Test(startup, strict_config_error_exits_125)
{
	const char conf[] = "[cache fix_square]\nsignature = long fix_square(long x\n";
	const char *env[] = {"LDMEMO_STRICT=1", NULL};
	struct it_run r = run_basic(conf, env);
	cr_expect_eq(r.status, 125);
	cr_expect_str_empty(r.out);
	cr_expect(strstr(r.err, "error:") != NULL, "%s", r.err);
	it_free(&r);
}

Test(startup, unknown_symbol_warns_and_runs)
{
	const char conf[] = "[cache no_such_fn]\nsignature = int no_such_fn(int x)\n";
	struct it_run r = run_basic(conf, NULL);
	cr_assert_eq(r.status, 0);
	cr_expect(strstr(r.err, "no_such_fn: not hooked: ") != NULL, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 30);
	it_free(&r);
}

Test(startup, strict_unknown_symbol_exits_125)
{
	const char conf[] = "[cache no_such_fn]\nsignature = int no_such_fn(int x)\n";
	const char *env[] = {"LDMEMO_STRICT=1", NULL};
	struct it_run r = run_basic(conf, env);
	cr_expect_eq(r.status, 125);
	/* For that reason, and before the program ran: a status alone would
	 * pass for a strict exit on anything else, or after main. */
	cr_expect_str_empty(r.out);
	cr_expect(strstr(r.err, "no_such_fn: not hooked: ") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "LDMEMO_STRICT=1: some methods cannot be hooked") != NULL, "%s",
	          r.err);
	it_free(&r);
}

Test(startup, info_names_hook_address_and_object)
{
	const char *env[] = {"LDMEMO_LOG=info", NULL};
	struct it_run r = run_basic(good, env);
	cr_assert_eq(r.status, 0);
	cr_expect(strstr(r.err, "fix_square: detour at 0x") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "/libfix.so") != NULL, "%s", r.err);
	it_free(&r);
}

/* Which hit path a method got: the fast thunk for a register key and
 * result, the dispatcher's otherwise, and never for ttl = 0 (nothing is
 * ever stored to copy). A static result keyed by its first argument word
 * has its own entry, and no fast hits: only a fast thunk reads the fast
 * table, so its copies must not go there. */
Test(startup, info_says_which_methods_get_fast_hits)
{
	const char *env[] = {"LDMEMO_LOG=info", NULL};
	struct it_run r =
	    run_basic("[cache fix_square]\nsignature = long fix_square(long x)\n"
	              "[cache fix_narrow]\nsignature = int fix_narrow(int x)\nttl = 0\n"
	              "[cache fix_user_name]\nsignature = str fix_user_name(long id)\n"
	              "[type fix_rec]\nfields = str name, str dir, u32 id\n"
	              "[cache fix_lookup]\nsignature = static fix_rec* fix_lookup(u32 id)\n",
	              env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	const char *sq = strstr(r.err, "fix_square: "), *nar = strstr(r.err, "fix_narrow: "),
	           *un = strstr(r.err, "fix_user_name: "), *lk = strstr(r.err, "fix_lookup: ");
	cr_assert(sq && nar && un && lk, "%s", r.err);
	const char *lk_end = strchr(lk, '\n');
	cr_expect(!strstr(lk, "(fast hits)") || strstr(lk, "(fast hits)") > lk_end, "%s", r.err);
	cr_expect(strstr(lk, "(static hits)") && strstr(lk, "(static hits)") < lk_end, "%s", r.err);
	cr_expect(strstr(sq, "(fast hits)") && strstr(sq, "(fast hits)") < strchr(sq, '\n'), "%s",
	          r.err);
	cr_expect(!strstr(nar, "(fast hits)") || strstr(nar, "(fast hits)") > strchr(nar, '\n'),
	          "%s", r.err);
	cr_expect(!strstr(un, "(fast hits)") || strstr(un, "(fast hits)") > strchr(un, '\n'), "%s",
	          r.err);
	it_free(&r);
}

Test(startup, debug_shows_patched_bytes_and_trampoline)
{
	const char *env[] = {"LDMEMO_LOG=debug", NULL};
	struct it_run r = run_basic(good, env);
	cr_assert_eq(r.status, 0);
	cr_expect(strstr(r.err, "patched:") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "trampoline:") != NULL, "%s", r.err);
	it_free(&r);
}

/* The shim runs and has a warning to give (a function it cannot find):
 * quiet silences the warning, not the shim. An empty stderr alone would
 * pass for a shim that never started or a program that died silently. */
Test(startup, quiet_prints_nothing)
{
	const char conf[] = "[cache no_such_fn]\nsignature = int no_such_fn(int x)\n"
	                    "[cache fix_square]\nsignature = long fix_square(long x)\n";
	const char *env[] = {"LDMEMO_LOG=quiet", NULL};
	struct it_run loud = run_basic(conf, NULL);
	cr_assert_eq(loud.status, 0, "%s", loud.err);
	cr_assert(strstr(loud.err, "no_such_fn") != NULL, "nothing to silence: %s", loud.err);
	it_free(&loud);
	struct it_run r = run_basic(conf, env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 10, "the cache works: %s", r.out);
	cr_expect_str_empty(r.err);
	it_free(&r);
}

Test(startup, programs_filter)
{
	const char conf[] = "[global]\nprograms = other-*\n"
	                    "[cache fix_square]\nsignature = long fix_square(long x)\n";
	struct it_run r = run_basic(conf, NULL);
	cr_expect_eq(it_field(r.out, "runs"), 30);
	it_free(&r);
	const char conf2[] = "[global]\nprograms = prog-*\n"
	                     "[cache fix_square]\nsignature = long fix_square(long x)\n";
	r = run_basic(conf2, NULL);
	cr_expect_eq(it_field(r.out, "runs"), 10);
	it_free(&r);
}

Test(startup, got_mode_catches_plt_calls)
{
	const char conf[] = "[global]\nhook = got\n"
	                    "[cache fix_square]\nsignature = long fix_square(long x)\n";
	const char *env[] = {"LDMEMO_LOG=info", NULL};
	static const char *const variants[] = {"prog-pie-O2", "prog-nopie-O2", "prog-pie-O0-now",
	                                       "prog-nopie-O0-noplt"};
	for (int v = 0; v < 4; v++) {
		const char *argv[] = {it_path(variants[v]), "basic", NULL};
		struct it_run r = it_run(conf, argv, env);
		cr_assert_eq(r.status, 0, "%s", r.err);
		cr_expect(strstr(r.err, "fix_square: got at 0x") != NULL, "%s", r.err);
		cr_expect_eq(it_field(r.out, "runs"), 10, "%s: %s", variants[v], r.out);
		it_free(&r);
	}
}

Test(startup, verify_mode_runs_every_call_and_counts)
{
	const char conf[] = "[cache fix_square]\nsignature = long fix_square(long x)\n"
	                    "[cache fix_runs]\nsignature = long fix_runs()\n";
	const char *env[] = {"LDMEMO_MODE=verify", "LDMEMO_STATS=stderr",
	                     "LDMEMO_STATS_FORMAT=json", NULL};
	struct it_run r = run_basic(conf, env);
	cr_assert_eq(r.status, 0);
	/* The function always runs: the program sees only real results. */
	cr_expect_eq(it_field(r.out, "runs"), 30);
	cr_expect(strstr(r.err, "\"name\":\"fix_square\"") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "\"mode\":\"verify\",\"calls\":30,\"hits\":20,\"misses\":10") !=
	              NULL,
	          "%s", r.err);
	it_free(&r);
}

/* A child that inherits the preload but lacks the methods is normal: told
 * at info, not warn (spec guarantee 8). The program itself still is. */
Test(startup, child_without_the_methods_is_reported_at_info)
{
	const char conf[] = "[cache fix_square]\nsignature = long fix_square(long x)\n";
	const char *argv[] = {it_path("prog-pie-O2"), "spawn", NULL};
	struct it_run r = it_run(conf, argv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_str_empty(r.err);
	cr_expect_eq(it_field(r.out, "runs"), 10);
	it_free(&r);
	const char *env[] = {"LDMEMO_LOG=info", NULL};
	r = it_run(conf, argv, env);
	cr_expect(strstr(r.err, "fix_square: not hooked:") != NULL, "%s", r.err);
	it_free(&r);
}

/* The backends' client libraries (libmemcached brings libstdc++ and
 * libcrypto) are loaded only when the config names their backend: a
 * program on the local cache must not get a second OpenSSL. */
Test(startup, local_backend_loads_no_client_library)
{
	const char *argv[] = {"/bin/cat", "/proc/self/maps", NULL};
	struct it_run r = it_run("[cache strlen]\nsignature = size_t strlen(str s)\n", argv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "libldmemo.so") != NULL, "the shim is loaded");
	cr_expect(strstr(r.out, "libhiredis") == NULL, "%s", r.out);
	cr_expect(strstr(r.out, "libmemcached") == NULL, "%s", r.out);
	cr_expect(strstr(r.out, "libcrypto") == NULL, "%s", r.out);
	it_free(&r);
}

/* A detour of a common function decodes its code without Zydis, whose
 * load and relocation cost ~20 page faults at start (issue 19): the
 * small decoder knows its instructions (tests/hook/test_insn.c). */
Test(startup, a_detour_loads_no_disassembler)
{
	const char *argv[] = {"/bin/cat", "/proc/self/maps", NULL};
	const char *env[] = {"LDMEMO_LOG=info", NULL};
	struct it_run r = it_run("[cache labs]\nsignature = long labs(long x)\n", argv, env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.err, "labs: detour at") != NULL, "%s", r.err);
	cr_expect(strstr(r.out, "libZydis") == NULL, "%s", r.out);
	it_free(&r);
}

/* TTLs follow the clock_gettime the process calls, when it defines its
 * own: neither the kernel's clock words nor a direct vDSO call may bypass
 * it (they did: the shim then never saw the program's time move). */
Test(startup, ttls_follow_a_clock_the_program_defines)
{
	const char *argv[] = {it_path("fakeclock"), NULL};
	struct it_run r =
	    it_run("[global]\nadaptive = off\nttl = 10s\n"
	           "[cache fc_one]\nsignature = long fc_one(long x)\n"
	           "[cache fc_three]\nsignature = long fc_three(long a, long b, long c)\n",
	           argv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "one=2 three=2 s=168\n", "%s", r.err);
	it_free(&r);
}

/* Verify mode is how a user learns a function is not pure: the program
 * sees the real results, and the would-be stale answers are counted and
 * logged with their key. */
Test(startup, verify_mode_counts_and_logs_mismatches)
{
	const char conf[] = "[cache fix_runs]\nsignature = long fix_runs()\nmode = verify\n";
	const char *argv[] = {it_path("prog-pie-O2"), "impure", NULL};
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	struct it_run r = it_run(conf, argv, env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "1 2 3 \n");
	cr_expect(strstr(r.err, "\"hits\":2,\"misses\":1") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "\"mismatches\":2") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "fix_runs: verify: the cached result would differ from the real "
	                        "one for fix_runs()") != NULL,
	          "%s", r.err);
	it_free(&r);
}

/* stale_if_error (spec 3.4): when a miss's result fails `when` and the
 * key's entry expired less than the window ago, the old result answers,
 * counted as stale and as a hit. Without the window, the failure shows. */
Test(startup, stale_if_error_answers_a_failure_with_the_expired_result)
{
	const char *argv[] = {it_path("prog-pie-O2"), "stale", NULL};
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	struct it_run r = it_run("[cache fix_get_user]\n"
	                         "signature = int fix_get_user(i64 id, out(64) user)\n"
	                         "when = ret == 0\nttl = 100ms\nstale_if_error = 10s\n",
	                         argv, env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* The stale answer brings back the errno the function left then
	 * (whatever a sanitizer's runtime made it), not the failure's. */
	int a, ea, b, eb;
	cr_assert_eq(sscanf(r.out, "%d %d user 1: bob / %d %d user 1: bob", &a, &ea, &b, &eb), 4,
	             "%s", r.out);
	cr_expect(a == 0 && b == 0 && eb == ea, "%s", r.out);
	cr_expect(strstr(r.err, "\"hits\":1,\"misses\":1") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "\"stale\":1") != NULL, "%s", r.err);
	it_free(&r);
	struct it_run bare = it_run(NULL, argv, NULL);
	cr_expect(strstr(bare.out, "user 1: bob / -1 2 -\n") != NULL, "%s", bare.out);
	it_free(&bare);
}

/* exec in the same process: the new image lacks the method, which is
 * normal there (guarantee 8: info), not a warning. */
Test(startup, method_missing_after_exec_is_reported_at_info)
{
	const char *argv[] = {it_path("prog-pie-O2"), "exec", NULL};
	struct it_run r = it_run(good, argv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 10);
	cr_expect_str_empty(r.err);
	it_free(&r);
	const char *env[] = {"LDMEMO_LOG=info", NULL};
	r = it_run(good, argv, env);
	cr_expect(strstr(r.err, "fix_square: not hooked:") != NULL, "%s", r.err);
	it_free(&r);
}

/* LDMEMO_INHERITED holds the pid of the process the shim started in, for
 * what it execs and starts (set with putenv of a static string). */
Test(startup, inherited_names_the_process_the_shim_started_in)
{
	const char *argv[] = {"/bin/sh", "-c", "echo \"$LDMEMO_INHERITED $$\"", NULL};
	const char *env[] = {"LDMEMO_LOG=error", NULL};
	struct it_run r = it_run(good, argv, env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	long a = -1, b = -2;
	cr_assert_eq(sscanf(r.out, "%ld %ld", &a, &b), 2, "%s", r.out);
	cr_expect_eq(a, b, "%s", r.out);
	it_free(&r);
}

/* A process the config is not for says nothing at the default level, not
 * even about the config's own problems (a wrapper's 35 helpers each
 * repeated them). */
Test(startup, process_not_in_programs_is_silent)
{
	const char conf[] = "[global]\nprograms = other-*\n"
	                    "[cache fix_square]\nsignature = long fix_square(long x)\ntll = 5\n";
	struct it_run r = run_basic(conf, NULL);
	cr_expect_eq(it_field(r.out, "runs"), 30);
	cr_expect_str_empty(r.err);
	it_free(&r);
	const char *env[] = {"LDMEMO_LOG=info", NULL};
	r = run_basic(conf, env);
	cr_expect(strstr(r.err, "not in programs") != NULL, "%s", r.err);
	it_free(&r);
}

/* A misspelt name gets a did-you-mean from the symbols that exist, and the
 * message names the config line of its section (it did not); a name
 * nothing is close to says that a library loaded later may bring it. */
Test(startup, misspelt_method_gets_a_did_you_mean)
{
	const char conf[] =
	    "# a comment\n\n[cache fix_sqare]\nsignature = long fix_sqare(long x)\n";
	struct it_run r = run_basic(conf, NULL);
	cr_assert_eq(r.status, 0);
	cr_expect(strstr(r.err, ".conf:3: fix_sqare: not hooked: ") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "did you mean 'fix_square'?") != NULL, "%s", r.err);
	it_free(&r);
	const char far[] = "[cache no_such_fn]\nsignature = int no_such_fn(int x)\n";
	r = run_basic(far, NULL);
	cr_expect_null(strstr(r.err, "did you mean"), "%s", r.err);
	cr_expect(strstr(r.err, "hooked if a library loaded later defines it") != NULL, "%s",
	          r.err);
	it_free(&r);
}

/* The shim's small static variables share a page or two: every array of a
 * kilobyte or more is in .lbss (shim/base/section.h), after them, so a
 * start-up that touches a few variables takes a page fault or two, not
 * one per array they would lie between. */
Test(startup, no_large_array_lies_among_the_small_variables)
{
	elf_version(EV_CURRENT);
	int fd = open("build/libldmemo.so", O_RDONLY);
	cr_assert_geq(fd, 0);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_not_null(e);
	size_t bss = 0, nobjects = 0;
	Elf_Scn *scn = NULL, *symtab = NULL;
	size_t shstrndx;
	cr_assert_eq(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		gelf_getshdr(scn, &sh);
		const char *name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && strcmp(name, ".bss") == 0)
			bss = elf_ndxscn(scn);
		if (name && strcmp(name, ".lbss") == 0)
			cr_expect_eq(sh.sh_type, SHT_NOBITS, ".lbss takes no room in the file");
		if (sh.sh_type == SHT_SYMTAB)
			symtab = scn;
	}
	cr_assert(bss && symtab, "a .bss and a .symtab");
	GElf_Shdr sh;
	gelf_getshdr(symtab, &sh);
	Elf_Data *d = elf_getdata(symtab, NULL);
	for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Sym sym;
		gelf_getsym(d, (int)i, &sym);
		if (GELF_ST_TYPE(sym.st_info) != STT_OBJECT || sym.st_shndx != bss)
			continue;
		nobjects++;
		cr_expect_lt(sym.st_size, 1024, "%s (%zu bytes) is in .bss: mark it LM_LARGE_BSS",
		             elf_strptr(e, sh.sh_link, sym.st_name), (size_t)sym.st_size);
	}
	cr_expect_gt(nobjects, 10, "the shim's variables were read");
	elf_end(e);
	close(fd);
}

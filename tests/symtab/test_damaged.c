/* Files that are not what they claim: missing, not ELF, the wrong class or
 * machine, truncated, with damaged section headers. Opening them must give
 * an error or a sane set, never a crash. */
#include <criterion/criterion.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "symtab/symtab.h"

static unsigned char *orig;
static size_t orig_len;

static void setup(void)
{
	FILE *f = fopen(lm_fixture("libfix.so"), "rb");
	struct stat st;

	cr_assert_not_null(f);
	cr_assert_eq(fstat(fileno(f), &st), 0);
	orig_len = (size_t)st.st_size;
	orig = malloc(orig_len);
	cr_assert_eq(fread(orig, 1, orig_len, f), orig_len);
	fclose(f);
	cr_assert_not_null(lm_tmpdir());
}

static void teardown(void)
{
	free(orig);
	lm_tmpdir_remove();
}

TestSuite(damaged, .init = setup, .fini = teardown);

static const char *write_bytes(const char *name, const void *data, size_t len)
{
	const char *path = lm_write_file(name, "");
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

/* Open PATH; either it fails with a message or the set is usable. */
static int try_open(const char *path, char *err, size_t errlen)
{
	struct lm_objset set;
	struct lm_symbol s;
	int rc;

	err[0] = '\0';
	rc = lm_objset_offline(path, &set, err, errlen);
	if (rc != 0) {
		cr_assert_neq(err[0], '\0', "a failure says why");
		return rc;
	}
	if (lm_symtab_find(&set, "fix_lib_func", NULL, NULL, &s) == LM_FIND_OK) {
		cr_assert_str_eq(s.name, "fix_lib_func", "a found symbol has the name asked for");
		lm_symbol_free(&s);
	}
	lm_objset_free(&set);
	return 0;
}

Test(damaged, missing_file)
{
	char err[256];

	cr_assert_eq(try_open("/nonexistent/prog", err, sizeof(err)), -1);
	cr_assert(strstr(err, "No such file"), "%s", err);
}

Test(damaged, not_elf)
{
	char err[256];
	const char *p = lm_write_file("script.sh", "#!/bin/sh\necho hello\n");

	cr_assert_eq(try_open(p, err, sizeof(err)), -1);
	cr_assert(strstr(err, "not an ELF"), "%s", err);
}

Test(damaged, elf32_is_refused)
{
	char err[256];

	orig[EI_CLASS] = ELFCLASS32;
	cr_assert_eq(try_open(write_bytes("elf32", orig, orig_len), err, sizeof(err)), -1);
	cr_assert(strstr(err, "64-bit"), "%s", err);
}

Test(damaged, other_machine_is_refused)
{
	char err[256];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)orig;

	eh->e_machine = EM_AARCH64;
	cr_assert_eq(try_open(write_bytes("arm", orig, orig_len), err, sizeof(err)), -1);
	cr_assert(strstr(err, "x86-64"), "%s", err);
}

Test(damaged, truncated_at_many_offsets)
{
	char err[256];
	size_t step = orig_len / 97 + 1;
	int failures = 0;

	for (size_t len = 0; len < orig_len; len += step)
		if (try_open(write_bytes("trunc", orig, len), err, sizeof(err)) != 0)
			failures++;
	cr_assert_gt(failures, 0, "a truncated library cannot all be fine");
}

/* Section headers past the end of the file: the file is damaged (a
 * truncated copy, most likely), and the error says so. */
Test(damaged, section_header_offset_past_the_end)
{
	const Elf64_Off past[] = {orig_len + 4096, (Elf64_Off)-64 /* wraps around */};
	char err[256], want[64];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)orig;

	snprintf(want, sizeof want, "the file ends at byte %zu, before its section headers",
	         orig_len);
	for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
		eh->e_shoff = past[i];
		cr_expect_eq(try_open(write_bytes("shoff", orig, orig_len), err, sizeof(err)),
		             LM_OBJSET_DAMAGED, "e_shoff %#llx", (unsigned long long)eh->e_shoff);
		cr_expect(strstr(err, want) != NULL, "%s", err);
	}
	/* Inside the file but overlapping the ELF header: opens or fails
	 * cleanly (try_open checks). */
	eh->e_shoff = 1;
	try_open(write_bytes("shoff3", orig, orig_len), err, sizeof(err));
}

/* Apply MUTATE to each section header in turn; every variant must open or
 * fail cleanly. */
static void each_section(void (*mutate)(Elf64_Shdr *sh, size_t len))
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)orig;
	char err[256];

	cr_assert_lt(eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr), orig_len + 1);
	for (size_t i = 1; i < eh->e_shnum; i++) {
		unsigned char *copy = malloc(orig_len);
		Elf64_Shdr *sh;

		memcpy(copy, orig, orig_len);
		sh = (Elf64_Shdr *)(copy + eh->e_shoff) + i;
		mutate(sh, orig_len);
		try_open(write_bytes("sect", copy, orig_len), err, sizeof(err));
		free(copy);
	}
}

static void huge_size(Elf64_Shdr *sh, size_t len)
{
	sh->sh_size = len * 16;
}

static void offset_past_end(Elf64_Shdr *sh, size_t len)
{
	sh->sh_offset = len + 100;
}

static void bad_link(Elf64_Shdr *sh, size_t len)
{
	(void)len;
	sh->sh_link = 0xffff;
}

static void odd_entsize(Elf64_Shdr *sh, size_t len)
{
	(void)len;
	sh->sh_size = sh->sh_size ? sh->sh_size - 1 : 3;
	sh->sh_entsize = 7;
}

/* Any section read as if it were another kind of table. */
static Elf64_Word retype_to;

static void retype(Elf64_Shdr *sh, size_t len)
{
	(void)len;
	sh->sh_type = retype_to;
}

Test(damaged, sections_of_the_wrong_kind)
{
	static const Elf64_Word kinds[] = {SHT_DYNSYM,     SHT_SYMTAB,     SHT_DYNAMIC,
	                                   SHT_GNU_verdef, SHT_GNU_versym, SHT_STRTAB};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		retype_to = kinds[k];
		each_section(retype);
	}
}

Test(damaged, section_sizes_past_the_end)
{
	each_section(huge_size);
}

Test(damaged, section_offsets_past_the_end)
{
	each_section(offset_past_end);
}

Test(damaged, section_links_out_of_range)
{
	each_section(bad_link);
}

Test(damaged, odd_section_sizes)
{
	each_section(odd_entsize);
}

Test(damaged, string_offsets_out_of_range)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)orig;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(orig + eh->e_shoff);
	char err[256];
	int corrupted = 0;

	/* Every st_name of every symbol table points far away. */
	for (size_t i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM && sh[i].sh_type != SHT_SYMTAB)
			continue;
		for (size_t off = sh[i].sh_offset + sizeof(Elf64_Sym);
		     off + sizeof(Elf64_Sym) <= sh[i].sh_offset + sh[i].sh_size;
		     off += sizeof(Elf64_Sym)) {
			((Elf64_Sym *)(orig + off))->st_name = 0x7fffff00;
			corrupted++;
		}
	}
	cr_assert_gt(corrupted, 0);
	cr_assert_eq(try_open(write_bytes("names", orig, orig_len), err, sizeof(err)),
	             LM_OBJSET_DAMAGED);
	cr_assert(strstr(err, "damaged"), "%s", err);
}

Test(damaged, live_add_of_a_bad_file_fails_cleanly)
{
	struct lm_objset set = {0};
	char err[256] = "";

	cr_assert_eq(lm_objset_add(&set, lm_write_file("junk", "junk"), 0, err, sizeof(err)), -1);
	cr_assert_neq(err[0], '\0');
	cr_assert_eq(set.n, 0);
	lm_objset_free(&set);
}

/* ---- What the user sees: the command and the shim ------------------------ */

/* The first LEN bytes of the fixture NAME, as an executable in the
 * temporary directory. */
static const char *cut_copy(const char *name, const char *as, size_t len)
{
	FILE *f = fopen(lm_fixture(name), "rb");
	unsigned char *buf = malloc(len);
	const char *path;

	cr_assert_not_null(f);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, len, f), len);
	fclose(f);
	path = write_bytes(as, buf, len);
	free(buf);
	cr_assert_eq(chmod(path, 0755), 0);
	return path;
}

static char *run_out;

static int run(char *const argv[], const char *const env[])
{
	free(run_out);
	run_out = NULL;
	return lm_run(argv, env, &run_out);
}

static const char *const no_shim[] = {"LDMEMO_CONFIG", "LD_PRELOAD", "LDMEMO_LOG", NULL};

/* A program cut after 3,000 bytes: libelf reads it as a file without
 * sections, and the interpreter it names is readable. That is an error,
 * not a listing of the interpreter's symbols. */
Test(damaged, symbols_of_a_truncated_program_exits_2)
{
	const char *p = cut_copy("fix_pie", "cut3000", 3000);
	char *argv[] = {(char *)lm_built("ldmemo"), "symbols", (char *)p, NULL};
	char *argv_conf[] = {(char *)lm_built("ldmemo"), "symbols", "--config", (char *)p, NULL};

	cr_expect_eq(run(argv, no_shim), 2, "%s", run_out);
	cr_expect(strstr(run_out, p) && strstr(run_out, "damaged") && strstr(run_out, "truncated"),
	          "%s", run_out);
	cr_expect_null(strstr(run_out, "ld-linux"), "%s", run_out);
	cr_expect_eq(run(argv_conf, no_shim), 2, "%s", run_out);
	cr_expect(strstr(run_out, p) && strstr(run_out, "damaged"), "%s", run_out);
	free(run_out);
	run_out = NULL;
}

Test(damaged, check_of_a_truncated_program_exits_2)
{
	char conf[4096], p[4096];
	char *argv[] = {(char *)lm_built("ldmemo"), "check", "-c", conf, p, NULL};

	snprintf(p, sizeof(p), "%s", cut_copy("fix_pie", "cut3000", 3000));

	snprintf(
	    conf, sizeof(conf), "%s",
	    lm_write_file("f.conf", "[cache fix_square]\nsignature = long fix_square(long x)\n"));
	cr_expect_eq(run(argv, no_shim), 2, "%s", run_out);
	cr_expect(strstr(run_out, p) && strstr(run_out, "damaged"), "%s", run_out);
	free(run_out);
	run_out = NULL;
}

/* A library the program needs, cut short, is as fatal as the program. */
Test(damaged, symbols_of_a_program_with_a_truncated_library_exits_2)
{
	char dir[4096], cmd[8400], lib[4096];
	char *argv[] = {(char *)lm_built("ldmemo"), "symbols", dir, NULL};

	/* Beside the program, where its $ORIGIN run path finds it. */
	snprintf(lib, sizeof(lib), "%s", cut_copy("libfix.so", "libfix.so", 2000));
	snprintf(dir, sizeof(dir), "%.*s/fix_pie", (int)(strrchr(lib, '/') - lib), lib);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", lm_fixture("fix_pie"), dir);
	cr_assert_eq(system(cmd), 0);
	cr_expect_eq(run(argv, no_shim), 2, "%s", run_out);
	cr_expect(strstr(run_out, lib) && strstr(run_out, "damaged"), "%s", run_out);
	free(run_out);
	run_out = NULL;
}

/* The end of the last loaded segment of the fixture NAME: a copy cut there
 * runs, but its section headers (and .symtab) are gone. */
static size_t loaded_end(void)
{
	FILE *f = fopen(lm_fixture("fix_pie"), "rb");
	Elf64_Ehdr eh;
	size_t end = 0;

	cr_assert_not_null(f);
	cr_assert_eq(fread(&eh, sizeof(eh), 1, f), 1);
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		cr_assert_eq(fseek(f, (long)(eh.e_phoff + i * sizeof(ph)), SEEK_SET), 0);
		cr_assert_eq(fread(&ph, sizeof(ph), 1, f), 1);
		if (ph.p_type == PT_LOAD && ph.p_offset + ph.p_filesz > end)
			end = ph.p_offset + ph.p_filesz;
	}
	fclose(f);
	return end;
}

/* The shim needs the file only for names no object exports: it skips the
 * damaged program's .symtab with a message naming the file, hooks what the
 * libraries export, and the program's output is unchanged. */
Test(damaged, shim_skips_a_damaged_program_and_keeps_running)
{
	char conf[4096], preload[4200], lib_dir[4096], plain[256], p[4096];
	const char *slash;
	char *argv[] = {p, NULL};

	snprintf(p, sizeof(p), "%s", cut_copy("fix_pie", "fix_cut", loaded_end()));
	const char *fixlib = lm_fixture("libfix.so");

	slash = strrchr(fixlib, '/');
	snprintf(lib_dir, sizeof(lib_dir), "LD_LIBRARY_PATH=%.*s", (int)(slash - fixlib), fixlib);
	snprintf(conf, sizeof(conf), "LDMEMO_CONFIG=%s",
	         lm_write_file("cut.conf",
	                       "[cache fix_square]\nsignature = long fix_square(long x)\n"
	                       "[cache fix_lib_func]\nsignature = int fix_lib_func(int x)\n"));
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", lm_built("libldmemo.so"));
	const char *const env_plain[] = {"LDMEMO_CONFIG", "LD_PRELOAD", lib_dir, NULL};
	const char *const env_shim[] = {conf, preload, lib_dir, "LDMEMO_LOG=info", NULL};

	cr_assert_eq(run(argv, env_plain), 0, "%s", run_out);
	snprintf(plain, sizeof(plain), "%s", run_out);
	cr_expect_eq(run(argv, env_shim), 0, "%s", run_out);
	cr_expect(strstr(run_out, plain), "output changed: %s", run_out);
	cr_expect(strstr(run_out, p) && strstr(run_out, "damaged"), "%s", run_out);
	cr_expect(strstr(run_out, "fix_lib_func: detour"), "%s", run_out);
	free(run_out);
	run_out = NULL;
}

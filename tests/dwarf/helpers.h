/* Shared by the dwarf tests: where the fixtures are, and running the
 * ldmemo command with stdout and stderr captured apart. */
#ifndef LM_TEST_DWARF_FIXTURE_H
#define LM_TEST_DWARF_FIXTURE_H

/* build/tests/dwarf/NAME as an absolute path (static until the next call
 * from the same line of code: copy it to keep it). */
const char *lm_dw_fixture(const char *name);
/* build/ldmemo. */
const char *lm_dw_ldmemo(void);

struct lm_dw_run {
	int status; /* exit status; -1 if it did not exit normally */
	char *out, *err;
};

/* Run ldmemo with ARGV (NULL-terminated, without argv[0]). */
void lm_dw_run(const char *const argv[], struct lm_dw_run *r);
void lm_dw_run_free(struct lm_dw_run *r);

/* Write TEXT to a fresh file; returns its path (malloc'd). */
char *lm_dw_write_temp(const char *text);

#endif

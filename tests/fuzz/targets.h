/* The fuzz targets: each takes one arbitrary input and must return 0 (-1:
 * an invariant it checks failed) without crashing, leaking or touching
 * memory it does not own. libFuzzer calls them through entry.c (which
 * traps on -1); tests/hardening replays the corpora and every crash found
 * through the same functions. */
#ifndef LM_FUZZ_TARGETS_H
#define LM_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

struct lm_config;

/* The config parser on the input as a whole file; the methods that parse
 * are compiled into plans, as the shim would. */
int lm_fuzz_config(const uint8_t *data, size_t size);
/* The input's first line as a `when`, the rest as a `drop`, in a config
 * built around them; the drop targets compiled and applied to a call. */
int lm_fuzz_rules(const uint8_t *data, size_t size);
/* The input's first byte picks one of a few fixed signatures (one returns
 * a three-level struct); the rest is replayed as a stored value blob. */
int lm_fuzz_plan(const uint8_t *data, size_t size);
/* The input as an ELF file: added to an object set, its symbols listed
 * and searched. */
int lm_fuzz_elf(const uint8_t *data, size_t size);

/* Shared by the targets: parse TEXT; 0 and a config the caller frees, or
 * -1 on out-of-memory. */
int lm_fuzz_parse(const char *text, size_t len, struct lm_config *cfg);

#endif

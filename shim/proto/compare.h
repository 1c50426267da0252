/* A config signature against the C prototype DWARF gives: the one
 * judgement of `ldmemo check` and of the shim's strict-mode plugin. */
#ifndef LM_PROTO_COMPARE_H
#define LM_PROTO_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "symtab/dwarf.h"

/* Compare method M's signature (from config FILE) with F: appends
 * "  error: ..." and "  warning: ..." lines to *BUF (malloc'd). Returns
 * the number of errors (0 when only warnings or none), -1 when out of
 * memory. */
int lm_proto_compare(const char *file, const struct lm_method *m, const struct lm_cfunc *f,
                     char **buf);

/* An entry with neither a prototype nor parameters comes from assembly
 * (glibc's system call wrappers) or K&R C: it says nothing reliable about
 * the signature. */
bool lm_proto_unreliable(const struct lm_cfunc *f);

/* Kind K against the C type T: 0 equal, 1 a warning (only the signedness
 * differs), 2 an error (the class or the width differs). */
int lm_proto_scalar(enum lm_kind k, const struct lm_ctype *t);
/* "i64 (8 bytes)", "str (8 bytes)", "ignore". */
void lm_proto_kind_desc(enum lm_kind k, char *out, size_t len);

/* F as C would declare it: "long f(const char *key, unsigned short port)". */
void lm_proto_describe(const struct lm_cfunc *f, char *out, size_t len);

/* Append a formatted line to *BUF (malloc'd, grown); -1 when out of memory. */
int lm_proto_appendf(char **buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

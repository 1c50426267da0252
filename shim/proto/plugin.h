/* The strict-mode prototype plugin (libldmemo-proto.so): the shim loads
 * it only under LDMEMO_STRICT=1, so that libdw and the DWARF reader cost
 * the default start-up nothing. */
#ifndef LM_PROTO_PLUGIN_H
#define LM_PROTO_PLUGIN_H

#include <stddef.h>

#include "config/config.h"

#define LM_PROTO_PLUGIN "libldmemo-proto.so"
#define LM_PROTO_ENTRY  "lm_proto_check"

/* 1 when method M's signature (from config FILE) disagrees with the
 * prototype in OBJECT's own debug information, the findings in MSG; 0
 * when it agrees, or when OBJECT carries no DWARF of its own (a separate
 * debug file is not looked for: not cheap) or none about M. */
typedef int (*lm_proto_check_fn)(const char *file, const struct lm_method *m, const char *object,
                                 char *msg, size_t len);

#endif

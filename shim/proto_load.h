/* Under LDMEMO_STRICT=1, each method's signature against the prototype in
 * its object's own debug information (proto_load.c). */
#ifndef LM_PROTO_LOAD_H
#define LM_PROTO_LOAD_H

#include <stdbool.h>

#include "config/config.h"

/* False (and the findings logged, naming the config line) when M's
 * signature disagrees with OBJECT's DWARF; true when it agrees or cannot
 * be compared. Loads the plugin on first use. */
bool lm_proto_agrees(const char *file, const struct lm_method *m, const char *object);

#endif

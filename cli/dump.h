/* Statistics dumps as the shim writes them in json format (one object per
 * dump), read back into snapshots for `ldmemo stats`. */
#ifndef LM_DUMP_H
#define LM_DUMP_H

#include <stddef.h>

#include "shim/ops/stats_snapshot.h"
#include "json.h"

struct lm_dump {
	struct lm_json *root;
	struct lm_snapshot snap; /* strings point into ROOT */
};

/* Read the next dump at *POS in BUF. 1 with D filled, 0 when only
 * whitespace is left, -1 with ERR filled when the input is not JSON or not
 * a dump (a missing field or one of the wrong type). */
int lm_dump_next(const char *buf, size_t len, size_t *pos, struct lm_dump *d,
                 struct lm_json_err *err);
void lm_dump_free(struct lm_dump *d);

#endif

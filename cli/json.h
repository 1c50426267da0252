/* A small, strict JSON reader for statistics dumps: objects, arrays,
 * strings (every escape; raw bytes >= 0x80 pass as they are, since the
 * shim writes paths byte for byte) and numbers. The literals true, false
 * and null never occur in a dump and are refused. Never crashes on bad
 * input: every error names its byte offset; nesting is bounded. */
#ifndef LM_JSON_H
#define LM_JSON_H

#include <stddef.h>
#include <stdint.h>

#define LM_JSON_MAX_DEPTH 32

enum lm_json_type { LM_JSON_OBJECT, LM_JSON_ARRAY, LM_JSON_STRING, LM_JSON_NUMBER };

struct lm_json {
	enum lm_json_type type;
	size_t offset; /* of the value's first byte in the input */
	char *str;     /* STRING: decoded, NUL-terminated; NUMBER: its text */
	size_t len;
	char **keys;            /* OBJECT: n keys */
	struct lm_json **items; /* OBJECT, ARRAY: n values */
	size_t n;
};

struct lm_json_err {
	size_t offset;
	char msg[96];
};

/* Parse the value at *POS in BUF (whitespace before it skipped) and move
 * *POS past it. NULL with ERR filled on a syntax error or OOM. */
struct lm_json *lm_json_parse(const char *buf, size_t len, size_t *pos, struct lm_json_err *err);
void lm_json_free(struct lm_json *v);

/* The value of KEY in object OBJ, or NULL. */
const struct lm_json *lm_json_get(const struct lm_json *obj, const char *key);
/* A non-negative integer that fits 64 bits. 0, or -1. */
int lm_json_u64(const struct lm_json *v, uint64_t *out);
/* A non-negative decimal without exponent, in thousandths (rounded). 0,
 * or -1. */
int lm_json_milli(const struct lm_json *v, uint64_t *out);

#endif

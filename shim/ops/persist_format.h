/* The file format of `persist = PATH` (spec 3.1): encoder and checking
 * decoder, independent of the runtime.
 *
 * All integers little-endian. A 32-byte header:
 *   "LDMEMOPC"  u32 version  u32 0  u64 body length  u64 XXH3-64 of the body
 * then the body:
 *   u32 len + program path, u32 len + namespace,
 *   u32 nmethods, per method: u32 len + name, u64 plan fingerprint,
 *   records up to the end of the body, each:
 *   u32 method index, u32 key length, u32 value length,
 *   i64 absolute wall-clock expiry in ms (INT64_MAX: never), key, value.
 * The decoder checks the checksum and every length before it reports
 * anything, so a damaged file yields nothing. */
#ifndef LM_PERSIST_FORMAT_H
#define LM_PERSIST_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LM_PERSIST_VERSION     1
#define LM_PERSIST_HEADER      32
#define LM_PERSIST_MAX_STR     4096  /* program, namespace, method names */
#define LM_PERSIST_MAX_METHODS 65536 /* methods in one header */

struct lm_persist_method {
	const char *name;
	uint64_t fingerprint;
};

/* ---- Writing --------------------------------------------------------------- */

struct lm_persist_writer;

/* Start a file on FD (at offset 0): a placeholder header, then the body's
 * head. NULL on OOM or more than LM_PERSIST_MAX_METHODS methods. */
struct lm_persist_writer *lm_persist_begin(int fd, const char *program, const char *namespace_,
                                           const struct lm_persist_method *methods,
                                           uint32_t nmethods);
/* A record; one whose value does not fit the format's u32 is left out. */
void lm_persist_record(struct lm_persist_writer *w, uint32_t method, const void *key, uint32_t klen,
                       const void *val, size_t vlen, int64_t expires_wall_ms);
/* Flush, write the real header and free W. 0, or -1 when a write failed. */
int lm_persist_finish(struct lm_persist_writer *w);

/* ---- Reading --------------------------------------------------------------- */

enum lm_persist_status {
	LM_PERSIST_OK,
	LM_PERSIST_E_FOREIGN, /* not an ldmemo cache file */
	LM_PERSIST_E_VERSION, /* another format version */
	LM_PERSIST_E_DAMAGED, /* truncated, checksum or a length wrong */
	LM_PERSIST_E_NOMEM,
};

/* A checked file. Strings and records point into the caller's buffer,
 * which must outlive it. */
struct lm_persist_file {
	const char *program, *namespace_;
	uint32_t program_len, namespace_len;
	uint32_t nmethods;
	struct lm_persist_mref {
		const char *name;
		uint32_t name_len;
		uint64_t fingerprint;
	} * methods; /* malloc'd */
	const unsigned char *recs;
	size_t recs_len;
	uint64_t nrecs;
};

struct lm_persist_rec {
	uint32_t method;
	uint32_t klen, vlen;
	int64_t expires_wall_ms;
	const void *key, *val;
};

/* Whether the LEN bytes at BUF begin as a cache file does: a file that
 * does not is never written over. */
bool lm_persist_magic(const void *buf, size_t len);
enum lm_persist_status lm_persist_parse(const void *buf, size_t len, struct lm_persist_file *f);
void lm_persist_file_free(struct lm_persist_file *f);

/* Step through F's records: *OFF starts at 0. 1 with a record in R, 0 at
 * the end. */
int lm_persist_next(const struct lm_persist_file *f, size_t *off, struct lm_persist_rec *r);

#endif

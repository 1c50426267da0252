/* The host tier's mapping, byte for byte: a header, then an array of
 * fixed-size slots. Offsets and indexes only, never a pointer: each
 * process maps it at its own address. Nothing read from it is trusted:
 * lengths are bounded, and a slot's checksum must match its bytes. */
#ifndef LM_HOST_LAYOUT_H
#define LM_HOST_LAYOUT_H

#include <stdint.h>

#include "host.h"

#define LM_HOST_MAGIC   0x31484d454d444c00ull /* "\0LDMEMH1" */
#define LM_HOST_VERSION 1u

#define LM_HOST_MBUCKETS   256u  /* per-method generations (by name hash) */
#define LM_HOST_KBUCKETS   4096u /* per-key generations (by key hash) */
#define LM_HOST_SLOT_BYTES 256u
#define LM_HOST_PROBE      8u  /* slots a key may live in, from its home */
#define LM_HOST_ABANDON_MS 200 /* an odd counter older than this: the writer died */

enum lm_host_state { LM_HS_EMPTY = 0, LM_HS_LIVE = 1, LM_HS_TOMB = 2 };

struct lm_host_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t uid;
	uint64_t layout; /* lm_host_layout_fp(): sizes and offsets of this build */
	uint64_t size;   /* of the whole mapping */
	uint64_t nslots;
	uint64_t slots_off;
	uint64_t evictions, stores; /* atomic: written by fills, never by hits */
	/* Bumped by method-wide and all drops; entries carry the value they
	 * were filled under and are dead once it moves. */
	uint64_t mgen[LM_HOST_MBUCKETS];
	/* Bumped by every drop of a method: the copies processes keep in L1. */
	uint64_t l1gen[LM_HOST_MBUCKETS];
	/* Bumped by key drops: a fill racing a drop cannot land after it. */
	uint64_t kgen[LM_HOST_KBUCKETS];
};

/* Seq even: stable; odd: a writer holds the slot since claimed_ms. The
 * checksum covers everything from hash to the end of the key and value. */
struct lm_host_slot {
	uint64_t seq;
	int64_t claimed_ms;
	uint64_t sum;
	uint8_t ref; /* clock bit, set by hits (only when clear) */
	uint8_t pad0[7];
	/* covered by sum: */
	uint64_t hash;
	uint64_t mhash, fp;
	uint64_t mgen, kgen;
	int64_t expires_ms;
	uint16_t klen, vlen;
	uint8_t state;
	uint8_t pad1[3];
	unsigned char data[LM_HOST_SLOT_BYTES - 88];
};
_Static_assert(sizeof(struct lm_host_slot) == LM_HOST_SLOT_BYTES, "a slot is 256 bytes");

#define LM_HOST_SUM_OFF   __builtin_offsetof(struct lm_host_slot, hash)
#define LM_HOST_HDR_BYTES ((sizeof(struct lm_host_hdr) + 4095) & ~(size_t)4095)

/* Fingerprint of this build's layout: a mapping made by another layout is
 * never read. */
uint64_t lm_host_layout_fp(void);

struct lm_host {
	struct lm_host_hdr *hdr;
	struct lm_host_slot *slots;
	uint64_t nslots;
	uint64_t size;
};

#endif

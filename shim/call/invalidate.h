/* Drops shared by write functions, the control socket and the public API
 * (invalidate.c); each drops from the local store and, for a shared
 * method, from the shared tier, and returns the number of local entries
 * dropped. */
#ifndef LM_INVALIDATE_H
#define LM_INVALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "shim/store/store.h"

size_t lm_invalidate_key(uint32_t id, const void *key, uint32_t klen);
size_t lm_invalidate_key_hashed(uint32_t id, uint64_t hash, const void *key, uint32_t klen);
/* The shared tier cannot match a pattern without walking its keys: there
 * the whole method goes, which is never less than asked. */
size_t lm_invalidate_match(uint32_t id, lm_key_pred pred, void *arg);
size_t lm_invalidate_method(uint32_t id);
size_t lm_invalidate_all(void);

#endif

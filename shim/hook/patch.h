/* Writing into code and data that is not ours while other threads run. */
#ifndef LM_PATCH_H
#define LM_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Can N bytes at DST be replaced by one atomic store? */
bool lm_patch_atomic(uintptr_t dst, unsigned n);

/* Replace N (<= 16) bytes of code at DST by BYTES. Atomic when
 * lm_patch_atomic says so; otherwise only done while the process has a
 * single thread. The page's protection is restored. 0, or -1 with WHY. */
int lm_patch_code(uintptr_t dst, const unsigned char *bytes, unsigned n, char *why, size_t whylen);

/* Between these, a code page made writable stays so until a patch on
 * another page, a slot's patch or the end: one mprotect pair per page for
 * a batch of hooks installed together. */
void lm_patch_batch_begin(void);
void lm_patch_batch_end(void);

/* Store VALUE into the pointer-sized, aligned slot SLOT (a GOT entry, maybe
 * under RELRO) atomically; the page's protection is restored. 0 or -1. */
int lm_patch_slot(uintptr_t slot, uintptr_t value);

#endif

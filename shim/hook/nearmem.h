/* Executable memory for stubs and trampolines, in pages shared by many
 * hooks and placed within rel32 reach of the code that jumps to them. */
#ifndef LM_NEARMEM_H
#define LM_NEARMEM_H

#include <stddef.h>
#include <stdint.h>

/* SIZE writable bytes whose every address a rel32 from NEAR reaches
 * (NEAR == 0: anywhere). NULL when no such memory can be mapped. The
 * page stays writable, never executable, until lm_nearmem_seal. */
void *lm_nearmem_alloc(uintptr_t near, size_t size);

/* Give back the tail of the latest allocation P of SIZE bytes beyond USED. */
void lm_nearmem_trim(void *p, size_t size, size_t used);

/* Give back the block P of SIZE bytes (its code is never run again); a
 * sealed page whose every block came back is unmapped. */
void lm_nearmem_free(void *p, size_t size);

/* Make the page holding P read+exec (never writable again): no later
 * allocation comes from it, so code running there is never rewritten. */
int lm_nearmem_seal(void *p);

#endif

/* Reading a loaded object's dynamic section: one walk to DT_NULL that
 * picks out the entries its caller names. */
#ifndef LM_SYMTAB_DYNAMIC_H
#define LM_SYMTAB_DYNAMIC_H

#include <elf.h>
#include <stddef.h>

/* At most this many tags per walk (the found mask is one bit a tag). */
#define LM_DYN_MAX_TAGS 32

/* Walk the dynamic section DYN (NULL: none) to DT_NULL; VALS[i] gets the
 * d_val (or d_ptr, unrelocated as stored) of the last entry tagged
 * TAGS[i], 0 when there is none. Returns the mask of the tags found (bit
 * i for TAGS[i]). N is at most LM_DYN_MAX_TAGS. */
unsigned lm_dyn_read(const Elf64_Dyn *dyn, const Elf64_Sxword *tags, Elf64_Xword *vals, size_t n);

#endif

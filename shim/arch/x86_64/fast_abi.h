/* The numbers thunk_fast.S and fast.c share: the fast table's geometry and
 * slot layout, the slot hash's multiplier, the result kinds. Only #defines,
 * so the assembler can include it; fast.h checks the layout. */
#ifndef LM_FAST_ABI_H
#define LM_FAST_ABI_H

/* 1,024 sets of two 64-byte slots per thread (128 KiB): a working set of a
 * thousand keys stays in the table. */
#define LM_FAST_SET_BITS 10
#define LM_FAST_MUL      0xbf58476d1ce4e5b9

/* struct lm_fast_table: a header line, then the slots */
#define LM_FT_BUSY  0 /* set while a fast thunk looks up */
#define LM_FT_SLOTS 64

/* struct lm_fast_slot */
#define LM_FS_HEAD    0 /* the hook whose copy this is; 0: empty */
#define LM_FS_K0      8
#define LM_FS_K1      16
#define LM_FS_VALUE   24 /* rax, or xmm0's low 64 bits */
#define LM_FS_EPOCH   32
#define LM_FS_EXPIRES 40 /* ms on lm_clock_ms; -1: never */
#define LM_FS_ERR     48
#define LM_FS_HITS    56 /* the thread's hits counter of the method */
#define LM_FS_SIZE    64

/* enum lm_fast_ret */
#define LM_FAST_RET_VOID  0
#define LM_FAST_RET_INT   1
#define LM_FAST_RET_FLOAT 2

#endif

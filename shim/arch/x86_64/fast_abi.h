/* The numbers thunk_fast.S and fast.c share: the fast table's geometry and
 * slot layout, the slot hash's multiplier, the result kinds. Only #defines,
 * so the assembler can include it; fast.h checks the layout. */
#ifndef LM_FAST_ABI_H
#define LM_FAST_ABI_H

/* A thread's table starts with 1,024 sets of two 64-byte slots (128 KiB):
 * a working set of a thousand keys stays in it. A thread whose working set
 * cycles through more keys than that grows it 4x at a time (fast.c), up to
 * 65,536 sets (8 MiB): a hundred thousand hot keys fit, and only the
 * threads whose working set needs it pay the memory. A hit there misses
 * the L2 cache, and still costs less than the store's lookup (100,000 keys
 * of f: 26 ns a hit against 60 with a table a quarter the size, uthash
 * 40). A working set that outgrows even that sets the table aside
 * (fast.c). */
#define LM_FAST_SET_BITS     10
#define LM_FAST_MAX_SET_BITS 16
#define LM_FAST_GROW_BITS    2
#define LM_FAST_MUL          0xbf58476d1ce4e5b9
/* The longest string key the fast thunk hashes (the bytes a slot keeps
 * beside it); a longer one goes to lm_thunk. */
#define LM_FAST_STR_MAX 64

/* struct lm_fast_table: a header line, then the slots. The thunk takes
 * set numbers from a fixed LM_FAST_MAX_SET_BITS of the hash and ANDs them
 * with the table's masks, so a table of any size needs no other register. */
#define LM_FT_BUSY  0  /* set while a fast thunk looks up */
#define LM_FT_MASK0 8  /* the first set's number: sets - 1 */
#define LM_FT_MASK1 16 /* the second's, scaled to a set's bytes: (sets - 1) << 7 */
#define LM_FT_BLOB  32 /* out bytes of the slot at S: S + this; 0: none yet */
#define LM_FT_SLOTS 64

/* clock.h's LM_CLOCK_TORN_MS */
#define LM_FAST_TORN_MS 1000

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

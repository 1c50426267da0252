/* /proc/self reading without malloc: the shim may run before the host's
 * allocator is usable, or while it is locked. */
#ifndef LM_PROCMAPS_H
#define LM_PROCMAPS_H

#include <stdint.h>

/* Calls CB for each mapping of /proc/self/maps in address order until it
 * returns nonzero; returns that value, 0 at the end, -1 if unreadable.
 * PROT is PROT_READ|PROT_WRITE|PROT_EXEC as listed. */
int lm_maps_foreach(int (*cb)(uintptr_t start, uintptr_t end, int prot, void *arg), void *arg);

/* The protection of the mapping holding ADDR, or -1. */
int lm_maps_prot(uintptr_t addr);
/* Between lm_maps_hold and lm_maps_release, lm_maps_prot answers from one
 * reading of /proc/self/maps (made at the first question) instead of one
 * reading per question: the holder restores each protection it changes
 * before it asks again, and an address outside that reading (a mapping
 * made since) is read live. */
void lm_maps_hold(void);
void lm_maps_release(void);
/* lm_maps_foreach over the held reading while one is held (mappings made
 * since are missing from it), live otherwise. */
int lm_maps_foreach_held(int (*cb)(uintptr_t start, uintptr_t end, int prot, void *arg), void *arg);

/* Threads in this process (the Threads: line of /proc/self/status), or -1.
 * While the maps are held, a count of 1 is read once and kept until the
 * release: the holder starts no thread, and no other thread exists. */
int lm_thread_count(void);

#endif

/* Finding and hooking methods (resolve.c). */
#ifndef LM_RESOLVE_H
#define LM_RESOLVE_H

#include <pthread.h>
#include <stdbool.h>

/* Held while hooks are found, installed or released. */
extern pthread_mutex_t lm_resolve_lock;

/* Find and hook every method not hooked yet in the objects loaded now.
 * Called at start-up and after each dlopen. Returns the number of
 * start-up problems (for LDMEMO_STRICT). */
int lm_resolve_all(bool at_startup);

#endif

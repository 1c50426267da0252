/* Methods whose library was closed (unload.c). */
#ifndef LM_UNLOAD_H
#define LM_UNLOAD_H

/* After a dlclose that unloaded objects: each hooked method whose
 * definition went with them becomes LM_HS_UNLOADED, its hook released,
 * its entries dropped, its adaptive state forgotten; the next dlopen that
 * brings it back hooks it again (lm_resolve_all). Call with the shim's
 * guard held. */
void lm_unload_forget_closed(void);

#endif

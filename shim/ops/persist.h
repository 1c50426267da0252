/* `persist = PATH` (spec 3.1): the local cache kept across runs, like
 * nscd's persistent databases. Methods whose plan is local-only (ptr
 * parameters or results) are never written.
 *
 * Only the process that loaded the file writes it back: a forked child
 * (whose copy of the cache is the parent's) leaves it alone at its exit.
 * A process that hooked no persistable method (a shell started with the
 * preload on its way to the real program) does not write either, so that
 * it cannot replace the program's file with an empty one. */
#ifndef LM_PERSIST_H
#define LM_PERSIST_H

struct lm_runtime;

/* At start-up, after the store exists and before hooks are installed:
 * load the file into the store. A missing file is not an error; a file of
 * another program, namespace or format version is ignored with a warning,
 * as are the entries of a method whose signature changed. */
void lm_persist_load(struct lm_runtime *rt);

/* At normal exit: write every live entry atomically (a temporary file in
 * the same directory, fsync, rename; mode 0600). */
void lm_persist_save(struct lm_runtime *rt);

#endif

/* Profile mode (spec section 10): instead of caching, count. Every function
 * that the program and its libraries import through their PLT/GOT gets a
 * counting hook: calls, inclusive TSC time, a sketch of its distinct keys,
 * sampled impurity (same key, different result), pointer results repeating
 * across keys (a static buffer) or pointing near an argument (caller's
 * memory), and results failing the known `when`. At exit each process
 * writes one record file for `ldmemo profile` to rank. */
#ifndef LM_PROFILE_H
#define LM_PROFILE_H

/* The environment profile mode reads: the directory the record files go
 * to (<pid>.prof), and the configs of known prototypes (optional; paths
 * separated by ':', the first that names a function wins). */
#define LM_ENV_PROFILE        "LDMEMO_PROFILE"
#define LM_ENV_PROFILE_PROTOS "LDMEMO_PROFILE_PROTOS"
/* --functions: shell patterns, one a line, of functions to count too
 * (the program's own, static ones included), hooked by detour. */
#define LM_ENV_PROFILE_FUNCTIONS "LDMEMO_PROFILE_FUNCTIONS"

/* Record file format: a first line LM_PROFILE_MAGIC, a line "run WALL_NS",
 * then one line per function called at least once:
 * fn NAME STOPPED OBJECT KNOWN CALLS NS MEDIAN_NS FAILS IMPURE CHECKED STATIC CALLERPTR
 * SKETCH
 * tab-separated; STOPPED 1 when counting stopped early (too cheap to
 * cache: the counts are those before); KNOWN 1 when the prototype came
 * from the protos config; MEDIAN_NS the median call (a process's: the
 * command keeps the largest); SKETCH the registers in hex. */
#define LM_PROFILE_MAGIC "ldmemo-profile 2"

/* Hook the imports (and the FUNCTIONS patterns' matches, NULL: none) and
 * arrange the record file at exit. DIR is the directory; PROTOS the known
 * prototypes' config path, or NULL. */
void lm_profile_start(const char *dir, const char *protos, const char *functions);
/* After a dlopen: count the imports that the new objects bring, and those
 * of the names counted already in their GOT slots. Nothing outside profile
 * mode. */
void lm_profile_after_load(void);

#endif

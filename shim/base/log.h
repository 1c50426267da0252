/* Messages on stderr, each line "ldmemo[PID]: ...", filtered by
 * LDMEMO_LOG. Formats into a stack buffer and writes with write(2): no
 * allocation, usable before and during start-up, never changes errno. */
#ifndef LM_LOG_H
#define LM_LOG_H

enum lm_log_level { LM_LOG_QUIET, LM_LOG_ERROR, LM_LOG_WARN, LM_LOG_INFO, LM_LOG_DEBUG };

extern enum lm_log_level lm_log_level;

/* "quiet".."debug"; -1 for anything else. */
int lm_log_parse_level(const char *s);

/* The fd messages go to: a duplicate of fd 2 taken at start-up, so that a
 * program closing its stderr does not silence (or redirect) ldmemo. */
void lm_log_set_fd(int fd);
int lm_log_fd(void);

void lm_log(enum lm_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define lm_error(...) lm_log(LM_LOG_ERROR, __VA_ARGS__)
#define lm_warn(...)  lm_log(LM_LOG_WARN, __VA_ARGS__)
#define lm_info(...)  lm_log(LM_LOG_INFO, __VA_ARGS__)
#define lm_debug(...) lm_log(LM_LOG_DEBUG, __VA_ARGS__)

/* Write a block (possibly many lines) as is, each line prefixed. */
void lm_log_block(enum lm_log_level lvl, const char *text);

#endif

/* The control socket of a live process (spec section 8): one background
 * thread answering `ldmemo ctl` on $XDG_RUNTIME_DIR/ldmemo/PID.sock (else
 * /tmp/ldmemo-UID/PID.sock). The protocol is described in control.c. */
#ifndef LM_CONTROL_H
#define LM_CONTROL_H

#include <stddef.h>
#include <stdint.h>

struct lm_runtime;

/* Read LDMEMO_CONTROL (wins over [global] control) and, when on, open the
 * socket and start its thread; a forked child gets its own. Reports
 * problems and goes on without a socket. Call once, lm_rt set. */
void lm_control_setup(const struct lm_runtime *rt);

/* control_request.c: answer one request LINE (without its newline) by
 * writing the whole reply to OUT. */
void lm_control_answer(const char *line, int out);

/* control_keys.c: the `keys` reply for method ID: "ok", one line per live
 * entry (at most LIMIT; 0: all), then "N entries, M shown". */
void lm_control_keys(int out, uint32_t id, size_t limit);

#endif

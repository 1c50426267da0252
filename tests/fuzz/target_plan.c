#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "shim/plan/plan.h"
#include "targets.h"

/* top -> mid -> leaf, by value and by pointer: the deepest copy the value
 * decoder rebuilds. */
static const char conf[] = "[type leaf]\nfields = str s, strv v, i16 n\n"
                           "[type mid]\nfields = leaf l, leaf* lp, bytes(5) b, ptr raw\n"
                           "[type top]\nfields = mid m, mid* mp, str name, f64 d, u8 flag\n"
                           "[type point]\nfields = i32 x, i32 y\n"
                           "[cache deep]\nsignature = static top* deep(i64 id)\n"
                           "[cache get]\nsignature = int get(i64 id, out(64) o)\n"
                           "[cache name]\nsignature = str name(i64 id)\n"
                           "[cache sname]\nsignature = static str sname(i64 id)\n"
                           "[cache blk]\nsignature = buf(16) blk(i64 id)\n"
                           "[cache sblk]\nsignature = static buf(n) sblk(size_t n)\n"
                           "[cache rd]\nsignature = long rd(int fd, out(n) buf, size_t n)\n"
                           "[cache cnt]\nsignature = long cnt(out(ret) buf, size_t n)\n"
                           "[cache pt]\nsignature = int pt(i64 id, out(point) p)\n"
                           "[cache cwd]\nsignature = ptr(o) cwd(out(32) o, size_t n)\n"
                           "[cache hyp]\nsignature = double hyp(double a, double b)\n";

static struct lm_config cfg;
static struct lm_plan **plans;
static size_t nplans;

static void setup(void)
{
	if (lm_fuzz_parse(conf, sizeof conf - 1, &cfg) != 0)
		return;
	plans = calloc(cfg.nmethods, sizeof *plans);
	for (size_t i = 0; plans && i < cfg.nmethods; i++) {
		char why[256];
		plans[i] = lm_plan_compile(&cfg, &cfg.methods[i], (uint32_t)i, why, sizeof why);
	}
	nplans = plans ? cfg.nmethods : 0;
}

int lm_fuzz_plan(const uint8_t *data, size_t size)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, setup);
	if (size < 1 || nplans == 0)
		return 0;
	size_t i = data[0] % nplans;
	const struct lm_plan *p = plans[i];
	if (!p)
		return 0;
	const uint8_t *blob = data + 1;
	size_t len = size - 1;

	/* Caller buffers as large as the signatures promise, no larger. */
	unsigned char out[64];
	struct lm_frame f = {0};
	const struct lm_method *m = &cfg.methods[i];
	for (size_t k = 0; k < m->sig.nparams && k < 6; k++) {
		const struct lm_param *pa = &m->sig.params[k];
		f.gpr[k] = pa->kind == LM_K_OUT ? (uint64_t)(uintptr_t)out : 16;
	}
	int err = 0, bad = 0;
	int rc = lm_plan_replay(p, blob, len, &f, &err);
	if (rc == 0 && (m->sig.ret.how == LM_RET_STR || m->sig.ret.how == LM_RET_BUF))
		free((void *)(uintptr_t)f.ret_rax);
	/* A value the decoder accepts is the same as itself. */
	if (!lm_plan_same_value(p, blob, len, blob, len) && rc == 0)
		bad = 1;
	char text[512];
	memset(text, 'x', sizeof text);
	lm_plan_key_describe(p, blob, len, text, sizeof text);
	if (!memchr(text, 0, sizeof text))
		bad = 1; /* the description is always terminated */
	return bad ? -1 : 0;
}

/* The public C API (include/ldmemo.h), for programs that know ldmemo. */
#include "include/ldmemo.h"
#include "shim/base/guard.h"
#include "shim/call/invalidate.h"
#include "shim/call/runtime.h"
#include "stats_dump.h"

LDMEMO_API int ldmemo_invalidate_method(const char *method)
{
	if (!lm_rt || !method)
		return -1;
	LM_KEEP_ERRNO();
	int id = lm_config_find_method(&lm_rt->cfg, method);
	int n = -1;
	if (id >= 0 && !lm_rt->cfg.methods[id].invalidator) {
		lm_guard_enter();
		n = (int)lm_invalidate_method((uint32_t)id);
		lm_guard_leave();
	}
	return n;
}

LDMEMO_API int ldmemo_invalidate_all(void)
{
	if (!lm_rt)
		return -1;
	LM_KEEP_ERRNO();
	lm_guard_enter();
	int n = (int)lm_invalidate_all();
	lm_guard_leave();
	return n;
}

LDMEMO_API int ldmemo_stats_dump(int fd, const char *format)
{
	enum lm_stats_format f = LM_FMT_TEXT;
	if (!lm_rt || fd < 0 || (format && lm_parse_stats_format(format, &f) != 0))
		return -1;
	LM_KEEP_ERRNO();
	lm_guard_enter();
	int rc = lm_stats_write(fd, f);
	lm_guard_leave();
	return rc;
}

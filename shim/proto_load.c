/* Strict mode's prototype check: the plugin beside this library
 * (libldmemo-proto.so) is loaded on the first question, never by a
 * default start-up, which thus maps no libdw. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "shim/base/log.h"
#include "shim/proto/plugin.h"
#include "proto_load.h"

static lm_proto_check_fn check_fn;
static bool tried;

static lm_proto_check_fn load(void)
{
	Dl_info self;
	char path[PATH_MAX];
	tried = true;
	if (!dladdr((void *)lm_proto_agrees, &self) || !self.dli_fname)
		return NULL;
	const char *slash = strrchr(self.dli_fname, '/');
	int dir = slash ? (int)(slash - self.dli_fname) : 1;
	snprintf(path, sizeof path, "%.*s/%s", dir, slash ? self.dli_fname : ".", LM_PROTO_PLUGIN);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		lm_warn("LDMEMO_STRICT=1: %s: signatures are not compared with debug information",
		        dlerror());
		return NULL;
	}
	return (lm_proto_check_fn)dlsym(h, LM_PROTO_ENTRY);
}

bool lm_proto_agrees(const char *file, const struct lm_method *m, const char *object)
{
	char msg[4096];
	if (!tried)
		check_fn = load();
	if (!check_fn || !check_fn(file, m, object, msg, sizeof msg))
		return true;
	lm_error("%s:%d: %s: the signature disagrees with the prototype in the debug "
	         "information of %s:",
	         file, m->pos.line, m->name, object);
	lm_log_block(LM_LOG_ERROR, msg);
	return false;
}

/* `ldmemo ctl host NAMESPACE (stats [-f text|json] | invalidate METHOD |
 * invalidate --all)`: the host tier's mapping of this user and NAMESPACE,
 * read and changed directly, with no live process needed (spec 11). The
 * mapping is opened with the shim's checks and never created or replaced.
 *
 * Exit status: 0 done; 2 no such mapping, refused, or a usage error. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "shim/host/host.h"

#define HOST_USAGE                                                \
	"usage: ldmemo ctl host NAMESPACE stats [-f text|json]\n" \
	"       ldmemo ctl host NAMESPACE invalidate METHOD\n"    \
	"       ldmemo ctl host NAMESPACE invalidate --all"

static int usage(const char *why)
{
	return lm_cli_usage_error("ctl host: %s\n" HOST_USAGE, why);
}

static void print_stats(const char *path, const struct lm_host_stats *s, bool json)
{
	if (json)
		printf("{\"path\":\"%s\",\"size\":%llu,\"slots\":%llu,\"slot_bytes\":%llu,"
		       "\"entries\":%llu,\"evictions\":%llu,\"stores\":%llu}\n",
		       path, (unsigned long long)s->size, (unsigned long long)s->slots,
		       (unsigned long long)s->slot_bytes, (unsigned long long)s->entries,
		       (unsigned long long)s->evictions, (unsigned long long)s->stores);
	else
		printf("%s: %llu bytes, %llu slots of up to %llu bytes of key and value\n"
		       "%llu entries now; %llu stored and %llu evicted since it was made\n",
		       path, (unsigned long long)s->size, (unsigned long long)s->slots,
		       (unsigned long long)s->slot_bytes, (unsigned long long)s->entries,
		       (unsigned long long)s->stores, (unsigned long long)s->evictions);
}

int lm_cmd_ctl_host(int argc, char **argv)
{
	if (argc == 2 && lm_cli_help(argc, argv, HOST_USAGE))
		return 0;
	if (argc < 3)
		return usage("missing NAMESPACE or request");
	const char *ns = argv[1], *req = argv[2];
	bool json = false;
	const char *method = NULL;
	if (strcmp(req, "stats") == 0) {
		if (argc == 5 && strcmp(argv[3], "-f") == 0 &&
		    (strcmp(argv[4], "json") == 0 || strcmp(argv[4], "text") == 0))
			json = strcmp(argv[4], "json") == 0;
		else if (argc != 3)
			return usage("stats takes only -f text or -f json");
	} else if (strcmp(req, "invalidate") == 0) {
		if (argc != 4)
			return usage("invalidate needs METHOD or --all (the host tier drops "
			             "whole methods)");
		method = strcmp(argv[3], "--all") == 0 ? NULL : argv[3];
		if (method && method[0] == '-')
			return usage("bad METHOD");
	} else {
		return usage("the request is stats or invalidate");
	}
	char path[512], why[768];
	struct lm_host *h = lm_host_attach(NULL, ns, path, sizeof path, why, sizeof why);
	if (!h) {
		fprintf(stderr, "ldmemo: host tier: %s\n", why);
		return LM_EXIT_USAGE;
	}
	if (strcmp(req, "stats") == 0) {
		struct lm_host_stats s;
		lm_host_stats(h, &s);
		print_stats(path, &s, json);
	} else if (method) {
		struct lm_host_method hm;
		lm_host_method_init(&hm, method, 0);
		lm_host_drop_method(h, &hm);
		printf("%s: dropped from the host tier\n", method);
	} else {
		lm_host_drop_all(h);
		printf("every method dropped from the host tier\n");
	}
	lm_host_close(h);
	return fflush(stdout) == 0 ? 0 : 1;
}

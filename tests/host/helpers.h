/* What the host-tier suites share: a private directory for mappings, string
 * round trips through an lm_host, and the fixture programs' paths. */
#ifndef HT_HELPERS_H
#define HT_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim/host/host.h"

/* A fresh directory under /tmp for mappings; removed by ht_dir_free. */
const char *ht_dir_new(void);
void ht_dir_free(void);
/* The path of namespace NS's mapping in the directory. */
const char *ht_map_path(const char *ns);

/* Open NS in the directory with SIZE bytes; asserts it opens. */
struct lm_host *ht_open(const char *ns, uint64_t size);

/* GET: 1 and the value in BUF on a hit. SET: the fill of a lookup made
 * just now (a fresh ticket). */
int ht_get(struct lm_host *h, const struct lm_host_method *m, const char *key, char *buf,
           size_t len);
int ht_set(struct lm_host *h, const struct lm_host_method *m, const char *key, const char *val,
           int64_t ttl_ms);
uint64_t ht_hash(const char *key);

/* Processes under the shim: the config TEXT written (0644) into the
 * directory; a process started with it (stdout and stderr appended to OUT,
 * statistics as json on stderr), as user UID when UID >= 0 (root only);
 * its wait, at most TIMEOUT_S seconds (then killed: -1). */
#include <sys/types.h>
const char *ht_conf(const char *text);
pid_t ht_spawn(const char *conf, const char *const *argv, const char *out, int uid);
int ht_wait(pid_t pid, int timeout_s);
/* The whole of file PATH, malloc'd. */
char *ht_slurp(const char *path);
/* Remove the mapping of NS in the shim's own place (/dev/shm) for UID. */
void ht_unlink_map(const char *ns, unsigned uid);

/* build/tests/host/NAME */
const char *ht_path(const char *name);

#endif

/* Single values (spec 3.2) and the [global] keys that use them. */
#include <signal.h>

#include "helpers.h"
#include "config/defaults.h"

Test(values, durations_in_every_unit)
{
	int64_t ms;
	cr_assert_eq(lm_parse_duration("never", &ms), 0);
	cr_expect_eq(ms, LM_DUR_NEVER);
	cr_assert_eq(lm_parse_duration("250ms", &ms), 0);
	cr_expect_eq(ms, 250);
	cr_assert_eq(lm_parse_duration("3s", &ms), 0);
	cr_expect_eq(ms, 3000);
	cr_assert_eq(lm_parse_duration("7", &ms), 0);
	cr_expect_eq(ms, 7000);
	cr_assert_eq(lm_parse_duration("2m", &ms), 0);
	cr_expect_eq(ms, 120000);
	cr_assert_eq(lm_parse_duration("1h", &ms), 0);
	cr_expect_eq(ms, 3600000);
	cr_assert_eq(lm_parse_duration("2d", &ms), 0);
	cr_expect_eq(ms, 2 * 86400000LL);
	cr_assert_eq(lm_parse_duration("0", &ms), 0);
	cr_expect_eq(ms, 0);
}

Test(values, malformed_and_overflowing_durations_are_rejected)
{
	int64_t ms = 42;
	cr_expect_eq(lm_parse_duration("", &ms), -1);
	cr_expect_eq(lm_parse_duration("5x", &ms), -1);
	cr_expect_eq(lm_parse_duration("-5s", &ms), -1);
	cr_expect_eq(lm_parse_duration("1.5s", &ms), -1);
	cr_expect_eq(lm_parse_duration("s", &ms), -1);
	cr_expect_eq(lm_parse_duration("5 s", &ms), -1);
	cr_expect_eq(lm_parse_duration("99999999999999999d", &ms), -1);
	cr_expect_eq(lm_parse_duration("99999999999999999999999", &ms), -1);
	cr_expect_eq(ms, 42);
}

Test(values, sizes_are_powers_of_1024)
{
	uint64_t b;
	cr_assert_eq(lm_parse_size("100", &b), 0);
	cr_expect_eq(b, 100);
	cr_assert_eq(lm_parse_size("100B", &b), 0);
	cr_expect_eq(b, 100);
	cr_assert_eq(lm_parse_size("2KiB", &b), 0);
	cr_expect_eq(b, 2048);
	cr_assert_eq(lm_parse_size("2K", &b), 0);
	cr_expect_eq(b, 2048);
	cr_assert_eq(lm_parse_size("256MiB", &b), 0);
	cr_expect_eq(b, 256ULL << 20);
	cr_assert_eq(lm_parse_size("3M", &b), 0);
	cr_expect_eq(b, 3ULL << 20);
	cr_assert_eq(lm_parse_size("1GiB", &b), 0);
	cr_expect_eq(b, 1ULL << 30);
	cr_assert_eq(lm_parse_size("1G", &b), 0);
	cr_expect_eq(b, 1ULL << 30);
	cr_expect_eq(lm_parse_size("1KB", &b), -1);
	cr_expect_eq(lm_parse_size("MiB", &b), -1);
	cr_expect_eq(lm_parse_size("17179869184GiB", &b), -1);
}

Test(values, booleans)
{
	const char *yes[] = {"on", "yes", "true", "1"}, *no[] = {"off", "no", "false", "0"};
	bool b;
	for (int i = 0; i < 4; i++) {
		b = false;
		cr_assert_eq(lm_parse_bool(yes[i], &b), 0);
		cr_expect(b);
		cr_assert_eq(lm_parse_bool(no[i], &b), 0);
		cr_expect_not(b);
	}
	cr_expect_eq(lm_parse_bool("maybe", &b), -1);
	cr_expect_eq(lm_parse_bool("", &b), -1);
}

Test(values, stats_format_and_signal)
{
	enum lm_stats_format f;
	int s;
	cr_assert_eq(lm_parse_stats_format("json", &f), 0);
	cr_expect_eq(f, LM_FMT_JSON);
	cr_assert_eq(lm_parse_stats_format("prom", &f), 0);
	cr_expect_eq(f, LM_FMT_PROM);
	cr_assert_eq(lm_parse_stats_format("text", &f), 0);
	cr_expect_eq(f, LM_FMT_TEXT);
	cr_expect_eq(lm_parse_stats_format("xml", &f), -1);
	cr_assert_eq(lm_parse_signal("USR2", &s), 0);
	cr_expect_eq(s, SIGUSR2);
	cr_assert_eq(lm_parse_signal("SIGUSR1", &s), 0);
	cr_expect_eq(s, SIGUSR1);
	cr_assert_eq(lm_parse_signal("12", &s), 0);
	cr_expect_eq(s, 12);
	cr_expect_eq(lm_parse_signal("SIGFOO", &s), -1);
	cr_expect_eq(lm_parse_signal("0", &s), -1);
	cr_expect_eq(lm_parse_signal("KILL", &s), -1);
	cr_expect_eq(lm_parse_signal("12x", &s), -1);
}

Test(backend, local_redis_unix_memcached)
{
	struct lm_backend b;
	cr_assert_eq(lm_parse_backend("local", &b), 0);
	cr_expect_eq(b.kind, LM_BACKEND_LOCAL);
	lm_backend_free(&b);

	cr_assert_eq(lm_parse_backend("redis://:s3cret@cache.example:6380/3", &b), 0);
	cr_expect_eq(b.kind, LM_BACKEND_REDIS);
	cr_expect_str_eq(b.password, "s3cret");
	cr_assert_eq(b.nhosts, 1);
	cr_expect_str_eq(b.hosts[0].host, "cache.example");
	cr_expect_eq(b.hosts[0].port, 6380);
	cr_expect_eq(b.db, 3);
	cr_expect_str_eq(b.url, "redis://:s3cret@cache.example:6380/3");
	lm_backend_free(&b);

	cr_assert_eq(lm_parse_backend("redis://localhost", &b), 0);
	cr_expect_eq(b.hosts[0].port, LM_DEFAULT_REDIS_PORT);
	cr_expect_null(b.password);
	cr_expect_eq(b.db, 0);
	lm_backend_free(&b);

	cr_assert_eq(lm_parse_backend("unix:/run/redis.sock", &b), 0);
	cr_expect_eq(b.kind, LM_BACKEND_REDIS);
	cr_expect_str_eq(b.unix_path, "/run/redis.sock");
	lm_backend_free(&b);

	cr_assert_eq(lm_parse_backend("memcached://a:1,b,[::1]:3", &b), 0);
	cr_expect_eq(b.kind, LM_BACKEND_MEMCACHED);
	cr_assert_eq(b.nhosts, 3);
	cr_expect_str_eq(b.hosts[0].host, "a");
	cr_expect_eq(b.hosts[0].port, 1);
	cr_expect_str_eq(b.hosts[1].host, "b");
	cr_expect_eq(b.hosts[1].port, LM_DEFAULT_MEMCACHED_PORT);
	cr_expect_str_eq(b.hosts[2].host, "::1");
	cr_expect_eq(b.hosts[2].port, 3);
	lm_backend_free(&b);
}

Test(backend, malformed_urls_are_rejected)
{
	const char *bad[] = {"",
	                     "redis://",
	                     "redis://host:0",
	                     "redis://host:65536",
	                     "redis://host:x",
	                     "redis://host/x",
	                     "redis://pw@host",
	                     "unix:",
	                     "memcached://",
	                     "memcached://a,,b",
	                     "http://x",
	                     "locally"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lm_backend b;
		cr_expect_eq(lm_parse_backend(bad[i], &b), -1, "accepted '%s'", bad[i]);
		cr_expect_null(b.url);
	}
}

Test(global, defaults_without_a_global_section)
{
	struct parsed p;
	expect_clean(&p, "");
	cr_expect_eq(p.cfg.global.ttl_ms, LM_DEFAULT_TTL_MS);
	cr_expect_eq(p.cfg.global.max_entries, LM_DEFAULT_MAX_ENTRIES);
	cr_expect_eq(p.cfg.global.max_memory, LM_DEFAULT_MAX_MEMORY);
	cr_expect_eq(p.cfg.global.l1_ttl_ms, LM_DEFAULT_L1_TTL_MS);
	cr_expect_eq(p.cfg.global.redis_timeout_ms, LM_DEFAULT_REDIS_TIMEOUT_MS);
	cr_expect_eq(p.cfg.global.backend.kind, LM_BACKEND_LOCAL);
	cr_expect_eq(p.cfg.global.hook, LM_HOOK_AUTO);
	cr_expect(p.cfg.global.coalesce);
	cr_expect_not(p.cfg.global.control);
	cr_expect_null(p.cfg.global.programs);
	cr_expect_null(p.cfg.global.namespace_);
	cr_expect_null(p.cfg.global.persist);
	cr_expect_null(p.cfg.global.stats);
	cr_expect_eq(p.cfg.global.stats_signal, 0);
	cr_expect_not(p.cfg.global.stats_format_set);
	cr_expect(lm_programs_match(&p.cfg.global, "anything"));
	parsed_free(&p);
}

Test(global, every_key)
{
	struct parsed p;
	expect_clean(&p, "[global]\n"
	                 "ttl = never\n"
	                 "max_entries = 5000\n"
	                 "max_memory = 64M\n"
	                 "backend = redis://10.0.0.1:7000/1\n"
	                 "namespace = users\n"
	                 "l1_ttl = 200ms\n"
	                 "redis_timeout = 2s\n"
	                 "programs = app, app-*,  tool\n"
	                 "hook = got\n"
	                 "coalesce = off\n"
	                 "persist = /var/cache/app.ldmemo\n"
	                 "control = yes\n"
	                 "stats = /tmp/stats.%p\n"
	                 "stats_format = json\n"
	                 "stats_signal = SIGUSR2\n");
	const struct lm_global *g = &p.cfg.global;
	cr_expect_eq(g->ttl_ms, LM_DUR_NEVER);
	cr_expect_eq(g->max_entries, 5000);
	cr_expect_eq(g->max_memory, 64ULL << 20);
	cr_expect_eq(g->backend.kind, LM_BACKEND_REDIS);
	cr_expect_str_eq(g->backend.hosts[0].host, "10.0.0.1");
	cr_expect_eq(g->backend.db, 1);
	cr_expect_str_eq(g->namespace_, "users");
	cr_expect_eq(g->l1_ttl_ms, 200);
	cr_expect_eq(g->redis_timeout_ms, 2000);
	cr_assert_eq(g->nprograms, 3);
	cr_expect_str_eq(g->programs[2], "tool");
	cr_expect_null(g->programs[3]);
	cr_expect_eq(g->hook, LM_HOOK_GOT);
	cr_expect_not(g->coalesce);
	cr_expect_str_eq(g->persist, "/var/cache/app.ldmemo");
	cr_expect(g->control);
	cr_expect_str_eq(g->stats, "/tmp/stats.%p");
	cr_expect_eq(g->stats_format, LM_FMT_JSON);
	cr_expect(g->stats_format_set);
	cr_expect_eq(g->stats_signal, SIGUSR2);
	cr_expect_eq(g->pos.line, 1);
	cr_expect(lm_programs_match(g, "app"));
	cr_expect(lm_programs_match(g, "app-worker"));
	cr_expect(lm_programs_match(g, "tool"));
	cr_expect_not(lm_programs_match(g, "apps"));
	cr_expect_not(lm_programs_match(g, "bash"));
	parsed_free(&p);
}

Test(global, bad_values_are_reported_at_the_value)
{
	expect_error("[global]\nttl = 5x\n", 2, 7,
	             "invalid duration '5x' (use never, or a number with ms, s, m, h or d)");
	expect_error("[global]\nmax_memory   = 12 MiB\n", 2, 16,
	             "invalid size '12 MiB' (use a number with B, KiB, MiB or GiB)");
	expect_error("[global]\nmax_entries = lots\n", 2, 15,
	             "invalid number 'lots' (expected a non-negative integer)");
	expect_error("[global]\ncoalesce = maybe\n", 2, 12,
	             "invalid boolean 'maybe' (use on/off, yes/no, true/false or 1/0)");
	expect_error("[global]\nhook = plt\n", 2, 8,
	             "invalid hook 'plt' (use auto, detour or got)");
	expect_error("[global]\nstats_format = xml\n", 2, 16,
	             "invalid stats_format 'xml' (use text, json or prom)");
	expect_error("[global]\nstats_signal = SIGFOO\n", 2, 16,
	             "invalid signal 'SIGFOO' (use a name like USR2 or SIGUSR2, or a number)");
	expect_error(
	    "[global]\nbackend = redis://h:99999\n", 2, 11,
	    "invalid backend 'redis://h:99999' (use local, redis://[:PASSWORD@]HOST[:PORT][/DB], "
	    "unix:PATH or memcached://HOST[:PORT],...)");
	expect_error("[global]\nprograms = app, , x\n", 2, 17, "empty program name in 'programs'");
	expect_error("[global]\nprograms = /usr/bin/app\n", 2, 12,
	             "'/usr/bin/app' is not a base-name glob");
	expect_error("[global]\nnamespace = my users\n", 2, 15,
	             "blank inside namespace 'my users'");
	expect_error("[global]\nl1_ttl = -1s\n", 2, 10,
	             "invalid duration '-1s' (use never, or a number with ms, s, m, h or d)");
}

Test(global, shared_host_and_its_size)
{
	struct parsed p;
	expect_clean(&p, "");
	cr_expect_not(p.cfg.global.shared_host);
	cr_expect_eq(p.cfg.global.shared_memory, LM_DEFAULT_SHARED_MEMORY);
	parsed_free(&p);
	expect_clean(&p, "[global]\nshared = host\nshared_memory = 8MiB\n");
	cr_expect(p.cfg.global.shared_host);
	cr_expect_eq(p.cfg.global.shared_memory, 8ULL << 20);
	parsed_free(&p);
	expect_clean(&p, "[global]\nshared = off\n");
	cr_expect_not(p.cfg.global.shared_host);
	parsed_free(&p);
}

Test(global, bad_shared_values_name_their_line)
{
	expect_error("[global]\nshared = yes\n", 2, 10, "invalid shared 'yes' (use off or host)");
	expect_error("[global]\nshared = host\nshared_memory = lots\n", 3, 17,
	             "invalid size 'lots' (use a number with B, KiB, MiB or GiB)");
	expect_error("[global]\nshared = host\nshared_memory = 4KiB\n", 3, 17,
	             "shared_memory must be between 1MiB and 64GiB, not '4KiB'");
	struct parsed p;
	parse_text(&p, "[global]\nshared_memory = 8MiB\n");
	cr_assert_eq(p.d.n, 1);
	cr_expect(p.d.v[0].warning);
	cr_expect_eq(p.d.v[0].pos.line, 2);
	cr_expect_str_eq(p.d.v[0].msg, "shared_memory has no effect without 'shared = host'");
	parsed_free(&p);
}

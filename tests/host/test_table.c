/* The host tier's table on its own: round trips, drops, tickets, bounds,
 * eviction, abandoned writers and damaged slots. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"
#include "shim/base/clock.h"
#include "shim/host/host_layout.h"
#include "tests/common/clock_words.h"

#define MIB (1ULL << 20)

static void setup(void)
{
	ht_dir_new();
}

static void teardown(void)
{
	ht_dir_free();
}

TestSuite(host_table, .init = setup, .fini = teardown);

Test(host_table, a_value_stored_by_one_handle_is_read_by_another)
{
	struct lm_host *a = ht_open("t", MIB), *b = ht_open("t", MIB);
	struct lm_host_method m;
	lm_host_method_init(&m, "getpwnam", 42);
	char buf[256];
	cr_expect_eq(ht_get(b, &m, "alice", buf, sizeof buf), 0);
	cr_assert_eq(ht_set(a, &m, "alice", "1000:1000", 60000), 1);
	cr_assert_eq(ht_get(b, &m, "alice", buf, sizeof buf), 1);
	cr_expect_str_eq(buf, "1000:1000");
	/* another signature of the same name, or another name: a miss */
	struct lm_host_method other_fp, other_name;
	lm_host_method_init(&other_fp, "getpwnam", 43);
	lm_host_method_init(&other_name, "getpwuid", 42);
	cr_expect_eq(ht_get(b, &other_fp, "alice", buf, sizeof buf), 0);
	cr_expect_eq(ht_get(b, &other_name, "alice", buf, sizeof buf), 0);
	lm_host_close(a);
	lm_host_close(b);
}

Test(host_table, key_and_method_drops_reach_every_handle)
{
	struct lm_host *a = ht_open("t", MIB), *b = ht_open("t", MIB);
	struct lm_host_method m;
	lm_host_method_init(&m, "f", 1);
	char buf[64];
	cr_assert_eq(ht_set(a, &m, "k1", "v1", 60000), 1);
	cr_assert_eq(ht_set(a, &m, "k2", "v2", 60000), 1);
	uint64_t l1 = lm_host_l1gen_now(b, &m);
	cr_expect_eq(lm_host_drop_key(b, &m, ht_hash("k1"), "k1", 2), 1);
	cr_expect_neq(lm_host_l1gen_now(a, &m), l1, "L1 copies are told");
	cr_expect_eq(ht_get(a, &m, "k1", buf, sizeof buf), 0);
	cr_expect_eq(ht_get(a, &m, "k2", buf, sizeof buf), 1);
	lm_host_drop_method(b, &m);
	cr_expect_eq(ht_get(a, &m, "k2", buf, sizeof buf), 0);
	cr_assert_eq(ht_set(a, &m, "k2", "v2b", 60000), 1);
	cr_expect_eq(ht_get(b, &m, "k2", buf, sizeof buf), 1);
	lm_host_drop_all(a);
	cr_expect_eq(ht_get(b, &m, "k2", buf, sizeof buf), 0);
	lm_host_close(a);
	lm_host_close(b);
}

/* Guarantee 4: a result computed before a drop (its lookup's ticket taken
 * before it) never lands after the drop. */
Test(host_table, a_fill_that_raced_a_drop_is_refused)
{
	struct lm_host *h = ht_open("t", MIB);
	struct lm_host_method m;
	lm_host_method_init(&m, "f", 1);
	struct lm_buf out = {0};
	int64_t exp;
	struct lm_host_ticket t;
	cr_assert_eq(lm_host_get(h, &m, ht_hash("k"), "k", 1, &out, &exp, &t), 0);
	lm_host_drop_key(h, &m, ht_hash("k"), "k", 1);
	cr_expect_eq(lm_host_set(h, &m, ht_hash("k"), "k", 1, "old", 3, 60000, &t), 0);
	cr_assert_eq(lm_host_get(h, &m, ht_hash("k"), "k", 1, &out, &exp, &t), 0);
	lm_host_drop_method(h, &m);
	cr_expect_eq(lm_host_set(h, &m, ht_hash("k"), "k", 1, "old", 3, 60000, &t), 0);
	char buf[16];
	cr_expect_eq(ht_get(h, &m, "k", buf, sizeof buf), 0);
	lm_buf_free(&out);
	lm_host_close(h);
}

Test(host_table, values_larger_than_a_slot_stay_out_and_ttls_hold)
{
	struct lm_host *h = ht_open("t", MIB);
	struct lm_host_method m;
	lm_host_method_init(&m, "f", 1);
	char big[512];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	cr_expect_eq(ht_set(h, &m, "k", big, 60000), 0);
	cr_expect_eq(ht_set(h, &m, "t", "v", 30), 1);
	char buf[64];
	cr_expect_eq(ht_get(h, &m, "t", buf, sizeof buf), 1);
	usleep(60 * 1000);
	cr_expect_eq(ht_get(h, &m, "t", buf, sizeof buf), 0, "past its TTL");
	lm_host_close(h);
}

/* A hit reads the kernel's clock words, which read while the kernel
 * wrote them can be a second behind: a copy 30 ms past its TTL is a miss
 * even when they say it has 800 ms left. */
Test(host_table, a_torn_reading_of_the_clock_words_serves_no_expired_copy)
{
	struct lm_host *h = ht_open("t", MIB);
	struct lm_host_method m;
	lm_host_method_init(&m, "f", 1);
	int64_t expires = lm_clock_ms() + 30;
	cr_assert_eq(ht_set(h, &m, "t", "v", 30), 1);
	usleep(60 * 1000);
	static int64_t torn[2];
	lm_test_words_at(expires - 800, torn);
	const volatile int64_t *found = lm_clock_use_words(torn);
	char buf[64];
	int got = ht_get(h, &m, "t", buf, sizeof buf);
	lm_clock_use_words(found);
	cr_expect_eq(got, 0, "past its TTL by a torn second");
	lm_host_close(h);
}

Test(host_table, a_full_table_evicts_in_place_and_never_grows)
{
	struct lm_host *h = ht_open("t", MIB);
	struct lm_host_method m;
	lm_host_method_init(&m, "f", 1);
	struct lm_host_stats st;
	lm_host_stats(h, &st);
	uint64_t slots = st.slots;
	char key[32], val[32], buf[64];
	for (uint64_t i = 0; i < slots * 3; i++) {
		snprintf(key, sizeof key, "key%llu", (unsigned long long)i);
		snprintf(val, sizeof val, "val%llu", (unsigned long long)i);
		ht_set(h, &m, key, val, 60000);
	}
	lm_host_stats(h, &st);
	cr_expect_eq(st.size, MIB);
	cr_expect_leq(st.entries, slots);
	cr_expect_gt(st.entries, slots / 2, "%llu of %llu", (unsigned long long)st.entries,
	             (unsigned long long)slots);
	cr_expect_gt(st.evictions, slots / 2);
	/* what is found is right */
	uint64_t found = 0;
	for (uint64_t i = 0; i < slots * 3; i++) {
		snprintf(key, sizeof key, "key%llu", (unsigned long long)i);
		snprintf(val, sizeof val, "val%llu", (unsigned long long)i);
		if (ht_get(h, &m, key, buf, sizeof buf)) {
			cr_assert_str_eq(buf, val);
			found++;
		}
	}
	cr_expect_eq(found, st.entries);
	lm_host_close(h);
}

/* A hit sets the slot's clock bit: an entry read between fills survives
 * where an unread one goes. */
Test(host_table, the_clock_keeps_an_entry_that_is_read)
{
	struct lm_host *h = ht_open("t", MIB);
	struct lm_host_method m;
	lm_host_method_init(&m, "f", 1);
	struct lm_host_stats st;
	lm_host_stats(h, &st);
	char key[32], buf[64];
	cr_assert_eq(ht_set(h, &m, "hot", "H", 60000), 1);
	for (uint64_t i = 0; i < st.slots * 4; i++) {
		snprintf(key, sizeof key, "cold%llu", (unsigned long long)i);
		ht_set(h, &m, key, "C", 60000);
		cr_assert_eq(ht_get(h, &m, "hot", buf, sizeof buf), 1, "lost after %llu fills",
		             (unsigned long long)i);
	}
	lm_host_close(h);
}

/* A writer killed between its claim and its publish: the slot's counter
 * stays odd; readers miss at once (never wait), and after the deadline a
 * writer takes the slot over. */
Test(host_table, an_abandoned_claim_is_taken_over_after_its_deadline)
{
	struct lm_host *h = ht_open("t", MIB);
	struct lm_host_method m;
	lm_host_method_init(&m, "f", 1);
	cr_assert_eq(ht_set(h, &m, "k", "v1", 60000), 1);
	struct lm_host_slot *s = NULL;
	for (uint64_t i = 0; i < h->nslots; i++)
		if (h->slots[i].seq != 0)
			s = &h->slots[i];
	cr_assert_not_null(s);
	s->seq++; /* a claim whose writer died */
	s->claimed_ms = lm_clock_ms();
	char buf[16];
	cr_expect_eq(ht_get(h, &m, "k", buf, sizeof buf), 0, "a slot being written is a miss");
	cr_expect_eq(ht_set(h, &m, "k", "v2", 60000), 0, "too young to take over");
	usleep((LM_HOST_ABANDON_MS + 50) * 1000);
	cr_expect_eq(ht_set(h, &m, "k", "v2", 60000), 1);
	cr_expect_eq(ht_get(h, &m, "k", buf, sizeof buf), 1);
	cr_expect_str_eq(buf, "v2");
	lm_host_close(h);
}

/* Bytes changed under a slot's stable counter (a writer presumed dead that
 * woke up, or anything else): its checksum fails, a miss. */
Test(host_table, a_slot_changed_behind_its_counter_is_a_miss)
{
	struct lm_host *h = ht_open("t", MIB);
	struct lm_host_method m;
	lm_host_method_init(&m, "f", 1);
	cr_assert_eq(ht_set(h, &m, "k", "value", 60000), 1);
	struct lm_host_slot *s = NULL;
	for (uint64_t i = 0; i < h->nslots; i++)
		if (h->slots[i].seq != 0)
			s = &h->slots[i];
	cr_assert_not_null(s);
	s->data[2] ^= 1; /* a torn value */
	char buf[16];
	cr_expect_eq(ht_get(h, &m, "k", buf, sizeof buf), 0);
	lm_host_close(h);
}

/* Random bytes over every slot, under a valid header: no crash, no read
 * outside the mapping (run under ASan by scripts/sanitize.sh), only misses. */
Test(host_table, random_slots_give_only_misses)
{
	struct lm_host *h = ht_open("t", MIB);
	struct lm_host_method m;
	lm_host_method_init(&m, "f", 1);
	srand(7);
	unsigned char *p = (unsigned char *)h->slots;
	for (size_t i = 0; i < h->nslots * LM_HOST_SLOT_BYTES; i++)
		p[i] = (unsigned char)rand();
	/* make some look plausible: even counters, live, matching hashes */
	for (uint64_t i = 0; i < h->nslots; i += 3) {
		h->slots[i].seq &= ~1ull;
		h->slots[i].state = LM_HS_LIVE;
		h->slots[i].mhash = m.mhash;
		h->slots[i].fp = m.fp;
	}
	char key[32], buf[512];
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof key, "k%d", i);
		cr_assert_eq(ht_get(h, &m, key, buf, sizeof buf), 0);
	}
	struct lm_host_stats st;
	lm_host_stats(h, &st);
	cr_expect_eq(st.entries, 0);
	/* and it still stores */
	cr_expect_eq(ht_set(h, &m, "new", "v", 60000), 1);
	cr_expect_eq(ht_get(h, &m, "new", buf, sizeof buf), 1);
	lm_host_close(h);
}

/* The statistics count entries without reading the pages no process
 * wrote: reading a hole of the file allocates a page for it, and a dump of
 * a 64 MiB mapping holding one entry made all 64 MiB resident. */
Test(host_table, stats_leave_unwritten_pages_unallocated)
{
	struct lm_host *h = ht_open("big", 64 * MIB);
	struct lm_host_method m;
	lm_host_method_init(&m, "f", 1);
	cr_assert_eq(ht_set(h, &m, "k", "v", 60000), 1);
	struct lm_host_stats st;
	lm_host_stats(h, &st);
	cr_expect_eq(st.entries, 1);
	/* the file's pages in memory, as every process sees them */
	static unsigned char vec[64 * MIB / 4096];
	cr_assert_eq(mincore(h->hdr, 64 * MIB, vec), 0);
	size_t resident = 0;
	for (size_t i = 0; i < sizeof vec; i++)
		resident += vec[i] & 1;
	cr_expect_lt(resident, 64, "%zu pages of %zu resident", resident, sizeof vec);
	lm_host_close(h);
}

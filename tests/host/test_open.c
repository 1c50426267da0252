/* Opening the mapping: made 0600 by the first process, the creator's size
 * kept, and every check a mapping found on disk must pass. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "shim/host/host_layout.h"

#define MIB (1ULL << 20)

static void setup(void)
{
	ht_dir_new();
}

static void teardown(void)
{
	ht_dir_free();
}

TestSuite(host_open, .init = setup, .fini = teardown);

static struct lm_host *try_open(const char *ns, char *why, char *note)
{
	const char *dir = ht_map_path(ns);
	char d[512];
	snprintf(d, sizeof d, "%s", dir);
	*strrchr(d, '/') = 0;
	return lm_host_open(d, ns, MIB, why, 512, note, 512);
}

Test(host_open, the_first_process_makes_it_0600_and_its_size_holds)
{
	struct lm_host *a = ht_open("ns", MIB);
	struct stat st;
	cr_assert_eq(stat(ht_map_path("ns"), &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	cr_expect_eq(st.st_uid, geteuid());
	cr_expect_eq((uint64_t)st.st_size, MIB);
	struct lm_host *b = ht_open("ns", 4 * MIB);
	struct lm_host_stats hs;
	lm_host_stats(b, &hs);
	cr_expect_eq(hs.size, MIB, "the creator's size");
	lm_host_close(a);
	lm_host_close(b);
	char p[512];
	cr_assert_eq(lm_host_path("/dev/shm", 1000, "my ns/x", p, sizeof p), 0);
	cr_expect_str_eq(p, "/dev/shm/ldmemo-1000-my_ns_x");
}

Test(host_open, a_mapping_open_to_others_is_refused)
{
	lm_host_close(ht_open("ns", MIB));
	cr_assert_eq(chmod(ht_map_path("ns"), 0666), 0);
	char why[512], note[512];
	cr_expect_null(try_open("ns", why, note));
	cr_expect(strstr(why, "open to group or others (not mode 0600): refused") != NULL, "%s",
	          why);
	cr_assert_eq(chmod(ht_map_path("ns"), 0640), 0);
	cr_expect_null(try_open("ns", why, note));
}

Test(host_open, a_mapping_of_another_user_is_refused)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to give a file to another user");
	lm_host_close(ht_open("ns", MIB));
	cr_assert_eq(chown(ht_map_path("ns"), 65534, 65534), 0);
	char why[512], note[512];
	cr_expect_null(try_open("ns", why, note));
	cr_expect(strstr(why, "owned by another user: refused") != NULL, "%s", why);
}

Test(host_open, a_link_in_its_place_is_refused)
{
	cr_assert_eq(symlink("/etc/passwd", ht_map_path("ns")), 0);
	char why[512], note[512];
	cr_expect_null(try_open("ns", why, note));
	cr_expect(strstr(why, "ldmemo-") != NULL, "%s", why);
}

static void expect_replaced(const char *ns, const char *because)
{
	char why[512] = "", note[512] = "";
	struct lm_host *h = try_open(ns, why, note);
	cr_assert_not_null(h, "%s", why);
	cr_expect(strstr(note, because) != NULL, "%s", note);
	cr_expect(strstr(note, "replaced") != NULL, "%s", note);
	struct stat st;
	cr_assert_eq(stat(ht_map_path(ns), &st), 0);
	cr_expect_eq((uint64_t)st.st_size, MIB);
	cr_expect_eq(st.st_mode & 0777, 0600);
	struct lm_host_method m;
	lm_host_method_init(&m, "f", 1);
	char buf[32];
	cr_expect_eq(ht_get(h, &m, "k", buf, sizeof buf), 0);
	cr_expect_eq(ht_set(h, &m, "k", "v", 60000), 1);
	lm_host_close(h);
}

Test(host_open, a_truncated_mapping_is_replaced_with_a_message)
{
	lm_host_close(ht_open("ns", MIB));
	cr_assert_eq(truncate(ht_map_path("ns"), MIB / 2), 0);
	expect_replaced("ns", "truncated or damaged");
	cr_assert_eq(truncate(ht_map_path("ns"), 100), 0);
	expect_replaced("ns", "truncated or damaged");
}

Test(host_open, random_bytes_or_another_format_are_replaced_never_read)
{
	lm_host_close(ht_open("ns", MIB));
	int fd = open(ht_map_path("ns"), O_WRONLY);
	cr_assert(fd >= 0);
	srand(3);
	unsigned char b[4096];
	for (uint64_t off = 0; off < MIB; off += sizeof b) {
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)rand();
		cr_assert_eq(pwrite(fd, b, sizeof b, (off_t)off), (ssize_t)sizeof b);
	}
	close(fd);
	expect_replaced("ns", "not an ldmemo host mapping");

	fd = open(ht_map_path("ns"), O_RDWR);
	uint32_t v = LM_HOST_VERSION + 1;
	cr_assert_eq(pwrite(fd, &v, sizeof v, __builtin_offsetof(struct lm_host_hdr, version)),
	             (ssize_t)sizeof v);
	close(fd);
	expect_replaced("ns", "another format");
}

/* The coarse clock (shim/base/clock.c): read from the kernel's words once
 * they are found, and the same time as the vDSO gives. */
#include <criterion/criterion.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shim/base/clock.h"
#include "shim/base/maps.h"
#include "tests/common/clock_words.h"

static int64_t vdso_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(clock, the_coarse_words_tell_the_vdso_time)
{
	const volatile int64_t *w = lm_clock_coarse_words();
	if (!w)
		cr_skip_test("no clock words here (valgrind, a time namespace?)");
	for (int i = 0; i < 20; i++) {
		int64_t a = vdso_ms(), t = lm_clock_rough_ms(), b = vdso_ms();
		if (a > t || t > b) /* a torn reading (clock.h): never twice in a row */
			a = vdso_ms(), t = lm_clock_rough_ms(), b = vdso_ms();
		cr_assert(a <= t && t <= b, "%ld not within [%ld, %ld]", (long)t, (long)a, (long)b);
		struct timespec pause = {.tv_nsec = 1000000};
		nanosleep(&pause, NULL);
	}
	cr_expect(lm_clock_coarse_check());
}

/* The words are found in the first page of [vvar], which the shim finds
 * in /proc/self/maps with its own reader (no stdio): it is the page the
 * maps name, here read with sscanf. */
Test(clock, the_coarse_words_lie_in_the_vvar_page_the_maps_name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	cr_assert_not_null(f);
	char line[512];
	unsigned long lo = 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "[vvar]"))
			cr_assert_eq(sscanf(line, "%lx-", &lo), 1);
	fclose(f);
	if (!lo)
		cr_skip_test("no [vvar] mapping here");
	const volatile int64_t *w = lm_clock_coarse_words();
	cr_assert_not_null(w, "[vvar] at %lx, but no words found", lo);
	cr_expect((uintptr_t)w >= lo && (uintptr_t)w < lo + 4096, "%p not in the page at %lx",
	          (const void *)w, lo);
}

/* lm_clock_maps_vvar over TEXT, as a file it reads to its end. */
static uintptr_t vvar_in(const char *text)
{
	int fd = memfd_create("maps", 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	lseek(fd, 0, SEEK_SET);
	uintptr_t lo = lm_clock_maps_vvar(fd);
	close(fd);
	return lo;
}

/* The path field must be exactly [vvar]: not [vvar_vclock], not a file
 * whose name ends so; the line may straddle the reader's reads. */
Test(clock, the_maps_reader_takes_only_the_vvar_mapping)
{
	cr_expect_eq(vvar_in("7f00-7f01 r--p 00000000 00:00 0                          [vvar]\n"),
	             0x7f00);
	cr_expect_eq(vvar_in("1000-2000 r--p 00000000 00:00 0 [vvar_vclock]\n"
	                     "3000-4000 r--p 00000000 08:01 77 /tmp/x [vvar]\n"
	                     "5000-6000 r-xp 00000000 00:00 0 [vdso]\n"),
	             0);
	char text[8192] = "";
	size_t n = 0;
	/* lines of 38 bytes: the [vvar] line crosses the first read's end */
	while (n < LM_MAPS_READ - 18)
		n += (size_t)snprintf(text + n, sizeof text - n,
		                      "%08zx-00000001 r--p 0 00:00 0 /lib\n", n);
	snprintf(text + n, sizeof text - n, "abcd000-abce000 r--p 00000000 00:00 0 [vvar]\n");
	cr_expect_eq(vvar_in(text), 0xabcd000);
}

/* A line longer than the reader's read is one line to its end: its rest
 * is no line of its own, even one that reads as the [vvar] mapping's; the
 * lines after it are read. */
Test(clock, a_line_longer_than_a_read_is_one_line)
{
	char text[3 * LM_MAPS_READ] = "1000-2000 r--p 00000000 08:01 77 /";
	size_t n = strlen(text);
	memset(text + n, 'a', LM_MAPS_READ - n);
	snprintf(text + LM_MAPS_READ, sizeof text - LM_MAPS_READ,
	         "beef000-bef0000 r--p 00000000 00:00 0 [vvar]\n");
	cr_expect_eq(vvar_in(text), 0);
	n = strlen(text);
	snprintf(text + n, sizeof text - n, "9000-a000 r--p 00000000 00:00 0 [vvar]\n");
	cr_expect_eq(vvar_in(text), 0x9000);
}

/* A line cut to the reader's head is not [vvar]'s, even when the head
 * ends with the field: the path is "[vvar]" and more. */
Test(clock, a_cut_line_is_not_the_vvar_mapping)
{
	char text[512] = "beef000-bef0000 r--p 00000000 00:00 0";
	size_t n = strlen(text);
	memset(text + n, ' ', LM_MAPS_HEAD - 6 - n);
	snprintf(text + LM_MAPS_HEAD - 6, sizeof text - (LM_MAPS_HEAD - 6), "[vvar]x\n");
	cr_expect_eq(vvar_in(text), 0);
	text[LM_MAPS_HEAD] = '\n';
	text[LM_MAPS_HEAD + 1] = '\0';
	cr_expect_eq(vvar_in(text), 0xbeef000);
}

/* The test program resolves libc's clock_gettime: it is recognised as
 * libc's (through the object that holds it), which lets hits read the
 * kernel's clock words; the fakeclock integration test checks the other
 * way. */
Test(clock, libcs_clock_is_recognised)
{
	cr_expect(lm_clock_is_libc());
}

/* Words read while the kernel wrote them: seconds paired with the wrong
 * nanoseconds, up to a second off either way. A time within that second
 * of them is decided by the vDSO's clock; TTLs allow 10 ms of slack, not
 * a second. */
Test(clock, a_torn_reading_of_the_words_never_decides_within_its_second)
{
	int64_t t = vdso_ms();
	for (int way = -1; way <= 1; way += 2) {
		int64_t torn = t + way * 900;
		static int64_t words[2];
		lm_test_words_at(torn, words);
		const volatile int64_t *found = lm_clock_use_words(words);
		int64_t read = lm_clock_rough_ms();
		cr_expect_eq(read, torn, "the words are read: %ld, %ld", (long)read, (long)torn);
		cr_expect(lm_clock_reached(t - 100), "way %d: 100 ms ago not reached", way);
		cr_expect(!lm_clock_reached(t + 5000), "way %d: in 5 s reached", way);
		cr_expect(!lm_clock_reached(vdso_ms() + 100), "way %d: in 100 ms reached", way);
		lm_clock_use_words(found);
	}
	const volatile int64_t *found = lm_clock_use_words(NULL);
	cr_expect(lm_clock_reached(t - 2000) && !lm_clock_reached(t + 2000), "without words");
	lm_clock_use_words(found);
}

/* The maps line reader (shim/base/maps.c): each line whole, across the
 * reads it straddles, with its length; a long line's head cut. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/base/maps.h"

struct seen {
	int n;
	char head[4][LM_MAPS_HEAD + 1];
	size_t len[4];
	int stop_at; /* line number whose callback stops the reading */
};

static int note(const char *head, size_t len, void *arg)
{
	struct seen *s = arg;
	cr_assert_lt(s->n, 4);
	cr_assert_leq(strlen(head), LM_MAPS_HEAD);
	strcpy(s->head[s->n], head);
	s->len[s->n] = len;
	return ++s->n == s->stop_at ? 7 : 0;
}

static int lines_of(const char *text, size_t size, struct seen *s)
{
	int fd = memfd_create("maps", 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, size), (ssize_t)size);
	lseek(fd, 0, SEEK_SET);
	int rc = lm_maps_lines(fd, note, s);
	close(fd);
	return rc;
}

Test(maps, each_line_whole_with_its_length)
{
	static char text[3 * LM_MAPS_READ];
	/* a short line, a long one over the first read's end, and a last
	 * one without its newline */
	size_t n = (size_t)sprintf(text, "1000-2000 r-xp\n");
	size_t second = LM_MAPS_READ + 20;
	memset(text + n, 'b', second);
	text[n + second] = '\n';
	strcpy(text + n + second + 1, "3000-4000 rw-p");
	struct seen s = {0};
	cr_expect_eq(lines_of(text, strlen(text), &s), 0);
	cr_assert_eq(s.n, 2, "a last line without its newline is no line");
	cr_expect_str_eq(s.head[0], "1000-2000 r-xp");
	cr_expect_eq(s.len[0], 14);
	cr_expect_eq(s.len[1], second);
	cr_expect_eq(strlen(s.head[1]), LM_MAPS_HEAD);
}

/* The lines may straddle a read anywhere: the line after a read's end is
 * whole whatever the offset. */
Test(maps, a_line_straddling_a_read_is_whole)
{
	static char text[2 * LM_MAPS_READ];
	for (size_t cut = LM_MAPS_READ - 30; cut <= LM_MAPS_READ + 2; cut++) {
		memset(text, 'x', cut - 1);
		text[cut - 1] = '\n';
		strcpy(text + cut, "7f00-7f01 r--p 00000000 00:00 0 [vvar]\n");
		struct seen s = {0};
		lines_of(text, strlen(text), &s);
		cr_assert_eq(s.n, 2, "cut at %zu", cut);
		cr_expect_eq(s.len[0], cut - 1, "cut at %zu", cut);
		cr_expect_str_eq(s.head[1], "7f00-7f01 r--p 00000000 00:00 0 [vvar]", "cut at %zu",
		                 cut);
	}
}

Test(maps, a_callback_that_answers_stops_the_reading)
{
	struct seen s = {.stop_at = 2};
	cr_expect_eq(lines_of("a\nb\nc\n", 6, &s), 7);
	cr_expect_eq(s.n, 2);
}

Test(maps, hex_stops_at_the_first_other_byte)
{
	const char *p = "7ffc0a-7ffd";
	cr_expect_eq(lm_maps_hex(&p), 0x7ffc0a);
	cr_expect_eq(*p, '-');
}

/* The differential fuzzer: a sequence of calls into the fixture library
 * (difflib.h) through the real preloaded shim, each result, errno and out
 * buffer compared with a direct call of the same code (NAME_direct, which
 * no config names). Any difference aborts: the shim answered wrong.
 *
 * Started bare, it re-executes itself with LD_PRELOAD=libldmemo.so and its
 * config (DIFF_SHIM names the shim; default: build/libldmemo.so under the
 * current directory). The shim's TTLs run on CLOCK_MONOTONIC_COARSE, which
 * this program defines over libc's: a clock the input moves forward. */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim/arch/x86_64/fast_abi.h"
#include "tests/fuzz/diff/difflib.h"

/* Method order matters: the fast table's seed is the method's index. */
static const char conf[] =
    "[global]\nttl = 1h\n"
    "[cache dz_l]\nsignature = long dz_l(long x)\n"
    "[cache dz_ii]\nsignature = int dz_ii(int a, u32 b)\n"
    "[cache dz_dd]\nsignature = double dz_dd(double a, double b)\n"
    "[cache dz_f]\nsignature = float dz_f(float x)\n"
    "[cache dz_v]\nsignature = void dz_v(ignore p, short s)\n"
    "[cache dz_ld]\nsignature = long dz_ld(long a, double b)\n"
    "[cache dz_di]\nsignature = double dz_di(double a, u8 n)\n"
    "[cache dz_lil]\nsignature = long dz_lil(long a, ignore p, long b)\n"
    "[cache dz_ill]\nsignature = long dz_ill(ignore p, long a, long b)\n"
    "[cache dz_none]\nsignature = long dz_none()\n"
    "[cache dz_s]\nsignature = long dz_s(str s)\n"
    "[cache dz_b]\nsignature = long dz_b(buf(n) p, u32 n)\n"
    "[cache dz_name]\nsignature = str dz_name(i64 id)\n"
    "[cache dz_sname]\nsignature = static str dz_sname(int id)\n"
    "[cache dz_get]\nsignature = int dz_get(i64 id, out(64) rec)\n"
    "when = ret == 0\nnegative_ttl = 1h\n"
    "[invalidate dz_set]\nsignature = int dz_set(i64 id, i64 v)\n"
    "when = ret == 0\ndrop = dz_get(id), dz_name(id)\n"
    "[invalidate dz_clear]\nsignature = int dz_clear()\n"
    "drop = dz_get, dz_name\n"
    "[cache dz_t]\nsignature = long dz_t(long a, long b, long c)\nttl = 1s\n"
    "[cache dz_ts]\nsignature = long dz_ts(str s)\nttl = 1s\n"
    "[cache dz_flaky]\nsignature = long dz_flaky(long x)\n"
    "when = ret >= 0\nnegative_ttl = 1h\n"
    "[cache dz_wnan]\nsignature = double dz_wnan(double x)\nwhen = ret >= 0.5\n"
    "[cache dz_mb]\nsignature = buf(24) dz_mb(int k)\n"
    "[cache dz_fill]\nsignature = ptr(dst) dz_fill(u32 k, out(32) dst)\n"
    "[cache dz_u16]\nsignature = int dz_u16(u16 a, i8 b, bool c)\n";

enum { M_L, M_II, M_DD };

/* ---- the clock ----------------------------------------------------------- */

static int64_t clock_skew_ns;

int clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	if (id != CLOCK_MONOTONIC_COARSE) {
		if (!real)
			real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT,
			                                                    "clock_gettime");
		return real(id, ts);
	}
	int rc = (int)syscall(SYS_clock_gettime, id, ts);
	int64_t ns = ts->tv_sec * 1000000000ll + ts->tv_nsec + clock_skew_ns;
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	return rc;
}

/* ---- input ----------------------------------------------------------------- */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct in *in, size_t bytes)
{
	uint64_t v = 0;
	for (size_t i = 0; i < bytes; i++) {
		v |= (uint64_t)(in->n ? *in->p : 0) << (8 * i);
		if (in->n) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

/* Keys of the fast methods whose first sets are the same (one per method):
 * a lookup must tell them apart by the whole key. */
#define NCOLL 16
static uint64_t coll_l[NCOLL], coll_ii[NCOLL][2], coll_dd[NCOLL][2];

static uint32_t first_set(uint32_t id, uint64_t k0, uint64_t k1, int two)
{
	uint64_t h = (k0 ^ (k0 >> 32) ^ (id + 1) * 0x9e3779b97f4a7c15ull) * LM_FAST_MUL;
	if (two)
		h = (h ^ k1) * LM_FAST_MUL;
	/* all the bits a set number is taken from: the same set at every size */
	return (uint32_t)(h >> (64 - LM_FAST_MAX_SET_BITS));
}

static void colliding_keys(void)
{
	uint32_t want = first_set(M_L, 1, 0, 0);
	for (uint64_t k = 1, n = 0; n < NCOLL; k++)
		if (first_set(M_L, k, 0, 0) == want)
			coll_l[n++] = k;
	/* (3, b): the second word alone tells them apart */
	want = first_set(M_II, 3, 4, 1);
	for (uint64_t b = 4, n = 0; n < NCOLL; b++)
		if (first_set(M_II, 3, b, 1) == want) {
			coll_ii[n][0] = 3;
			coll_ii[n++][1] = b;
		}
	double one = 1.5;
	uint64_t a;
	memcpy(&a, &one, 8);
	want = first_set(M_DD, a, 0, 1);
	for (uint64_t b = 0, n = 0; n < NCOLL; b++)
		if (first_set(M_DD, a, b << 40, 1) == want) {
			coll_dd[n][0] = a;
			coll_dd[n++][1] = b << 40;
		}
}

/* An integer as the inputs of interest have them: small, from the
 * colliding keys, extremes, or any. */
static int64_t pick_int(struct in *in)
{
	switch (take(in, 1) % 5) {
	case 0:
		return (int64_t)(take(in, 1) % 16);
	case 1:
		return (int64_t)coll_l[take(in, 1) % NCOLL];
	case 2: {
		static const int64_t edge[] = {0,         -1,        1,        INT32_MAX,
		                               INT32_MIN, INT64_MAX, INT64_MIN};
		return edge[take(in, 1) % 7];
	}
	default:
		return (int64_t)take(in, 8);
	}
}

static double pick_double(struct in *in)
{
	static const uint64_t special[] = {0x0000000000000000ull, 0x8000000000000000ull,
	                                   0x7ff8000000000000ull, 0xfff8000000000001ull,
	                                   0x7ff0000000000000ull, 0x3ff8000000000000ull,
	                                   0x0000000000000001ull};
	uint64_t bits;
	switch (take(in, 1) % 4) {
	case 0:
		bits = special[take(in, 1) % 7];
		break;
	case 1:
		bits = coll_dd[take(in, 1) % NCOLL][1];
		break;
	case 2:
		return (double)(int8_t)take(in, 1) / 4;
	default:
		bits = take(in, 8);
	}
	double d;
	memcpy(&d, &bits, 8);
	return d;
}

/* Garbage above a 32-bit argument's 32 bits: the callee must ignore it. */
static uint64_t garbage(struct in *in)
{
	return take(in, 1) & 1 ? take(in, 4) << 32 : 0;
}

/* A string of 'p's, often sharing a long prefix with the others (0, 63,
 * 64, 100, 112, 255, 256, 4095, 4096 or 5000 bytes), then a short tail of
 * a small alphabet; one byte of the prefix may be a 'q' (at FLIP/256 of
 * its length), so that two strings differ only far in. */
static char *pick_str(struct in *in, char *buf, size_t cap)
{
	static const size_t prefix[] = {0, 63, 64, 100, 112, 255, 256, 4095, 4096, 5000};
	uint64_t sel = take(in, 1);
	if (sel == 255)
		return NULL;
	size_t n = prefix[sel % 10];
	size_t tail = take(in, 1) % 4;
	size_t flip = take(in, 1);
	if (n + tail + 1 > cap)
		n = 0;
	memset(buf, 'p', n);
	if (flip && n)
		buf[flip * n / 256] = 'q';
	for (size_t i = 0; i < tail; i++)
		buf[n + i] = (char)('a' + take(in, 1) % 3);
	buf[n + tail] = 0;
	return buf;
}

/* ---- comparing ------------------------------------------------------------ */

static unsigned long ops;

static void differ(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void differ(const char *what, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "diff: %s after %lu calls: ", what, ops);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define SAME_ERRNO(what, e1, e2)                                                      \
	do {                                                                          \
		if ((e1) != (e2))                                                     \
			differ(what, "errno %d through the shim, %d direct", e1, e2); \
	} while (0)

/* Calls CALL (the hooked function) and DIRECT with errno preset alike,
 * results into R1 and R2, errnos into E1 and E2. */
#define BOTH(r1, r2, e1, e2, call, direct) \
	do {                               \
		int pre = (int)ops & 63;   \
		errno = pre;               \
		r1 = call;                 \
		e1 = errno;                \
		errno = pre;               \
		r2 = direct;               \
		e2 = errno;                \
	} while (0)

#define CMP_BITS(what, r1, r2, e1, e2)                                              \
	do {                                                                        \
		if (memcmp(&(r1), &(r2), sizeof(r1)) != 0)                          \
			differ(what, "result %#llx through the shim, %#llx direct", \
			       (unsigned long long)bits_of(&(r1), sizeof(r1)),      \
			       (unsigned long long)bits_of(&(r2), sizeof(r2)));     \
		SAME_ERRNO(what, e1, e2);                                           \
	} while (0)

static uint64_t bits_of(const void *p, size_t n)
{
	uint64_t v = 0;
	memcpy(&v, p, n < 8 ? n : 8);
	return v;
}

/* ---- the calls ---------------------------------------------------------- */

typedef long (*l_of_l)(long);
typedef int (*i_of_ll)(long, long);
typedef int (*i_of_lll)(long, long, long);

static char sbuf[2][6000];

static void one_call(struct in *in)
{
	int e1, e2;
	unsigned op = (unsigned)take(in, 1) % 26;
	ops++;
	switch (op) {
	case 0: {
		long x = pick_int(in), r1, r2;
		BOTH(r1, r2, e1, e2, dz_l(x), dz_l_direct(x));
		CMP_BITS("dz_l", r1, r2, e1, e2);
		break;
	}
	case 1: {
		/* two keys of one first set, or any two ints; garbage above */
		long a, b;
		if (take(in, 1) & 1) {
			unsigned i = (unsigned)take(in, 1) % NCOLL;
			a = (long)coll_ii[i][0];
			b = (long)coll_ii[i][1];
		} else {
			a = (long)(uint32_t)pick_int(in);
			b = (long)(uint32_t)pick_int(in);
		}
		long ga = (long)((uint64_t)(uint32_t)a | garbage(in));
		long gb = (long)((uint64_t)(uint32_t)b | garbage(in));
		int r1, r2;
		/* the int arguments' registers with garbage above 32 bits */
		BOTH(r1, r2, e1, e2, ((i_of_ll)(void *)dz_ii)(ga, gb),
		     ((i_of_ll)(void *)dz_ii_direct)(ga, gb));
		CMP_BITS("dz_ii", r1, r2, e1, e2);
		break;
	}
	case 2: {
		double a = pick_double(in), b = pick_double(in), r1, r2;
		if (take(in, 1) & 1) {
			unsigned i = (unsigned)take(in, 1) % NCOLL;
			memcpy(&a, &coll_dd[i][0], 8);
			memcpy(&b, &coll_dd[i][1], 8);
		}
		BOTH(r1, r2, e1, e2, dz_dd(a, b), dz_dd_direct(a, b));
		CMP_BITS("dz_dd", r1, r2, e1, e2);
		break;
	}
	case 3: {
		float x = (float)pick_double(in), r1, r2;
		BOTH(r1, r2, e1, e2, dz_f(x), dz_f_direct(x));
		CMP_BITS("dz_f", r1, r2, e1, e2);
		break;
	}
	case 4: {
		short s = (short)pick_int(in);
		int pre = (int)ops & 63;
		errno = pre;
		dz_v(in, s);
		e1 = errno;
		errno = pre;
		dz_v_direct(NULL, s);
		e2 = errno;
		SAME_ERRNO("dz_v", e1, e2);
		break;
	}
	case 5: {
		long a = pick_int(in), r1, r2;
		double b = pick_double(in);
		BOTH(r1, r2, e1, e2, dz_ld(a, b), dz_ld_direct(a, b));
		CMP_BITS("dz_ld", r1, r2, e1, e2);
		break;
	}
	case 6: {
		double a = pick_double(in), r1, r2;
		unsigned char n = (unsigned char)pick_int(in);
		BOTH(r1, r2, e1, e2, dz_di(a, n), dz_di_direct(a, n));
		CMP_BITS("dz_di", r1, r2, e1, e2);
		break;
	}
	case 7: {
		long a = pick_int(in), b = pick_int(in), r1, r2;
		BOTH(r1, r2, e1, e2, dz_lil(a, in, b), dz_lil_direct(a, NULL, b));
		CMP_BITS("dz_lil", r1, r2, e1, e2);
		break;
	}
	case 8: {
		long a = pick_int(in), b = pick_int(in), r1, r2;
		BOTH(r1, r2, e1, e2, dz_ill(&a, a, b), dz_ill_direct(NULL, a, b));
		CMP_BITS("dz_ill", r1, r2, e1, e2);
		break;
	}
	case 9: {
		long r1, r2;
		BOTH(r1, r2, e1, e2, dz_none(), dz_none_direct());
		CMP_BITS("dz_none", r1, r2, e1, e2);
		break;
	}
	case 10:
	case 11: {
		char *s = pick_str(in, sbuf[0], sizeof sbuf[0]);
		long r1, r2;
		if (op == 10)
			BOTH(r1, r2, e1, e2, dz_s(s), dz_s_direct(s));
		else
			BOTH(r1, r2, e1, e2, dz_ts(s), dz_ts_direct(s));
		CMP_BITS(op == 10 ? "dz_s" : "dz_ts", r1, r2, e1, e2);
		break;
	}
	case 12: {
		char *s = pick_str(in, sbuf[1], sizeof sbuf[1]);
		unsigned n = s ? (unsigned)strlen(s) : (unsigned)(take(in, 1) % 8);
		long r1, r2;
		BOTH(r1, r2, e1, e2, dz_b(s, n), dz_b_direct(s, n));
		CMP_BITS("dz_b", r1, r2, e1, e2);
		break;
	}
	case 13: {
		int64_t id = (int64_t)(take(in, 1) % DZ_DB);
		char *r1, *r2;
		BOTH(r1, r2, e1, e2, dz_name(id), dz_name_direct(id));
		if (!r1 || !r2 || strcmp(r1, r2) != 0)
			differ("dz_name", "\"%s\" through the shim, \"%s\" direct",
			       r1 ? r1 : "(null)", r2 ? r2 : "(null)");
		SAME_ERRNO("dz_name", e1, e2);
		free(r1);
		free(r2);
		break;
	}
	case 14: {
		int id = (int)pick_int(in);
		const char *r1;
		errno = 0;
		r1 = dz_sname(id);
		e1 = errno;
		char copy[32];
		snprintf(copy, sizeof copy, "%s", r1 ? r1 : "(null)");
		const char *r2 = dz_sname_direct(id);
		e2 = errno;
		if (strcmp(copy, r2) != 0)
			differ("dz_sname", "\"%s\" through the shim, \"%s\" direct", copy, r2);
		SAME_ERRNO("dz_sname", e1, e2);
		break;
	}
	case 15: {
		int64_t id = (int64_t)(take(in, 1) % DZ_DB);
		unsigned char o1[64], o2[64];
		memset(o1, 0xee, sizeof o1);
		memset(o2, 0xee, sizeof o2);
		int null = (take(in, 1) & 7) == 0;
		int r1, r2;
		BOTH(r1, r2, e1, e2, dz_get(id, null ? NULL : o1),
		     dz_get_direct(id, null ? NULL : o2));
		CMP_BITS("dz_get", r1, r2, e1, e2);
		if (memcmp(o1, o2, sizeof o1) != 0)
			differ("dz_get", "out buffers differ for id %lld", (long long)id);
		break;
	}
	case 16:
	case 17: {
		/* a write: the same change made once, through the shim (so its
		 * drops apply) */
		int64_t id = (int64_t)(take(in, 1) % DZ_DB);
		int64_t v = (int64_t)(int8_t)take(in, 1);
		int pre = (int)ops & 63;
		errno = pre;
		int r = op == 16 ? dz_set(id, v) : (take(in, 1) % 8 ? dz_set(id, v) : dz_clear());
		(void)r;
		break;
	}
	case 18: {
		long a = pick_int(in), b = pick_int(in), c = pick_int(in), r1, r2;
		BOTH(r1, r2, e1, e2, dz_t(a, b, c), dz_t_direct(a, b, c));
		CMP_BITS("dz_t", r1, r2, e1, e2);
		break;
	}
	case 19: {
		/* time passes: a little, or past the 1 s TTL (not past twice
		 * that), and then what dz_t and dz_ts read may change */
		uint64_t step = take(in, 1);
		if (step & 1) {
			clock_skew_ns += 1200000000ll;
			dz_gen++;
		} else {
			clock_skew_ns += (int64_t)(step % 64) * 1000000;
		}
		break;
	}
	case 20: {
		long x = pick_int(in) & 0xff, r1, r2;
		dz_weather = (long)take(in, 1);
		BOTH(r1, r2, e1, e2, dz_flaky(x), dz_flaky_direct(x));
		/* a success may be answered for a key that failed just now */
		long good = x & 0xffff;
		if (r1 == r2 && e1 == e2)
			break;
		if (r1 != good || e1 != 0)
			differ("dz_flaky", "%ld errno %d through the shim, %ld errno %d direct", r1,
			       e1, r2, e2);
		break;
	}
	case 21: {
		double x = pick_double(in), r1, r2;
		dz_weather = (long)take(in, 1);
		BOTH(r1, r2, e1, e2, dz_wnan(x), dz_wnan_direct(x));
		if (memcmp(&r1, &r2, 8) == 0 && e1 == e2)
			break;
		double good = fabs(x) + 0.5;
		if (memcmp(&r1, &good, 8) != 0 || e1 != e2)
			differ("dz_wnan", "%g through the shim, %g direct", r1, r2);
		break;
	}
	case 22: {
		int k = (int)pick_int(in);
		void *r1, *r2;
		BOTH(r1, r2, e1, e2, dz_mb(k), dz_mb_direct(k));
		if (!r1 || !r2 || memcmp(r1, r2, 24) != 0)
			differ("dz_mb", "buffers differ for %d", k);
		SAME_ERRNO("dz_mb", e1, e2);
		free(r1);
		free(r2);
		break;
	}
	case 23: {
		unsigned k = (unsigned)pick_int(in);
		unsigned char o1[32], o2[32];
		memset(o1, 0x11, sizeof o1);
		memset(o2, 0x11, sizeof o2);
		int null = (take(in, 1) & 7) == 0;
		void *r1, *r2;
		BOTH(r1, r2, e1, e2, dz_fill(k, null ? NULL : o1),
		     dz_fill_direct(k, null ? NULL : o2));
		if ((r1 == NULL) != (r2 == NULL) || (r1 && r1 != (void *)o1))
			differ("dz_fill", "pointer %p through the shim for %p", r1, (void *)o1);
		if (memcmp(o1, o2, sizeof o1) != 0)
			differ("dz_fill", "out buffers differ for %u", k);
		SAME_ERRNO("dz_fill", e1, e2);
		break;
	}
	case 24: {
		long a = (long)((uint64_t)(uint16_t)pick_int(in) | garbage(in));
		long b = (long)((uint64_t)(uint32_t)(int32_t)(int8_t)pick_int(in) | garbage(in));
		long c = (long)((uint64_t)(take(in, 1) & 1) | garbage(in));
		int r1, r2;
		BOTH(r1, r2, e1, e2, ((i_of_lll)(void *)dz_u16)(a, b, c),
		     ((i_of_lll)(void *)dz_u16_direct)(a, b, c));
		CMP_BITS("dz_u16", r1, r2, e1, e2);
		break;
	}
	default: {
		/* the colliding keys of dz_l, several in a row */
		unsigned n = (unsigned)take(in, 1) % NCOLL;
		for (unsigned i = 0; i <= n; i++) {
			long x = (long)coll_l[(i * 7 + n) % NCOLL], r1, r2;
			BOTH(r1, r2, e1, e2, dz_l(x), dz_l_direct(x));
			CMP_BITS("dz_l (colliding)", r1, r2, e1, e2);
		}
	}
	}
}

/* ---- set-up --------------------------------------------------------------- */

/* Without the shim active the comparisons would prove nothing. */
static void check_shim_active(void)
{
	long runs = dz_runs;
	dz_l(123456);
	dz_l(123456);
	if (dz_runs != runs + 1) {
		fprintf(stderr, "diff: the shim is not caching dz_l (runs %ld)\n", dz_runs - runs);
		exit(2);
	}
	runs = dz_runs;
	dz_t(1, 2, 3);
	clock_skew_ns += 1200000000ll;
	dz_t(1, 2, 3);
	if (dz_runs != runs + 2) {
		fprintf(stderr, "diff: the shim does not see this program's clock\n");
		exit(2);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	if (!getenv("LDMEMO_CONFIG")) {
		char path[] = "/tmp/ldmemo-diff-XXXXXX.conf";
		int fd = mkstemps(path, 5);
		if (fd < 0 || write(fd, conf, sizeof conf - 1) != (ssize_t)(sizeof conf - 1)) {
			perror("diff: config");
			exit(2);
		}
		close(fd);
		const char *shim = getenv("DIFF_SHIM");
		char def[4096];
		if (!shim) {
			snprintf(def, sizeof def, "%s/build/libldmemo.so",
			         getenv("PWD") ? getenv("PWD") : ".");
			shim = def;
		}
		setenv("LDMEMO_CONFIG", path, 1);
		setenv("LD_PRELOAD", shim, 1);
		setenv("LDMEMO_STRICT", "1", 1);
		execv("/proc/self/exe", *argv);
		perror("diff: exec");
		exit(2);
	}
	unsetenv("LD_PRELOAD");
	colliding_keys();
	check_shim_active();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	/* One process runs many inputs: each starts from an empty database
	 * and with every TTL'd copy expired (pure functions stay cached). */
	dz_clear();
	clock_skew_ns += 1200000000ll;
	dz_gen++;
	while (in.n)
		one_call(&in);
	return 0;
}

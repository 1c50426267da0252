/* ldmemo's public C API, exported by libldmemo.so (spec section 8).
 *
 * The functions live in the preloaded shim, not in a library to link:
 * `pkg-config --cflags ldmemo` gives the include path and there are no
 * Libs. A program that must also run without the preload looks them up
 * with dlsym(RTLD_DEFAULT, "ldmemo_invalidate_all") and skips them when
 * they are absent (examples/api/example.c). Every function is safe to
 * call from any thread, never changes errno, and does nothing but return
 * -1 when ldmemo is loaded but inactive. */
#ifndef LDMEMO_H
#define LDMEMO_H

#ifdef __cplusplus
extern "C" {
#endif

#define LDMEMO_API __attribute__((visibility("default")))

/* Drop every entry of METHOD (a [cache] name). Returns the number of
 * entries dropped, or -1 when ldmemo is inactive or has no such method. */
LDMEMO_API int ldmemo_invalidate_method(const char *method);

/* Drop every entry. Returns the number dropped, or -1 when inactive. */
LDMEMO_API int ldmemo_invalidate_all(void);

/* Write the statistics to FD now, FORMAT "text", "json" or "prom" (NULL:
 * text). Returns 0, or -1 when inactive or on a bad argument. */
LDMEMO_API int ldmemo_stats_dump(int fd, const char *format);

#ifdef __cplusplus
}
#endif

#endif

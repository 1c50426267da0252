/* Where the shim's static data goes. Every page of it the start-up
 * touches is a page fault, tens of microseconds each in a virtual
 * machine, so the few large arrays (read only by a feature in use) go to
 * .lbss, which the linker places after .bss: the small variables share
 * a page or two instead of lying between the arrays. */
#ifndef LM_SECTION_H
#define LM_SECTION_H

/* For a zero-initialised static array of a kilobyte or more. GCC makes
 * .lbss NOBITS; clang would write it out as data, so it keeps .bss. */
#if defined(__GNUC__) && !defined(__clang__)
#define LM_LARGE_BSS __attribute__((section(".lbss")))
#else
#define LM_LARGE_BSS
#endif

#endif

# Integration fixtures: a library and a program built in the variants the
# dynamic linker treats differently (PIE or not, lazy or -z now, -fno-plt,
# -O0 or -O2); the tests run each under the shim.
ITD := $(B)/tests/integration
ITS := tests/integration/fixtures
IT_VARIANTS := pie-O2 nopie-O2 pie-O0-now nopie-O0-noplt

$(ITD)/libfix.so: $(ITS)/libfix.c $(ITS)/libfix.h
	@mkdir -p $(@D)
	$(CC) -O2 -g -fPIC -shared -o $@ $< -lm
$(ITD)/libdyn.so: $(ITS)/libdyn.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -fPIC -shared -o $@ $<

it_flags_pie-O2 := -O2 -fPIE -pie
it_flags_nopie-O2 := -O2 -fno-pie -no-pie
it_flags_pie-O0-now := -O0 -fPIE -pie -Wl,-z,now
it_flags_nopie-O0-noplt := -O0 -fno-pie -no-pie -fno-plt -Wl,-z,now

$(ITD)/prog-%: $(ITS)/prog.c $(ITS)/libfix.h $(ITD)/libfix.so
	$(CC) -g $(it_flags_$*) -o $@ $< -L$(ITD) -lfix -Wl,-rpath,'$$ORIGIN' -ldl -lpthread

FIXTURES += $(ITD)/libfix.so $(ITD)/libdyn.so $(patsubst %,$(ITD)/prog-%,$(IT_VARIANTS))

$(ITD)/libver.so: $(ITS)/libver.c $(ITS)/libver.map
	@mkdir -p $(@D)
	$(CC) -O2 -g -fPIC -shared -Wl,--version-script=$(ITS)/libver.map -o $@ $<
$(ITD)/prog-ver: $(ITS)/prog_ver.c $(ITD)/libver.so
	$(CC) -O2 -g -o $@ $< -L$(ITD) -lver -Wl,-rpath,'$$ORIGIN'

FIXTURES += $(ITD)/libver.so $(ITD)/prog-ver

# A plugin found only through the program's own DT_RUNPATH ($ORIGIN/plugins):
# a dlopen by bare name must find it under the shim too.
$(ITD)/plugins/libplug.so: $(ITS)/libdyn.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -fPIC -shared -o $@ $<
$(ITD)/prog-runpath: $(ITS)/prog.c $(ITS)/libfix.h $(ITD)/libfix.so
	$(CC) -O2 -g -o $@ $< -L$(ITD) -lfix -Wl,--enable-new-dtags \
		-Wl,-rpath,'$$ORIGIN:$$ORIGIN/plugins' -ldl -lpthread

FIXTURES += $(ITD)/plugins/libplug.so $(ITD)/prog-runpath

$(ITD)/race: $(ITS)/race.c
	$(CC) -O2 -g -o $@ $< -lpthread

FIXTURES += $(ITD)/race

$(ITD)/ipara: $(ITS)/ipara.c
	$(CC) -O2 -fipa-ra -g -o $@ $<

FIXTURES += $(ITD)/ipara

$(ITD)/filedb: $(ITS)/filedb.c
	$(CC) -O2 -g -o $@ $<

FIXTURES += $(ITD)/filedb

# Hooked functions entered from any stack: misaligned calls (an assembly
# helper), signal handlers, sigaltstacks, new threads' first calls.
$(ITD)/sigstack: $(ITS)/sigstack.c tests/common/call_at.S tests/common/call_at.h
	@mkdir -p $(@D)
	$(CC) -O2 -g -I. -o $@ $(filter-out %.h,$^) -lpthread

FIXTURES += $(ITD)/sigstack

# fork() while a signal handler calls a hooked function (issue 16).
$(ITD)/forksig: $(ITS)/forksig.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -o $@ $<

FIXTURES += $(ITD)/forksig

# A signal handler that misses while the program is inside malloc (issue 16).
$(ITD)/sigmalloc: $(ITS)/sigmalloc.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -o $@ $< -lpthread

FIXTURES += $(ITD)/sigmalloc

# Hooked calls left by a C++ exception, longjmp or cancellation (issue 16).
$(ITD)/unwind: $(ITS)/unwind.cc
	@mkdir -p $(@D)
	g++ -O2 -g -o $@ $< -lpthread
$(ITD)/leave: $(ITS)/leave.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -o $@ $< -lpthread

FIXTURES += $(ITD)/unwind $(ITD)/leave

# A program that takes the statistics signal for itself (issue 16).
$(ITD)/ownsig: $(ITS)/ownsig.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -o $@ $<

FIXTURES += $(ITD)/ownsig

# Short-lived threads: the shim's per-thread blocks are reused (issue 16).
$(ITD)/threads: $(ITS)/threads.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -o $@ $< -lpthread

FIXTURES += $(ITD)/threads

# A library closed and opened again, in two builds (issue 16).
$(ITD)/libre.so: $(ITS)/libre.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -fPIC -shared -o $@ $<
$(ITD)/libre2.so: $(ITS)/libre.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -fPIC -shared -DFACTOR=2 -o $@ $<
$(ITD)/reload: $(ITS)/reload.c
	$(CC) -O2 -g -rdynamic -o $@ $< -ldl -lpthread

FIXTURES += $(ITD)/libre.so $(ITD)/libre2.so $(ITD)/reload

# A program with its own clock_gettime (-rdynamic exports it, as a
# preloaded libfaketime would): the shim's TTLs follow it.
$(ITD)/fakeclock: $(ITS)/fakeclock.c
	$(CC) -O2 -g -rdynamic -o $@ $< -ldl

FIXTURES += $(ITD)/fakeclock

# Hardening fixtures: a thread-safe library to memoize, a library calling
# it from its constructor (loaded before or after the shim), a constructor
# that starts threads, an exit racing threads, and a self-contained program
# the secure-mode test installs setuid, and an allocator that fails on
# request (the out-of-memory tests). The tests reuse the integration
# harness to run them.
HDD := $(B)/tests/hardening
HDS := tests/hardening/fixtures
HD_RPATH := -Wl,-rpath,'$$ORIGIN'

$(HDD)/libhard.so: $(HDS)/libhard.c $(HDS)/libhard.h
	@mkdir -p $(@D)
	$(CC) -O2 -g -fPIC -shared -o $@ $<
$(HDD)/libearly.so: $(HDS)/libearly.c $(HDD)/libhard.so
	$(CC) -O2 -g -fPIC -shared -o $@ $< -L$(HDD) -lhard $(HD_RPATH)
$(HDD)/libthreads.so: $(HDS)/libthreads.c $(HDD)/libhard.so
	$(CC) -O2 -g -fPIC -shared -Wl,-z,now -o $@ $< -L$(HDD) -lhard $(HD_RPATH) -lpthread
$(HDD)/early: $(HDS)/early.c $(HDD)/libhard.so
	$(CC) -O2 -g -o $@ $< -L$(HDD) -lhard $(HD_RPATH)
$(HDD)/early-needed: $(HDS)/early.c $(HDD)/libearly.so
	$(CC) -O2 -g -o $@ $< -L$(HDD) -Wl,--no-as-needed -learly -lhard $(HD_RPATH)
$(HDD)/ctor-threads: $(HDS)/ctor_threads.c $(HDD)/libthreads.so
	$(CC) -O2 -g -o $@ $< -L$(HDD) -Wl,--no-as-needed -lthreads -lhard $(HD_RPATH) -lpthread
$(HDD)/exit-race: $(HDS)/exit_race.c $(HDD)/libhard.so
	$(CC) -O2 -g -o $@ $< -L$(HDD) -lhard $(HD_RPATH) -lpthread
$(HDD)/libfailalloc.so: $(HDS)/failalloc.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -fPIC -shared -o $@ $< -ldl
$(HDD)/suid: $(HDS)/suid.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -o $@ $<

HD_FIXTURES := $(addprefix $(HDD)/,libhard.so libearly.so libthreads.so early early-needed \
	ctor-threads exit-race suid libfailalloc.so)
FIXTURES += $(HD_FIXTURES)
TEST_EXTRA_hardening += $(B)/tests/integration/helpers.o
$(B)/tests/test_hardening: $(HD_FIXTURES)

# Profile fixtures: a library of pure, impure and static-buffer functions,
# and a program calling them and crypt_r. The suites also cover the
# command's record reader and ranking.
PFD := $(B)/tests/profile
PFS := tests/profile/fixtures

$(PFD)/libprofix.so: $(PFS)/libprofix.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -fPIC -shared -o $@ $<
$(PFD)/prog-prof: $(PFS)/prog_prof.c $(PFD)/libprofix.so
	$(CC) -O2 -g -o $@ $< -L$(PFD) -lprofix -lcrypt -Wl,-rpath,'$$ORIGIN'

FIXTURES += $(PFD)/libprofix.so $(PFD)/prog-prof
TEST_EXTRA_profile := $(B)/cli/profile_rank.o $(B)/cli/known.o
$(PFD)/prog-adapt: $(PFS)/prog_adapt.c $(PFD)/libprofix.so
	$(CC) -O2 -g -o $@ $< -L$(PFD) -lprofix -Wl,-rpath,'$$ORIGIN'
FIXTURES += $(PFD)/prog-adapt
$(PFD)/libplug.so: $(PFS)/libplug.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -fPIC -shared -o $@ $< -lcrypt
$(PFD)/prog-dl: $(PFS)/prog_dl.c $(PFD)/libplug.so
	$(CC) -O2 -g -o $@ $< -ldl
FIXTURES += $(PFD)/libplug.so $(PFD)/prog-dl
$(PFD)/prog-fnptr: $(PFS)/prog_fnptr.c $(PFD)/libprofix.so
	$(CC) -O2 -g -fno-pie -no-pie -o $@ $< -L$(PFD) -lprofix -Wl,-rpath,'$$ORIGIN'
FIXTURES += $(PFD)/prog-fnptr
$(PFD)/prog-cycle: $(PFS)/prog_cycle.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -o $@ $<
FIXTURES += $(PFD)/prog-cycle

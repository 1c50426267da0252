# Hook tests: assembly fixtures linked into the test binary, and shared
# libraries for the GOT tests (one calling the other through its PLT,
# lazily bound and with full RELRO).
HOOK_FIX := $(B)/tests/hook
HOOK_LIBS := $(HOOK_FIX)/libgotfix.so $(HOOK_FIX)/libgotcall.so $(HOOK_FIX)/libgotcall_now.so

TEST_EXTRA_hook += $(HOOK_FIX)/fixtures.o $(B)/tests/common/call_at.o
FIXTURES += $(HOOK_LIBS)

$(B)/tests/test_hook: $(HOOK_LIBS)

$(HOOK_FIX)/libgotfix.so: tests/hook/lib/gotfix.c
	@mkdir -p $(@D)
	$(CC) -O2 -fPIC -shared -o $@ $<
$(HOOK_FIX)/libgotcall.so: tests/hook/lib/gotcall.c $(HOOK_FIX)/libgotfix.so
	$(CC) -O2 -fPIC -shared -Wl,-z,lazy -o $@ $< -L$(HOOK_FIX) -lgotfix -Wl,-rpath,'$$ORIGIN'
$(HOOK_FIX)/libgotcall_now.so: tests/hook/lib/gotcall.c $(HOOK_FIX)/libgotfix.so
	$(CC) -O2 -fPIC -shared -Wl,-z,now -Wl,-z,relro -o $@ $< -L$(HOOK_FIX) -lgotfix \
		-Wl,-rpath,'$$ORIGIN'
TEST_LDLIBS_hook += -Wl,--wrap=strdup -Wl,--wrap=lm_nearmem_alloc

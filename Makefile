# ldmemo: `make` builds libldmemo.so and the ldmemo command; `make test`
# runs every test; `make demo` shows it at work. Objects go under build/.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
SHIMDIR ?= $(LIBDIR)/ldmemo
INCDIR  ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/ldmemo
PCDIR   ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

CC      ?= gcc
B       := build
WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
CFLAGS  += $(WARN) -std=gnu11 -fPIC -D_GNU_SOURCE -MMD -MP -I.
# No jump of the call path may cross or end on a 32-byte boundary: Intel
# cores with the JCC erratum fix run such code from the legacy decoders.
JCC_gcc   := -Wa,-mbranches-within-32B-boundaries
JCC_clang := -mbranches-within-32B-boundaries
SHIM_ASFLAGS := $(if $(findstring clang,$(CC)),$(JCC_clang),$(JCC_gcc))
# xxHash is header-only in the shim: one shared object less to load at
# every start (issue 19).
SHIM_CFLAGS := -fvisibility=hidden -ftls-model=initial-exec -DXXH_INLINE_ALL= $(SHIM_ASFLAGS)
# libelf (and libz) and Zydis too: opened on first use
# (symtab/libelf_lazy.c, shim/arch/x86_64/zydis_lazy.c).
LIBS_SHIM := -ldl -lpthread
LIBS_CLI  := -lelf -ldw -lZydis -lZycore -lxxhash -ldl -lpthread
# Tests and fuzzers call libelf, Zydis and xxHash themselves.
LIBS_TEST := $(LIBS_SHIM) -lelf -lZydis -lxxhash

CONFIG_SRC := $(wildcard config/*.c)
SYMTAB_SRC := $(wildcard symtab/*.c)
# The shared-tier backends are plugins, loaded only when configured (see
# shim/tier/l2.c); what they share goes into each of them, not into the shim.
PLUGIN_SRC := $(addprefix shim/tier/,l2_redis.c l2_keymap.c l2_memcached.c l2_common.c)
# Strict mode's prototype check links libdw: a plugin too (shim/proto_load.c),
# and the command links its comparison.
PROTO_SRC  := $(addprefix shim/proto/,compare.c plugin.c)
SHIM_DIRS  := shim shim/base shim/arch/x86_64 shim/hook shim/plan shim/store shim/call \
	shim/tier shim/host shim/ops shim/profile
SHIM_SRC   := $(filter-out $(PLUGIN_SRC),$(foreach d,$(SHIM_DIRS),$(wildcard $(d)/*.c $(d)/*.S)))
CLI_SRC    := $(wildcard cli/*.c)

obj = $(patsubst %,$(B)/%.o,$(basename $(1)))

CONFIG_OBJ := $(call obj,$(CONFIG_SRC))
SYMTAB_OBJ := $(call obj,$(SYMTAB_SRC))
SHIM_OBJ   := $(call obj,$(SHIM_SRC))
PLUGIN_OBJ := $(call obj,$(PLUGIN_SRC))
PROTO_OBJ  := $(call obj,$(PROTO_SRC))
CLI_OBJ    := $(call obj,$(CLI_SRC))

SHIM_SO := $(B)/libldmemo.so
PLUGINS := $(B)/libldmemo-redis.so $(B)/libldmemo-memcached.so $(B)/libldmemo-proto.so
CLI_BIN := $(B)/ldmemo

.DELETE_ON_ERROR:
.PHONY: all deps test unit lint format demo bench install uninstall clean fixtures mutate
all: $(SHIM_SO) $(PLUGINS) $(CLI_BIN)

$(B)/config/%.o: config/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SHIM_CFLAGS) -c $< -o $@
$(B)/symtab/%.o: symtab/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SHIM_CFLAGS) -c $< -o $@
$(B)/shim/%.o: shim/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SHIM_CFLAGS) -c $< -o $@
# lm_thunk's quick path runs before the caller's vector registers are
# saved (shim/call/quick.c): its C code must not touch them.
QUICK_OBJ := $(addprefix $(B)/shim/,call/quick.o plan/quick.o plan/static_copy.o)
# Nor may it call anything: no loop turned into a call of memcpy.
$(QUICK_OBJ): SHIM_CFLAGS += -mgeneral-regs-only \
	$(if $(findstring clang,$(CC)),-fno-builtin,-fno-tree-loop-distribute-patterns)
$(B)/shim/%.o: shim/%.S
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SHIM_ASFLAGS) -c $< -o $@
$(B)/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DLM_KNOWN_DIR='"$(DATADIR)/known"' -c $< -o $@

$(B)/libconfig.a: $(CONFIG_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(B)/libsymtab.a: $(SYMTAB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(B)/libshim.a: $(SHIM_OBJ) $(PLUGIN_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# Each shim folder is an archive, linked after the wiring from the top
# layer down; after the link, scripts/layers.py checks that every symbol an
# object uses comes from its own folder or one scripts/layers.txt allows.
# ops goes in whole (the public API is called by no one inside); config
# and symtab come last, so the shim takes only the objects it uses (not the
# command's DWARF reader, for one).
SHIM_LAYERS := ops profile call host tier store plan hook arch/x86_64 base
WIRING_OBJ  := $(call obj,$(wildcard shim/*.c))
layer_obj    = $(filter $(B)/shim/$(1)/%,$(SHIM_OBJ))
layer_lib    = $(B)/shim/$(1)/lib$(notdir $(1)).a
define shim_layer
$(call layer_lib,$(1)): $(call layer_obj,$(1))
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach l,$(SHIM_LAYERS),$(eval $(call shim_layer,$(l))))
LAYER_LIBS := $(foreach l,$(SHIM_LAYERS),$(call layer_lib,$(l)))

# Packed relative relocations (DT_RELR, glibc 2.36): the loader reads a
# few words instead of one 24-byte entry per pointer at every start.
SHIM_LDFLAGS := -Wl,-z,pack-relative-relocs -Wl,-O1
$(SHIM_SO): $(WIRING_OBJ) $(LAYER_LIBS) $(PLUGIN_OBJ) $(B)/libconfig.a $(B)/libsymtab.a shim/ldmemo.map
	$(CC) -shared -Wl,--version-script=shim/ldmemo.map -Wl,-z,defs -Wl,-z,now -Wl,-z,relro \
		$(SHIM_LDFLAGS) \
		-o $@ $(WIRING_OBJ) -Wl,--whole-archive $(firstword $(LAYER_LIBS)) \
		-Wl,--no-whole-archive $(wordlist 2,99,$(LAYER_LIBS)) $(B)/libsymtab.a \
		$(B)/libconfig.a $(LIBS_SHIM)
	@python3 scripts/layers.py --objects $(B) $(WIRING_OBJ) $(SHIM_OBJ) $(PLUGIN_OBJ)

# The command links the shim's archive only for what `check` shares with it
# (the detour analysis); the linker takes just those objects.
PLUGIN_LDFLAGS := -shared -Wl,--version-script=shim/tier/l2_plugin.map -Wl,-z,defs -Wl,-z,now \
	-Wl,-z,relro
$(B)/libldmemo-redis.so: $(B)/shim/tier/l2_redis.o $(B)/shim/tier/l2_keymap.o $(B)/libshim.a shim/tier/l2_plugin.map
	$(CC) $(PLUGIN_LDFLAGS) -o $@ $(B)/shim/tier/l2_redis.o $(B)/shim/tier/l2_keymap.o $(B)/libshim.a \
		-lhiredis -lxxhash -lpthread
$(B)/libldmemo-memcached.so: $(B)/shim/tier/l2_memcached.o $(B)/libshim.a shim/tier/l2_plugin.map
	$(CC) $(PLUGIN_LDFLAGS) -o $@ $(B)/shim/tier/l2_memcached.o $(B)/libshim.a \
		-lmemcached -lxxhash -lpthread

$(B)/libldmemo-proto.so: $(PROTO_OBJ) $(B)/libsymtab.a $(B)/libconfig.a shim/proto/plugin.map
	$(CC) -shared -Wl,--version-script=shim/proto/plugin.map -Wl,-z,defs -Wl,-z,now \
		-Wl,-z,relro -o $@ $(PROTO_OBJ) $(B)/libsymtab.a $(B)/libconfig.a -ldw -lelf
	@python3 scripts/layers.py --objects $(B) $(PROTO_OBJ)

$(CLI_BIN): $(CLI_OBJ) $(B)/shim/proto/compare.o $(B)/libshim.a $(B)/libconfig.a $(B)/libsymtab.a
	$(CC) -o $@ $(CLI_OBJ) $(B)/shim/proto/compare.o $(B)/libshim.a $(B)/libconfig.a \
		$(B)/libsymtab.a $(LIBS_CLI)

# ---- Tests -------------------------------------------------------------------
# Each tests/<module>/ holds criterion suites linked into one binary per
# module; a module's fixtures are built by its own tests/<module>/module.mk.

TEST_LIBS := $(B)/libshim.a $(B)/libsymtab.a $(B)/libconfig.a
# Every tests/<dir> with criterion sources is a module; fuzz holds
# libFuzzer harnesses, not criterion suites. Integration runs last.
TEST_DIRS := $(sort $(patsubst tests/%/,%,$(dir $(wildcard tests/*/*.c))))
TEST_MODULES := $(filter-out fuzz integration,$(TEST_DIRS)) integration
TEST_BINS := $(patsubst %,$(B)/tests/test_%,$(TEST_MODULES))
FIXTURES :=

$(B)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@
$(B)/tests/%.o: tests/%.S
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# A module.mk may add fixture targets to FIXTURES, extra objects to
# TEST_EXTRA_<module> (assembly fixtures linked into the test binary) and
# libraries to TEST_LDLIBS_<module>.
-include $(wildcard tests/*/module.mk)

define test_bin
$(B)/tests/test_$(1): $(call obj,$(wildcard tests/$(1)/*.c)) $(TEST_EXTRA_$(1)) $(TEST_LIBS)
	$$(CC) -o $$@ $(call obj,$(wildcard tests/$(1)/*.c)) $(TEST_EXTRA_$(1)) $(TEST_LIBS) \
		-lcriterion $(LIBS_TEST) $(TEST_LDLIBS_$(1)) -rdynamic
endef
$(foreach m,$(TEST_MODULES),$(eval $(call test_bin,$(m))))

fixtures: $(FIXTURES)

deps:
	@scripts/deps.sh

unit: all $(TEST_BINS) fixtures
	@scripts/run-tests.sh $(TEST_BINS)

test: deps
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit

LINT_SRC = $(CONFIG_SRC) $(SYMTAB_SRC) $(filter %.c,$(SHIM_SRC) $(PLUGIN_SRC)) $(PROTO_SRC) \
	$(CLI_SRC) $(wildcard config/*.h symtab/*.h cli/*.h include/*.h shim/proto/*.h \
	$(addsuffix /*.h,$(SHIM_DIRS)))
lint:
	@scripts/lint.sh $(LINT_SRC)

format:
	clang-format -i $(LINT_SRC) $(wildcard tests/*/*.c tests/*/*.h)

demo: deps all
	@scripts/demo.sh

bench: deps all
	@scripts/bench.sh

# Planted bugs (tests/mutate/mutants.txt), each must fail a suite.
mutate: all
	@scripts/mutate.sh

# The functions of ldmemo.h come from the preloaded shim: the .pc file
# gives Cflags only.
$(B)/ldmemo.pc: ldmemo.pc.in config/defaults.h
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e "s|@VERSION@|$$(sed -n 's/^#define LDMEMO_VERSION \"\(.*\)\"/\1/p' config/defaults.h)|" $< > $@

install: all $(B)/ldmemo.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHIMDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(PCDIR)
	install -m 755 $(CLI_BIN) $(DESTDIR)$(BINDIR)/ldmemo
	install -m 755 $(SHIM_SO) $(PLUGINS) $(DESTDIR)$(SHIMDIR)/
	install -m 644 include/ldmemo.h $(DESTDIR)$(INCDIR)/ldmemo.h
	install -d $(DESTDIR)$(DATADIR)/known
	install -m 644 config/known/*.conf $(DESTDIR)$(DATADIR)/known/
	install -m 644 $(B)/ldmemo.pc $(DESTDIR)$(PCDIR)/ldmemo.pc
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 644 man/ldmemo.1 $(DESTDIR)$(MANDIR)/man1/ldmemo.1
	install -m 644 man/ldmemo.conf.5 $(DESTDIR)$(MANDIR)/man5/ldmemo.conf.5
	install -m 644 man/libldmemo.7 $(DESTDIR)$(MANDIR)/man7/libldmemo.7
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 completion/ldmemo.bash $(DESTDIR)$(BASHCOMPDIR)/ldmemo

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ldmemo $(DESTDIR)$(SHIMDIR)/libldmemo*.so \
		$(DESTDIR)$(INCDIR)/ldmemo.h $(DESTDIR)$(PCDIR)/ldmemo.pc \
		$(DESTDIR)$(DATADIR)/known/*.conf \
		$(DESTDIR)$(MANDIR)/man1/ldmemo.1 $(DESTDIR)$(MANDIR)/man5/ldmemo.conf.5 \
		$(DESTDIR)$(MANDIR)/man7/libldmemo.7 $(DESTDIR)$(BASHCOMPDIR)/ldmemo

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# Fuzzing (scripts/fuzz.sh): libFuzzer binaries, one per target of
# targets.h, built by clang into their own build tree (B=build/fuzz, the
# sanitizer and coverage flags passed in CFLAGS). The targets' objects also
# go into the hardening tests, which replay the corpora and every crash.
FUZZ_TARGETS := config rules plan elf
FUZZ_OBJ := $(call obj,$(wildcard tests/fuzz/target_*.c))
FUZZ_BINS := $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_TARGETS))

$(FUZZ_BINS): $(B)/fuzz/fuzz_%: tests/fuzz/entry.c $(FUZZ_OBJ) $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -fsanitize=fuzzer -I. -DLM_FUZZ_TARGET=lm_fuzz_$* -o $@ $< $(FUZZ_OBJ) \
		$(TEST_LIBS) $(LIBS_TEST)

TEST_EXTRA_hardening += $(FUZZ_OBJ)

.PHONY: fuzz fuzz-smoke fuzz-bins sanitize
fuzz-bins: $(FUZZ_BINS)
fuzz:
	@scripts/fuzz.sh
fuzz-smoke:
	@scripts/fuzz.sh --smoke
sanitize:
	@scripts/sanitize.sh

# The differential fuzzer (tests/fuzz/diff): its own libFuzzer binary and
# fixture library, run under the normal build's libldmemo.so (scripts/fuzz.sh
# passes DIFF_SHIM). The fixture is built without the sanitizers: the shim
# patches its code, and a direct call must run the very same instructions.
$(B)/fuzz/diff/libdiff.so: tests/fuzz/diff/difflib.c tests/fuzz/diff/difflib.h
	@mkdir -p $(@D)
	$(CC) -O1 -g -fPIC -shared -fvisibility=hidden -o $@ $< -lm
$(B)/fuzz/fuzz_diff: tests/fuzz/diff/diff.c tests/fuzz/diff/difflib.h $(B)/fuzz/diff/libdiff.so
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -fsanitize=fuzzer -I. -o $@ $< \
		-L$(B)/fuzz/diff -ldiff -Wl,-rpath,'$$ORIGIN/diff' -ldl -lm -rdynamic

# DWARF fixtures: one library built with -g, the same stripped with its
# debug information in a separate file found through .gnu_debuglink, the
# same stripped with the debug file under a build-id tree, and one built
# without -g. The tests also run build/ldmemo.

DWARF_FIX := $(B)/tests/dwarf
DWARF_FIXTURES := $(DWARF_FIX)/libdwfix.so $(DWARF_FIX)/libdwsplit.so \
	$(DWARF_FIX)/libdwbid.so $(DWARF_FIX)/libdwnone.so
FIXTURES += $(DWARF_FIXTURES)
TEST_LDLIBS_dwarf := -ldw

# -O0: every function is large enough to be hookable, so `check` exit
# codes speak only of DWARF.
$(DWARF_FIX)/libdwfix.so: tests/dwarf/fixtures/dwlib.c tests/dwarf/fixtures/dwasm.S
	@mkdir -p $(@D)
	$(CC) -O0 -g -fPIC -shared -Wl,--build-id -o $@ $^

$(DWARF_FIX)/libdwnone.so: tests/dwarf/fixtures/dwlib.c
	@mkdir -p $(@D)
	$(CC) -O0 -fPIC -shared -o $@ $<

$(DWARF_FIX)/libdwsplit.so: $(DWARF_FIX)/libdwfix.so
	cd $(@D) && objcopy --only-keep-debug libdwfix.so libdwsplit.debug && \
		objcopy --strip-debug --add-gnu-debuglink=libdwsplit.debug libdwfix.so libdwsplit.so

# The debug file under debugroot/.build-id/xx/rest.debug, as
# /usr/lib/debug holds them; no debuglink, so only the build-id finds it.
$(DWARF_FIX)/libdwbid.so: $(DWARF_FIX)/libdwfix.so
	id=$$(readelf -n $< | awk '/Build ID/ {print $$3}') && test -n "$$id" && \
		dir=$(DWARF_FIX)/debugroot/.build-id/$$(echo $$id | cut -c1-2) && \
		mkdir -p $$dir && \
		objcopy --only-keep-debug $< $$dir/$$(echo $$id | cut -c3-).debug && \
		objcopy --strip-debug $< $@

$(B)/tests/test_dwarf: | $(DWARF_FIXTURES) $(CLI_BIN)

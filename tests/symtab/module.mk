# Fixture objects for the symtab tests: shared libraries and programs with
# the symbol shapes symtab must handle, built with gcc from
# tests/symtab/fixtures/. The programs find libfix.so through $ORIGIN.

SYMTAB_FIX := $(B)/tests/symtab
SYMTAB_FIXTURES := $(SYMTAB_FIX)/libfix.so $(SYMTAB_FIX)/libfixver.so \
	$(SYMTAB_FIX)/fix_pie $(SYMTAB_FIX)/fix_nopie $(SYMTAB_FIX)/fix_stripped
FIXTURES += $(SYMTAB_FIXTURES)

$(SYMTAB_FIX)/libfix.so: tests/symtab/fixtures/fix_lib.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -fPIC -shared -Wl,-soname,libfix.so -o $@ $<

$(SYMTAB_FIX)/libfixver.so: tests/symtab/fixtures/fix_ver.c tests/symtab/fixtures/fix_ver.map
	@mkdir -p $(@D)
	$(CC) -O0 -g -fPIC -shared -Wl,-soname,libfixver.so \
		-Wl,--version-script=tests/symtab/fixtures/fix_ver.map -o $@ $<

$(SYMTAB_FIX)/fix_pie: tests/symtab/fixtures/fix_exe.c $(SYMTAB_FIX)/libfix.so
	$(CC) -O1 -g -fPIE -pie -o $@ $< -L$(SYMTAB_FIX) -lfix -Wl,-rpath,'$$ORIGIN'

$(SYMTAB_FIX)/fix_nopie: tests/symtab/fixtures/fix_exe.c $(SYMTAB_FIX)/libfix.so
	$(CC) -O1 -g -fno-pie -no-pie -o $@ $< -L$(SYMTAB_FIX) -lfix -Wl,-rpath,'$$ORIGIN'

$(SYMTAB_FIX)/fix_stripped: $(SYMTAB_FIX)/fix_pie
	strip --strip-all -o $@ $<

$(B)/tests/test_symtab: | $(SYMTAB_FIXTURES)

# The specification's example config, checked against a program that has
# every function it names.
$(SYMTAB_FIX)/userdb/libuserdb.so: tests/symtab/fixtures/userdb.c
	@mkdir -p $(@D)
	$(CC) -O1 -g -fPIC -shared -Wl,-soname,libuserdb.so -o $@ $<
$(SYMTAB_FIX)/userdb/app: tests/symtab/fixtures/app.c $(SYMTAB_FIX)/userdb/libuserdb.so
	$(CC) -O1 -g -o $@ $< -L$(SYMTAB_FIX)/userdb -luserdb -lcrypt -Wl,-rpath,'$$ORIGIN'

SYMTAB_FIXTURES += $(SYMTAB_FIX)/userdb/libuserdb.so $(SYMTAB_FIX)/userdb/app
FIXTURES += $(SYMTAB_FIX)/userdb/libuserdb.so $(SYMTAB_FIX)/userdb/app

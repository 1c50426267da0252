# Fixture objects for the symtab tests: shared libraries and programs with
# the symbol shapes symtab must handle, built with gcc from
# tests/symtab/fixtures/. The programs find libfix.so through $ORIGIN.

SYMTAB_FIX := $(B)/tests/symtab
SYMTAB_FIXTURES := $(SYMTAB_FIX)/libfix.so $(SYMTAB_FIX)/libfixver.so \
	$(SYMTAB_FIX)/fix_pie $(SYMTAB_FIX)/fix_nopie $(SYMTAB_FIX)/fix_stripped \
	$(SYMTAB_FIX)/libfixstripped.so
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

$(SYMTAB_FIX)/libfixstripped.so: $(SYMTAB_FIX)/libfix.so
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

# One library behind each hash table (.gnu.hash, DT_HASH), a versioned one
# with DT_HASH only, and one with 20,000 local functions: the live lookup
# must find exported names without the file and scan .symtab without an
# index of its symbols.
$(SYMTAB_FIX)/libhash_gnu.so: tests/symtab/fixtures/fix_hash.c
	@mkdir -p $(@D)
	$(CC) -O1 -g -fPIC -shared -Wl,--hash-style=gnu -Wl,-soname,libhash_gnu.so -o $@ $<
$(SYMTAB_FIX)/libhash_sysv.so: tests/symtab/fixtures/fix_hash.c
	@mkdir -p $(@D)
	$(CC) -O1 -g -fPIC -shared -Wl,--hash-style=sysv -Wl,-soname,libhash_sysv.so -o $@ $<
$(SYMTAB_FIX)/libfixver_sysv.so: tests/symtab/fixtures/fix_ver.c tests/symtab/fixtures/fix_ver.map
	@mkdir -p $(@D)
	$(CC) -O0 -g -fPIC -shared -Wl,--hash-style=sysv -Wl,-soname,libfixver_sysv.so \
		-Wl,--version-script=tests/symtab/fixtures/fix_ver.map -o $@ $<
$(SYMTAB_FIX)/libmanylocal.so: tests/symtab/module.mk
	@mkdir -p $(@D)
	awk 'BEGIN { print ".text"; for (i = 0; i < 20000; i++) \
		printf ".type m%05d, @function\nm%05d:\n\tret\n.size m%05d, 1\n", i, i, i; \
		print ".globl many_exported\n.type many_exported, @function\nmany_exported:\n\tret\n.size many_exported, 1" }' \
		>$(SYMTAB_FIX)/manylocal.s
	$(CC) -shared -o $@ $(SYMTAB_FIX)/manylocal.s

SYMTAB_FIXTURES += $(SYMTAB_FIX)/libhash_gnu.so $(SYMTAB_FIX)/libhash_sysv.so \
	$(SYMTAB_FIX)/libfixver_sysv.so $(SYMTAB_FIX)/libmanylocal.so
FIXTURES += $(SYMTAB_FIX)/libhash_gnu.so $(SYMTAB_FIX)/libhash_sysv.so \
	$(SYMTAB_FIX)/libfixver_sysv.so $(SYMTAB_FIX)/libmanylocal.so

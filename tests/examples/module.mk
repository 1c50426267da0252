# The example user service (examples/userdb) built for the tests: the same
# rules as `make demo` uses, into build/tests/examples/.
include examples/examples.mk
$(eval $(call ex_userdb_rules,$(B)/tests/examples))

FIXTURES += $(B)/tests/examples/libuserdb.so $(B)/tests/examples/replay $(B)/tests/examples/gen

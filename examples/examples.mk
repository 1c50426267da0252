# Build rules for the examples, usable on their own
#   make -f examples/examples.mk build/examples/replay build/examples/gen
# or included by a test module, which calls ex_userdb_rules for its own
# directory. Defines no default goal, so including it changes nothing else.

EX_CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE

# $(call ex_userdb_rules,DIR): libuserdb.so, replay and gen in DIR; replay
# finds the library next to itself (rpath $ORIGIN).
define ex_userdb_rules
$(1)/libuserdb.so: examples/userdb/libuserdb.c examples/userdb/userdb.h
	@mkdir -p $$(@D)
	$$(CC) $$(EX_CFLAGS) -fPIC -shared -o $$@ $$< -lsqlite3 -lpthread
$(1)/replay: examples/userdb/replay.c examples/userdb/userdb.h $(1)/libuserdb.so
	$$(CC) $$(EX_CFLAGS) -o $$@ $$< -L$(1) -luserdb -Wl,-rpath,'$$$$ORIGIN'
$(1)/gen: examples/userdb/gen.c
	@mkdir -p $$(@D)
	$$(CC) $$(EX_CFLAGS) -o $$@ $$< -lsqlite3 -lm
endef

$(eval $(call ex_userdb_rules,build/examples))

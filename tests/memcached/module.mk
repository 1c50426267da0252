# The memcached backend's tests link it in (the shim loads it as a plugin),
# start their own memcached servers, and run the integration fixtures as
# separate processes with the integration harness.
TEST_EXTRA_memcached := $(B)/tests/integration/helpers.o $(B)/tests/integration/helpers_tier.o $(B)/shim/tier/l2_memcached.o
TEST_LDLIBS_memcached := -lmemcached

# The memcached backend's tests start their own memcached servers, and run
# the integration fixtures as separate processes with the integration
# harness.
TEST_EXTRA_memcached := $(B)/tests/integration/harness.o

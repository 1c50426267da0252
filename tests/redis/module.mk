# The shared-tier tests also run the integration fixtures as separate
# processes, with the integration harness.
TEST_EXTRA_redis := $(B)/tests/integration/harness.o
TEST_LDLIBS_redis := -lhiredis

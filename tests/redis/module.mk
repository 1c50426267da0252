# The shared-tier tests link the Redis backend in (the shim loads it as a
# plugin), and also run the integration fixtures as separate processes,
# with the integration harness.
TEST_EXTRA_redis := $(B)/tests/integration/harness.o $(B)/tests/integration/tier.o $(B)/shim/l2_redis.o $(B)/shim/l2_keymap.o
TEST_LDLIBS_redis := -lhiredis

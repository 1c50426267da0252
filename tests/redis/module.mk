# The shared-tier tests link the Redis backend in (the shim loads it as a
# plugin), and also run the integration fixtures as separate processes,
# with the integration harness.
TEST_EXTRA_redis := $(B)/tests/integration/helpers.o $(B)/tests/integration/helpers_tier.o $(B)/shim/tier/l2_redis.o $(B)/shim/tier/l2_keymap.o
TEST_LDLIBS_redis := -lhiredis

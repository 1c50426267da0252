# The host tier's suites: its table alone, and processes under the shim
# sharing it (with the integration harness and fixtures).
HTD := $(B)/tests/host
HTS := tests/host/fixtures
TEST_EXTRA_host := $(B)/tests/integration/helpers.o

$(HTD)/hammer: $(HTS)/hammer.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -o $@ $< -lpthread

FIXTURES += $(HTD)/hammer

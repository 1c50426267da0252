# The stats tests also cover the command's JSON dump reader.
TEST_EXTRA_stats := $(B)/cli/json.o $(B)/cli/dump.o

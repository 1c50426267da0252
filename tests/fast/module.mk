# Fast-thunk tests: the register harness is assembly; the fixtures are
# compiled like the rest of the test binary (-rdynamic exports them).
TEST_EXTRA_fast += $(B)/tests/fast/regs.o $(B)/tests/common/call_at.o

/* libFuzzer's entry point, built once per target with
 * -DLM_FUZZ_TARGET=lm_fuzz_<target>. */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A target returns -1 when an invariant it checks failed. */
	if (LM_FUZZ_TARGET(data, size) != 0)
		__builtin_trap();
	return 0;
}

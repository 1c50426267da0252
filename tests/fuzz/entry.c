/* libFuzzer's entry point, built once per target with
 * -DLM_FUZZ_TARGET=lm_fuzz_<target>. */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	LM_FUZZ_TARGET(data, size);
	return 0;
}

/* Zydis through dlopen, on the first decode: linked, it would be loaded
 * into every process the shim starts in, though only a detour needs it
 * (issue 19). These definitions take the place of the library's for the
 * shim's callers (insn.c, hook/disasm_log.c); without libZydis every
 * decode fails, so a detour is refused and GOT mode remains. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

#include <Zydis/Zydis.h>

/* The SONAME of the Zydis 4 the headers describe. */
_Static_assert(ZYDIS_VERSION_MAJOR(ZYDIS_VERSION) == 4,
               "zydis_lazy.c names libZydis.so.4.0: update the SONAME");
#define LM_ZYDIS_SONAME "libZydis.so.4.0"

#define LM_ZYDIS_FUNCS(X)                  \
	X(ZydisDecoderInit)                \
	X(ZydisDecoderDecodeFull)          \
	X(ZydisFormatterInit)              \
	X(ZydisFormatterFormatInstruction) \
	X(ZydisMnemonicGetString)

#define LM_ZYDIS_MEMBER(f) __typeof__(f) *(f);
static struct {
	LM_ZYDIS_FUNCS(LM_ZYDIS_MEMBER)
} real;
#undef LM_ZYDIS_MEMBER

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool found;

static void open_zydis(void)
{
	/* Never closed: hooks are prepared until the process ends. */
	void *h = dlopen(LM_ZYDIS_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return;
#define LM_ZYDIS_FIND(f)                               \
	if (!(real.f = (__typeof__(f) *)dlsym(h, #f))) \
		return;
	LM_ZYDIS_FUNCS(LM_ZYDIS_FIND)
#undef LM_ZYDIS_FIND
	found = true;
}

static bool loaded(void)
{
	pthread_once(&once, open_zydis);
	return found;
}

ZyanStatus ZydisDecoderInit(ZydisDecoder *decoder, ZydisMachineMode machine_mode,
                            ZydisStackWidth stack_width)
{
	return loaded() ? real.ZydisDecoderInit(decoder, machine_mode, stack_width)
	                : ZYAN_STATUS_FAILED;
}

ZyanStatus ZydisDecoderDecodeFull(const ZydisDecoder *decoder, const void *buffer, ZyanUSize length,
                                  ZydisDecodedInstruction *instruction,
                                  ZydisDecodedOperand operands[ZYDIS_MAX_OPERAND_COUNT])
{
	return loaded()
	           ? real.ZydisDecoderDecodeFull(decoder, buffer, length, instruction, operands)
	           : ZYAN_STATUS_FAILED;
}

ZyanStatus ZydisFormatterInit(ZydisFormatter *formatter, ZydisFormatterStyle style)
{
	return loaded() ? real.ZydisFormatterInit(formatter, style) : ZYAN_STATUS_FAILED;
}

ZyanStatus ZydisFormatterFormatInstruction(const ZydisFormatter *formatter,
                                           const ZydisDecodedInstruction *instruction,
                                           const ZydisDecodedOperand *operands,
                                           ZyanU8 operand_count, char *buffer, ZyanUSize length,
                                           ZyanU64 runtime_address, void *user_data)
{
	return loaded() ? real.ZydisFormatterFormatInstruction(formatter, instruction, operands,
	                                                       operand_count, buffer, length,
	                                                       runtime_address, user_data)
	                : ZYAN_STATUS_FAILED;
}

const char *ZydisMnemonicGetString(ZydisMnemonic mnemonic)
{
	return loaded() ? real.ZydisMnemonicGetString(mnemonic) : "(no libZydis)";
}

/* lm_hook_describe: the original entry, the patch and the trampoline of a
 * hook, disassembled one instruction per line, for LDMEMO_LOG=debug. */
#include "shim/hook/hook_record.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <Zydis/Zydis.h>

struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->pos >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos = o->pos + (size_t)n < o->len ? o->pos + (size_t)n : o->len - 1;
}

static void put_bytes(struct out *o, uintptr_t at, const unsigned char *p, unsigned n,
                      const char *text)
{
	char hex[3 * 16 + 1] = "";

	for (unsigned i = 0; i < n && i < 16; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", p[i]);
	put(o, "  %016lx  %-30s %s\n", (unsigned long)at, hex, text);
}

/* Disassemble LEN bytes of CODE shown at runtime address AT. The absolute
 * jumps and calls we emit keep their target address inline: print it as
 * data rather than decode it. */
static void listing(struct out *o, const unsigned char *code, unsigned len, uintptr_t at)
{
	ZydisDecoder dec;
	ZydisFormatter fmt;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	unsigned pos = 0;

	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_ATT);
	while (pos < len) {
		char text[96];
		unsigned data = 0;

		if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code + pos, len - pos, &in, ops))) {
			put_bytes(o, at + pos, code + pos, 1, "(bad)");
			pos++;
			continue;
		}
		ZydisFormatterFormatInstruction(&fmt, &in, ops, in.operand_count_visible, text,
		                                sizeof(text), at + pos, NULL);
		put_bytes(o, at + pos, code + pos, in.length, text);
		if (pos + 6 <= len && memcmp(code + pos, "\xff\x25\0\0\0\0", 6) == 0)
			data = 8; /* jmp *0(%rip) */
		if (pos >= 6 && memcmp(code + pos - 6, "\xff\x15\x02\0\0\0\xeb\x08", 8) == 0)
			data = 8; /* call *2(%rip); jmp +8 */
		pos += in.length;
		if (data && pos + data <= len) {
			uint64_t v;

			memcpy(&v, code + pos, 8);
			snprintf(text, sizeof(text), ".quad 0x%llx", (unsigned long long)v);
			put_bytes(o, at + pos, code + pos, data, text);
			pos += data;
		}
	}
}

size_t lm_hook_describe(const struct lm_hook *h, char *buf, size_t len)
{
	struct out o = {buf, len, 0};

	if (!buf || !len)
		return 0;
	*buf = 0;
	if (!h)
		return 0;
	if (h->info.mode == LM_HM_GOT) {
		put(&o, "got: %u slots point at the stub, original 0x%lx\n", h->info.nslots,
		    (unsigned long)h->def);
	} else {
		put(&o, "original entry:\n");
		listing(&o, h->orig, h->orig_len, h->def);
		put(&o, "patched:\n");
		listing(&o, h->info.new_bytes, h->info.patch_len, h->def + h->plan.skip);
		put(&o, "trampoline:\n");
		listing(&o, h->tramp, h->tramp_len, (uintptr_t)h->tramp);
	}
	put(&o, "stub:\n");
	listing(&o, h->stub, h->stub_len, (uintptr_t)h->stub);
	return o.pos;
}

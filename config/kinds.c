/* Facts about the kinds of parameters, returns and fields. */
#include "config.h"

size_t lm_kind_width(enum lm_kind k)
{
	switch (k) {
	case LM_K_I8:
	case LM_K_U8:
	case LM_K_BOOL:
		return 1;
	case LM_K_I16:
	case LM_K_U16:
		return 2;
	case LM_K_I32:
	case LM_K_U32:
	case LM_K_F32:
		return 4;
	case LM_K_I64:
	case LM_K_U64:
	case LM_K_F64:
		return 8;
	default:
		return 0;
	}
}

bool lm_kind_is_int(enum lm_kind k)
{
	return (k >= LM_K_I8 && k <= LM_K_U64) || k == LM_K_BOOL;
}

bool lm_kind_is_signed(enum lm_kind k)
{
	return k >= LM_K_I8 && k <= LM_K_I64;
}

bool lm_kind_is_float(enum lm_kind k)
{
	return k == LM_K_F32 || k == LM_K_F64;
}

const char *lm_kind_name(enum lm_kind k)
{
	static const char *const names[] = {
	    [LM_K_VOID] = "void",     [LM_K_I8] = "i8",       [LM_K_I16] = "i16",
	    [LM_K_I32] = "i32",       [LM_K_I64] = "i64",     [LM_K_U8] = "u8",
	    [LM_K_U16] = "u16",       [LM_K_U32] = "u32",     [LM_K_U64] = "u64",
	    [LM_K_BOOL] = "bool",     [LM_K_F32] = "f32",     [LM_K_F64] = "f64",
	    [LM_K_STR] = "str",       [LM_K_BUF] = "buf",     [LM_K_PTR] = "ptr",
	    [LM_K_IGNORE] = "ignore", [LM_K_OUT] = "out",     [LM_K_STRV] = "strv",
	    [LM_K_BYTES] = "bytes",   [LM_K_STRUCT] = "TYPE", [LM_K_STRUCT_PTR] = "TYPE*",
	};
	if ((unsigned)k < sizeof(names) / sizeof(names[0]) && names[k])
		return names[k];
	return "?";
}

bool lm_param_in_key(const struct lm_param *p)
{
	return p->kind != LM_K_IGNORE;
}

bool lm_param_is_drop_key(const struct lm_param *p)
{
	return p->kind != LM_K_IGNORE && p->kind != LM_K_OUT;
}

const char *lm_kind_class(enum lm_kind k)
{
	if (lm_kind_is_int(k))
		return "integer";
	if (lm_kind_is_float(k))
		return "float";
	return lm_kind_name(k);
}

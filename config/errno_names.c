/* errno names accepted as literals in `when` (spec 3.4), with the values of
 * this libc's <errno.h>. */
#include <errno.h>
#include <string.h>

#include "parse_internal.h"

#define E(x)          \
	{             \
#x, x \
	}

static const struct {
	const char *name;
	int value;
} names[] = {
    E(EPERM),        E(ENOENT),          E(ESRCH),           E(EINTR),
    E(EIO),          E(ENXIO),           E(E2BIG),           E(ENOEXEC),
    E(EBADF),        E(ECHILD),          E(EAGAIN),          E(EWOULDBLOCK),
    E(ENOMEM),       E(EACCES),          E(EFAULT),          E(EBUSY),
    E(EEXIST),       E(EXDEV),           E(ENODEV),          E(ENOTDIR),
    E(EISDIR),       E(EINVAL),          E(ENFILE),          E(EMFILE),
    E(ENOTTY),       E(ETXTBSY),         E(EFBIG),           E(ENOSPC),
    E(ESPIPE),       E(EROFS),           E(EMLINK),          E(EPIPE),
    E(EDOM),         E(ERANGE),          E(EDEADLK),         E(ENAMETOOLONG),
    E(ENOLCK),       E(ENOSYS),          E(ENOTEMPTY),       E(ELOOP),
    E(ENOMSG),       E(EIDRM),           E(ENOSTR),          E(ENODATA),
    E(ETIME),        E(ENOSR),           E(ENOLINK),         E(EPROTO),
    E(EBADMSG),      E(EOVERFLOW),       E(EILSEQ),          E(EUSERS),
    E(ENOTSOCK),     E(EDESTADDRREQ),    E(EMSGSIZE),        E(EPROTOTYPE),
    E(ENOPROTOOPT),  E(EPROTONOSUPPORT), E(EOPNOTSUPP),      E(ENOTSUP),
    E(EAFNOSUPPORT), E(EADDRINUSE),      E(EADDRNOTAVAIL),   E(ENETDOWN),
    E(ENETUNREACH),  E(ENETRESET),       E(ECONNABORTED),    E(ECONNRESET),
    E(ENOBUFS),      E(EISCONN),         E(ENOTCONN),        E(ESHUTDOWN),
    E(ETIMEDOUT),    E(ECONNREFUSED),    E(EHOSTDOWN),       E(EHOSTUNREACH),
    E(EALREADY),     E(EINPROGRESS),     E(ESTALE),          E(EDQUOT),
    E(ECANCELED),    E(EOWNERDEAD),      E(ENOTRECOVERABLE), E(ENOMEDIUM),
    E(EMEDIUMTYPE),  E(ENOKEY),          E(EKEYEXPIRED),     E(EKEYREVOKED),
    E(EKEYREJECTED),
};

bool lm_errno_lookup(const char *s, size_t n, int *value)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == n && memcmp(names[i].name, s, n) == 0) {
			*value = names[i].value;
			return true;
		}
	}
	return false;
}

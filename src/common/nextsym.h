/*
 * nextsym.h - the definition an interposed function passes its calls to.
 *
 * A few modules define a function of libc, Sofia or OpenSSL under its own
 * name (recvmsg, close, accept4, inet_ntop, SSL_read, tport_close...), so
 * that every caller in the process, the libraries included, reaches ours;
 * ours then calls the next definition in link order, dlsym(RTLD_NEXT).
 * That lookup is made at the first call, by whichever thread makes it, and
 * more than one thread may (the archive writer closes files while the loop
 * closes sockets). Both store the same pointer, but a plain static written
 * by two threads is a data race (undefined behaviour in C11); the cache
 * here is atomic, so the race is a defined one.
 *
 * All callers are linked into the same executable as this module, which
 * is what RTLD_NEXT needs: "next" is counted from the object that calls
 * dlsym().
 */
#ifndef E2M_COMMON_NEXTSYM_H
#define E2M_COMMON_NEXTSYM_H

#include <stdatomic.h>

/* Any function; the caller converts to the real type (a conversion
 * between function pointer types, which C allows). */
typedef void nextsym_fn(void);

typedef _Atomic(nextsym_fn *) nextsym_cache;

/* The next definition of NAME, looked up once into *CACHE (a static
 * initialised to NULL); NULL with errno ENOSYS when there is none. */
nextsym_fn *nextsym(nextsym_cache *cache, const char *name);

#endif

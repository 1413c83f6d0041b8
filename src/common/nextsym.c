/* nextsym.c - the next definition of an interposed function (nextsym.h). */
#include "common/nextsym.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

nextsym_fn *
nextsym(nextsym_cache *cache, const char *name)
{
	nextsym_fn *fn = atomic_load_explicit(cache, memory_order_acquire);

	if (fn != NULL)
		return fn;
	/* dlsym() hands back an object pointer; POSIX says it converts to
	 * the function's, which ISO C does not spell: copy the bits. */
	*(void **)&fn = dlsym(RTLD_NEXT, name);
	if (fn == NULL) {
		errno = ENOSYS;
		return NULL;
	}
	atomic_store_explicit(cache, fn, memory_order_release);
	return fn;
}

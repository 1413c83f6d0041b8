/* version.h - the version string, from configure. */
#ifndef VERSION_H
#define VERSION_H

#include "config.h"

#define E2M_VERSION PACKAGE_VERSION

/* What e2mproxyd -V names as its malloc (configure --with-jemalloc). */
#ifdef HAVE_JEMALLOC
#define E2M_ALLOCATOR "jemalloc"
#else
#define E2M_ALLOCATOR "the C library's malloc"
#endif

#endif /* VERSION_H */

/* version.h - the version string, from configure. */
#ifndef VERSION_H
#define VERSION_H

#include "config.h"

#define E2M_VERSION PACKAGE_VERSION

#endif /* VERSION_H */

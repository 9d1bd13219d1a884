#include "BuildInfo.h"

#ifndef HELIOS_REVISION
#define HELIOS_REVISION "development build"
#endif

const char *helios_build_revision(void) { return HELIOS_REVISION; }

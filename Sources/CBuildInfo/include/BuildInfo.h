#ifndef HELIOS_BUILD_INFO_H
#define HELIOS_BUILD_INFO_H

/// The git revision the binary was built from: `make cli` and `make release` pass it as
/// -DHELIOS_REVISION="…"; other builds say "development build".
const char *helios_build_revision(void);

#endif

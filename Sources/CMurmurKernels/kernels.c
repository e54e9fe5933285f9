#include "murmur_kernels.h"
int murmur_kernels_version(void) { return 1; }

/* See include/murmur_allocator.h. */
#include "murmur_allocator.h"

#include <stdlib.h> /* defines __GLIBC__ (via features.h) where glibc is the C library */

#if defined(__GLIBC__)
#include <malloc.h>
int murmur_tune_allocator(void) {
    int ok = mallopt(M_MMAP_THRESHOLD, 4 << 20);
    ok &= mallopt(M_TRIM_THRESHOLD, 64 << 20);
    return ok;
}
#else
int murmur_tune_allocator(void) { return 0; }
#endif

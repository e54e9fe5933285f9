#ifndef MURMUR_ALLOCATOR_H
#define MURMUR_ALLOCATOR_H
#ifdef __cplusplus
extern "C" {
#endif

/* Tunes glibc malloc for Murmur's data paths (no-op elsewhere): allocations up to 4 MiB come
 * from the heap instead of fresh mmaps, and up to 64 MiB of freed heap is kept per arena, so
 * buffers of 64 KiB–1 MiB that are allocated and freed in a loop do not page-fault every time.
 * Call once at process start (the `murmur` command does). Returns 1 when applied. */
int murmur_tune_allocator(void);

#ifdef __cplusplus
}
#endif
#endif

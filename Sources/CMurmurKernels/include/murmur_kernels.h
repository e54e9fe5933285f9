#ifndef MURMUR_KERNELS_H
#define MURMUR_KERNELS_H
/* Placeholder; the AVX2/FMA GEMM micro-kernels are declared here. */
int murmur_kernels_version(void);
#endif

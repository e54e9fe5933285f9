/* libFuzzer's driver entry point (compiler-rt FuzzerInterface.h). SwiftPM links executables
 * with `--defsym main=<module>_main`, which -parse-as-library never emits, so murmur-fuzz
 * defines `murmur_fuzz_main` and hands control to libFuzzer through this call. */
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

// libFuzzer's driver entry point (compiler-rt, linked by -sanitize=fuzzer). SwiftPM names an
// executable's entry point <Module>_main and points `main` at it, so libFuzzer's own main is not
// used; each target's <Module>_main calls this driver with its callback instead.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

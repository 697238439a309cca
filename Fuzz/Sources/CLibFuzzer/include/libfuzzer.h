#pragma once
#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry for programs with a main of their own (llvm/compiler-rt FuzzerInterface.h); the
// runtime that `-sanitize=fuzzer` links defines it.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

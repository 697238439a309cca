#!/usr/bin/env bash
# Runs the sanitized test command given as arguments (see `make sanitize`), keeps its whole output in
# .build-asan/sanitize.log and ends with what the sanitizers said. UBSan reports and goes on
# (halt_on_error=0) so one run lists them all; ASan stops at its first error, as it must.
set -uo pipefail
cd "$(dirname "$0")/.."
log=.build-asan/sanitize.log
mkdir -p .build-asan
# Swift's crash backtracer reads the crashed process's memory wholesale, which ASan reports as a
# heap-buffer-overflow of its own after every real crash: leave crashes to the sanitizers.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:print_suppressions=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-suppressions=$PWD/Fuzz/ubsan.supp:print_stacktrace=1:halt_on_error=0}
"$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
asan=$(grep -c 'ERROR: AddressSanitizer' "$log")
lsan=$(grep -c 'ERROR: LeakSanitizer' "$log")
ubsan=$(grep -c 'runtime error:' "$log")
echo "sanitize: tests exited $status; AddressSanitizer errors $asan, LeakSanitizer reports $lsan, UBSan reports $ubsan (log: $log)"
[ "$status" -eq 0 ] && [ "$asan" -eq 0 ] && [ "$lsan" -eq 0 ] && [ "$ubsan" -eq 0 ]

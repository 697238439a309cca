#!/usr/bin/env bash
# Runs each fuzz target for FUZZ_SECONDS (default 600), one after another, then prints one line of
# figures per target. Called by `make fuzz` after it built the targets; usage: Fuzz/run.sh BIN_DIR [TARGET...]
#
# Each target runs in libFuzzer's fork mode with one job at a time (-fork=1): the same two-core
# footprint as -workers=1 -jobs=1, but a crash, an out-of-memory or a timeout is saved to
# Fuzz/findings/<target>/ and fuzzing goes on, so one known crash does not end a sitting. New inputs
# go to .build-fuzz/corpus/<target> (kept between runs, never committed); Fuzz/corpus/<target> holds
# the seeds and is only read.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1; shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pcd ply model manifest rows text npy bin off obj stl las)
seconds=${FUZZ_SECONDS:-600}
declare -A binary=([pcd]=FuzzPCD [ply]=FuzzPLY [model]=FuzzModel [manifest]=FuzzManifest [rows]=FuzzRows
                   [text]=FuzzText [npy]=FuzzNPY [bin]=FuzzBin [off]=FuzzOFF [obj]=FuzzOBJ [stl]=FuzzSTL [las]=FuzzLAS)
logs=.build-fuzz/logs
mkdir -p "$logs"
# Swift's crash backtracer reads the crashed process's memory wholesale, which ASan reports as a
# heap-buffer-overflow of its own after every real crash: leave crashes to the sanitizers.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-suppressions=$PWD/Fuzz/ubsan.supp:print_stacktrace=1}
for t in "${targets[@]}"; do
    exe=$bin/${binary[$t]:?unknown fuzz target $t (pcd ply model manifest rows text npy bin off obj stl las)}
    mkdir -p ".build-fuzz/corpus/$t" "Fuzz/findings/$t"
    echo "fuzz: $t for ${seconds}s (log: $logs/$t.log)" >&2
    # The fork-mode parent keeps going when a job crashes, and exits non-zero at the end if one did.
    nice -n 10 "$exe" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="Fuzz/findings/$t/" ".build-fuzz/corpus/$t" "Fuzz/corpus/$t" >"$logs/$t.log" 2>&1 \
        || echo "fuzz: $t: libFuzzer exited with status $?: findings or a failure (see $logs/$t.log)" >&2
    # What a crashed input left in /dev/shm: the target unlinks its file only when the reader returns.
    rm -f /dev/shm/pcdiag-fuzz-*
done
# Fork mode's status lines: "#EXECS: cov: C ft: F corp: N exec/s E oom/timeout/crash: O/T/C time: Ss job: J".
printf '%-9s %8s %11s %7s %7s %7s %9s\n' TARGET SECONDS EXECUTIONS COV FT CORPUS FINDINGS
for t in "${targets[@]}"; do
    last=$(grep -E '^#[0-9]+: cov: ' "$logs/$t.log" | tail -n 1 || true)
    findings=$(find "Fuzz/findings/$t" -type f -name '*-*' | wc -l)
    if [ -z "$last" ]; then
        printf '%-9s %8s %11s %7s %7s %7s %9s\n' "$t" - - - - - "$findings"
        continue
    fi
    read -r execs cov ft corp time < <(sed -E 's/^#([0-9]+): cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).* time: ([0-9]+)s.*/\1 \2 \3 \4 \5/' <<<"$last")
    printf '%-9s %8s %11s %7s %7s %7s %9s\n' "$t" "$time" "$execs" "$cov" "$ft" "$corp" "$findings"
done

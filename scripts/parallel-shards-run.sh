#!/usr/bin/env bash
# Runs the N shards of pcdiag batch with GNU parallel on this machine, merges them, and checks the
# merged rows against one run over the same inputs (README: "Splitting a huge batch across machines").
# The same check as scripts/slurm-array-run.sh (scripts/lib/shard-run.sh), without daemons.
#
#   scripts/parallel-shards-run.sh [PCDIAG] [N] [INPUT] [MODEL]
#   defaults: .build/release/pcdiag, 4, ../shared/data/scans-sim/test, Models/pointnet-pointda10-scans.safetensors
#   PARALLEL_JOBS: shards at once (default: nproc, as many as the Slurm script's one-CPU tasks).
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib/shard-run.sh"

install_missing parallel:parallel
shard_setup "$@"
start=$(now)
# --halt now,fail=1: one failed shard stops the run, and parallel exits non-zero.
parallel --will-cite --halt now,fail=1 --jobs "${PARALLEL_JOBS:-$(nproc)}" \
    bash "$SHARD_LIB" shard {} ::: $(seq "$SHARDS")
SCHEDULER_SECONDS=$(seconds "$start" "$(now)")
echo "GNU parallel: $SHARDS shards done"
shard_finish

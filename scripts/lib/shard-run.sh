# The part shared by scripts/slurm-array-run.sh and scripts/parallel-shards-run.sh: the arguments,
# the command one shard runs, and the check that the merged shards equal one run.
#
# Sourced:   shard_setup "$@"   then the scheduler runs `bash scripts/lib/shard-run.sh shard I`
#            for I in 1..N, then shard_finish (exits non-zero on any mismatch).
# Executed:  bash scripts/lib/shard-run.sh shard I   (needs the variables shard_setup exports)

SHARD_LIB=$(readlink -f "${BASH_SOURCE[0]}")
SHARD_ROOT=$(dirname "$(dirname "$(dirname "$SHARD_LIB")")")

now() { date +%s.%N; }
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

# Installs the Debian packages of missing commands: install_missing command:package ...
install_missing() {
    local missing=() pair
    for pair in "$@"; do command -v "${pair%%:*}" > /dev/null || missing+=("${pair#*:}"); done
    ((${#missing[@]} == 0)) && return 0
    [[ $(id -u) == 0 ]] || { echo "missing ${missing[*]}: install them (apt-get, as root)" >&2; exit 2; }
    echo "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get -q -y -o DPkg::Lock::Timeout=600 install --no-install-recommends "${missing[@]}")
    # The package lists may be stale or absent in a fresh container: update once, only if needed.
    "${apt[@]}" > /dev/null || { apt-get -q -o DPkg::Lock::Timeout=600 update > /dev/null && "${apt[@]}" > /dev/null; }
}

# Arguments: [PCDIAG] [N] [INPUT] [MODEL]; every path made absolute, for the scheduler's tasks.
# BATCH_ARGS: more options for every pcdiag batch, shards and one run alike (e.g. --batch-size 1).
shard_setup() {
    local default_model
    default_model=$(ls "$SHARD_ROOT"/Models/pointnet-pointda10-scans*.safetensors 2>/dev/null | head -n 1)
    PCDIAG=$(readlink -f "${1:-$SHARD_ROOT/.build/release/pcdiag}")
    SHARDS=${2:-4}
    INPUT=$(readlink -f "${3:-$SHARD_ROOT/../shared/data/scans-sim/test}")
    MODEL=$(readlink -f "${4:-$default_model}")
    [[ -x $PCDIAG ]] || { echo "no pcdiag binary at $PCDIAG" >&2; exit 2; }
    [[ -e $INPUT ]] || { echo "no input $INPUT" >&2; exit 2; }
    [[ -f $MODEL ]] || { echo "no model $MODEL" >&2; exit 2; }
    [[ $SHARDS =~ ^[1-9][0-9]*$ ]] || { echo "N shards must be a positive integer, not $SHARDS" >&2; exit 2; }
    WORK=$(mktemp -d /tmp/pcdiag-shards.XXXXXX)
    BATCH_ARGS=${BATCH_ARGS:-}
    export PCDIAG SHARDS INPUT MODEL WORK BATCH_ARGS
    echo "pcdiag $PCDIAG; $SHARDS shards of $INPUT ($(find "$INPUT" -type f | wc -l) files); model $MODEL; batch options '${BATCH_ARGS}'; files in $WORK"
}

# One shard: its rows to part-I.jsonl, its start and end time to span-I (for the span of all tasks).
shard_run() {
    local i=$1 start
    start=$(now)
    # shellcheck disable=SC2086 # BATCH_ARGS is a list of options
    "$PCDIAG" batch "$INPUT" --model "$MODEL" $BATCH_ARGS --shard "$i/$SHARDS" --format jsonl -q \
        -o "$WORK/part-$i.jsonl" > "$WORK/part-$i.summary.jsonl"
    echo "$start $(now)" > "$WORK/span-$i"
}

# SCHEDULER_SECONDS: the wall time of the scheduler's run, set by the caller.
shard_finish() {
    local start one_seconds first last
    start=$(now)
    # shellcheck disable=SC2086
    "$PCDIAG" batch "$INPUT" --model "$MODEL" $BATCH_ARGS --format jsonl -q -o "$WORK/one.jsonl" > "$WORK/one.summary.jsonl"
    one_seconds=$(seconds "$start" "$(now)")
    shopt -s nullglob
    local parts=("$WORK"/part-*[0-9].jsonl)
    shopt -u nullglob
    ((${#parts[@]} > 0)) || { echo "no shard wrote rows" >&2; return 1; }
    "$PCDIAG" merge "${parts[@]}" -o "$WORK/merged.jsonl" --model "$MODEL" --format jsonl -q > "$WORK/merged.summary.jsonl"
    first=$(cat "$WORK"/span-* | tr ' ' '\n' | sort -g | head -n 1)
    last=$(cat "$WORK"/span-* | tr ' ' '\n' | sort -g | tail -n 1)
    echo "rows: $(wc -l < "$WORK/one.jsonl") (one run), $(cat "${parts[@]}" | wc -l) in ${#parts[@]} shards, $(wc -l < "$WORK/merged.jsonl") merged"
    echo "wall: scheduler run ${SCHEDULER_SECONDS} s (first shard start to last shard end $(seconds "$first" "$last") s); one run ${one_seconds} s"
    python3 "$SHARD_ROOT/scripts/compare-rows.py" "$WORK/one.jsonl" "$WORK/merged.jsonl" --parts "${parts[@]}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    [[ ${1:-} == shard && -n ${2:-} ]] || { echo "usage: bash $0 shard I" >&2; exit 2; }
    shard_run "$2"
fi

#!/usr/bin/env bash
# Runs pcdiag batch as a real Slurm job array on this one machine, merges the shards, and checks the
# merged rows against one run over the same inputs (README: "Splitting a huge batch across machines").
#
#   scripts/slurm-array-run.sh [PCDIAG] [N] [INPUT] [MODEL]
#   defaults: .build/release/pcdiag, 4, ../shared/data/scans-sim/test, Models/pointnet-pointda10-scans.safetensors
#
# Needs root (apt, SlurmUser=root). Installs Debian's slurm-wlm and munge when missing, writes a munge
# key when there is none, and runs its own munged, slurmctld and slurmd from a temporary folder
# (config, state, spool, logs, munge socket), stopped on exit. Exit 1 on any row mismatch.
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/lib/shard-run.sh"

[[ $(id -u) == 0 ]] || { echo "run as root: it installs packages and runs slurmd as root" >&2; exit 2; }

install_missing slurmctld:slurm-wlm slurmd:slurm-wlm munged:munge mungekey:munge

if [[ ! -s /etc/munge/munge.key ]]; then
    echo "writing /etc/munge/munge.key"
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
fi

shard_setup "$@"

# Daemon files outside $WORK: munged runs as munge and must reach its socket folder.
STATE=$(mktemp -d /tmp/slurm-run.XXXXXX)
chmod 0755 "$STATE"
install -d -o munge -g munge -m 0755 "$STATE/munge"  # munged wants its socket folder searchable by all
mkdir -p "$STATE/ctld" "$STATE/spool"
PIDS=()
stop_daemons() {
    local status=$? pid i
    # An array still running (the script interrupted): cancel it before its daemons go.
    [[ -s ${WORK:-}/sbatch.out ]] && scancel "$(head -n 1 "$WORK/sbatch.out")" 2> /dev/null || true
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        pid=${PIDS[i]}
        kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null || true
    done
    [[ $status == 0 ]] || echo "failed; daemon logs in $STATE, shard files in ${WORK:-}" >&2
    exit "$status"
}
trap stop_daemons EXIT

# A private munged on its own socket: no clash with a munged the machine may already run.
runuser -u munge -- munged --foreground --socket="$STATE/munge/munge.socket" \
    --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" \
    --seed-file="$STATE/munge/munged.seed" --key-file=/etc/munge/munge.key 2> "$STATE/munged.stderr" &
PIDS+=($!)

memory_mb=$(free -m | awk '/^Mem:/ {print $2}')
export SLURM_CONF=$STATE/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=pcdiag-local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$STATE/munge/munge.socket
# No cgroups: a container rarely lets slurmd manage them, and one node needs no fencing of tasks.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
# One CPU per array task by default, so up to $(nproc) tasks run at once.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
# RealMemory a little under free's total: slurmd drains a node that reports less than configured.
NodeName=localhost CPUs=$(nproc) RealMemory=$((memory_mb * 95 / 100)) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

for _ in $(seq 50); do [[ -S $STATE/munge/munge.socket ]] && break; sleep 0.2; done
[[ -S $STATE/munge/munge.socket ]] || { echo "munged did not start:" >&2; tail -n 5 "$STATE/munged.stderr" >&2; exit 1; }
slurmctld -D -c > /dev/null 2>&1 &
PIDS+=($!)
slurmd -D -N localhost > /dev/null 2>&1 &
PIDS+=($!)

state=""
for _ in $(seq 60); do
    state=$(sinfo -h -n localhost -o %t 2> /dev/null || true)
    [[ $state == idle ]] && break
    sleep 1
done
if [[ $state != idle ]]; then
    echo "the node is not idle after 60 s (state '${state}')" >&2
    sinfo -R >&2 || true
    tail -n 20 "$STATE"/slurmctld.log "$STATE"/slurmd.log >&2 || true
    exit 1
fi
echo "slurm up: $(sinfo -h -o '%P %D %c %t')"

start=$(now)
# --parsable prints the job id first; --wait returns when every array task has ended, non-zero if one failed.
sbatch --wait --parsable --array="1-$SHARDS" --job-name=pcdiag-shards --chdir="$WORK" \
    --output="$WORK/slurm-%A_%a.out" --wrap="bash '$SHARD_LIB' shard \$SLURM_ARRAY_TASK_ID" > "$WORK/sbatch.out" || {
    echo "the job array failed" >&2; tail -n 5 "$WORK"/slurm-*.out >&2 || true; exit 1; }
SCHEDULER_SECONDS=$(seconds "$start" "$(now)")
echo "slurm job $(head -n 1 "$WORK/sbatch.out"): $SHARDS array tasks done"
shard_finish

#!/usr/bin/env bash
# Sets up a real one-node Slurm cluster on this machine, for the Slurm executor's tests and for
# trying `pipe run --executor slurm` without a cluster. Idempotent: re-running it with the
# daemons up changes nothing (it rewrites slurm.conf and restarts the daemons only when the
# generated configuration differs from the one in place).
#
#   bash scripts/setup-slurm.sh
#
# What it does:
#   - apt-get install slurm-wlm munge (through sudo when not root; only what is missing)
#   - a munge key (/etc/munge/munge.key) when there is none
#   - /etc/slurm/slurm.conf: one node whose line comes from `slurmd -C`, select/cons_tres with
#     CPUs and memory consumable (1 GB per CPU by default), proctrack/linuxproc, task/none, no
#     accounting storage, memory limits enforced without cgroups (jobacct_gather/linux sampling
#     every second with OverMemoryKill), a short MinJobAge (finished jobs stay visible to squeue
#     for 30 s), a short KillWait, batch_sched_delay=0 (a job starts within a second), and two
#     partitions: `debug` (default, MaxTime 1 h) and `preempt` (lower priority tier, preemptable,
#     MaxTime 30 min)
#   - starts munged, slurmctld and slurmd directly (no systemd: containers have none), and waits
#     until `sinfo` shows the node idle (resuming it when it is down or drained)
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo"
  echo "setup-slurm: not root; using sudo"
fi

missing=()
command -v slurmctld >/dev/null 2>&1 || missing+=(slurm-wlm)
command -v munged >/dev/null 2>&1 || missing+=(munge)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-slurm: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null || {
    $SUDO apt-get update >/dev/null
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  }
fi

# ---- munge
$SUDO mkdir -p /etc/munge /var/log/munge /var/lib/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  echo "setup-slurm: creating a munge key"
  $SUDO dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
if id munge >/dev/null 2>&1; then
  $SUDO chown -R munge:munge /etc/munge /var/log/munge /var/lib/munge /run/munge
  $SUDO chmod 0700 /etc/munge /var/log/munge /var/lib/munge
  $SUDO chmod 0755 /run/munge
  $SUDO chmod 0400 /etc/munge/munge.key
fi
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  echo "setup-slurm: starting munged"
  if id munge >/dev/null 2>&1; then $SUDO -u munge /usr/sbin/munged 2>/dev/null || $SUDO runuser -u munge -- /usr/sbin/munged
  else $SUDO /usr/sbin/munged --force; fi
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n | unmunge >/dev/null || { echo "setup-slurm: munged does not work" >&2; exit 1; }

# ---- slurm.conf
host="$(hostname -s)"
node_line="$(slurmd -C | head -n 1)"
case "$node_line" in NodeName=*) ;; *) echo "setup-slurm: unexpected \`slurmd -C\` output: $node_line" >&2; exit 1 ;; esac
conf_dir=/etc/slurm
$SUDO mkdir -p "$conf_dir" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
new_conf="$(cat <<EOF
# Written by pipe's scripts/setup-slurm.sh: a one-node cluster for tests and trials.
ClusterName=pipe-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=1024
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=30
KillWait=2
OverTimeLimit=0
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
$node_line State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=01:00:00 PriorityTier=2 State=UP
PartitionName=preempt Nodes=ALL Default=NO MaxTime=00:30:00 PriorityTier=1 PreemptMode=REQUEUE State=UP
EOF
)"
restart=0
if [ ! -f "$conf_dir/slurm.conf" ] || [ "$(cat "$conf_dir/slurm.conf")" != "$new_conf" ]; then
  echo "setup-slurm: writing $conf_dir/slurm.conf"
  printf '%s\n' "$new_conf" | $SUDO tee "$conf_dir/slurm.conf" >/dev/null
  restart=1
fi

running() { [ -f "$1" ] && $SUDO kill -0 "$(cat "$1")" 2>/dev/null; }
stop() {
  if running "$1"; then
    local pid; pid="$(cat "$1")"
    $SUDO kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do $SUDO kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
}
if [ "$restart" = 1 ]; then
  stop /run/slurm/slurmd.pid
  stop /run/slurm/slurmctld.pid
fi
if ! running /run/slurm/slurmctld.pid; then
  echo "setup-slurm: starting slurmctld"
  $SUDO /usr/sbin/slurmctld
fi
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q 'is UP' && break; sleep 0.2; done
scontrol ping | grep -q 'is UP' || { echo "setup-slurm: slurmctld did not come up (see /var/log/slurm/slurmctld.log)" >&2; exit 1; }
if ! running /run/slurm/slurmd.pid; then
  echo "setup-slurm: starting slurmd"
  $SUDO /usr/sbin/slurmd
fi

# ---- wait for the node to be idle
node="$(printf '%s' "$node_line" | sed -E 's/^NodeName=([^ ]+).*/\1/')"
for i in $(seq 150); do
  state="$(sinfo -h -n "$node" -o '%t' 2>/dev/null | head -n 1 || true)"
  case "$state" in
    idle|mix|alloc) echo "setup-slurm: node $node is $state; partitions: $(sinfo -h -o '%P' | tr '\n' ' ')"; exit 0 ;;
    down*|drain*|drng*|fail*) [ $((i % 10)) = 1 ] && $SUDO scontrol update NodeName="$node" State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.2
done
echo "setup-slurm: node $node did not become idle (state: ${state:-none}); see /var/log/slurm/slurmd.log" >&2
sinfo >&2 || true
exit 1

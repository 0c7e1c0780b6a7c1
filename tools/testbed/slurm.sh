#!/usr/bin/env bash
# A private single-node Slurm cluster (Debian's slurmctld, slurmd and munge) on loopback, for the sharded-run
# test (tools/slurm/arrival.sbatch): never the packaged system services, their config, key or sockets.
#   slurm.sh start DIR   runs munged, slurmctld and slurmd under DIR/slurm/, writes DIR/slurm.env
#   slurm.sh stop DIR    cancels the cluster's jobs, then stops the three daemons by the PIDs they recorded
# Under DIR/slurm/: slurm.conf, munge/ (its own key, socket, pid, log and seed), state/ (StateSaveLocation),
# spool/ (SlurmdSpoolDir), log/ (both daemons' logs), *.pid. slurmctld and slurmd listen on 127.0.0.1 only
# (CommunicationParameters NoCtldInAddrAny,NoInAddrAny), on ports picked free by the kernel. One node,
# "arrivalnode", declared with 4 CPUs whatever the machine has (SlurmdParameters=config_overrides), so a
# 4-task array runs at once; one partition "arrival", the default. Jobs run as the user who submits them.
# No cgroups (proctrack/linuxproc, task/none): it runs in containers too. Needs root, as slurmd does (it starts
# each job as the user who submitted it); the CI and this box run the testbed as root.
#
# DIR/slurm.env:
#   ARRIVAL_SLURM_CONF        the cluster's slurm.conf: `SLURM_CONF=$ARRIVAL_SLURM_CONF sbatch ...` (also
#                             squeue, scancel, scontrol) talks to this cluster only
#   ARRIVAL_SLURM_PARTITION   arrival
#   ARRIVAL_SLURM_CPUS        4: tasks that run at once
#   ARRIVAL_SLURM_LOG_DIR     slurmctld.log and slurmd.log (read them when a job does not start)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.bash
. "$here/lib/common.bash"
component_args slurm "start|stop DIR" "$@"
node=arrivalnode
cpus=4

stop() {
  [ -d "$base" ] || return 0
  if [ -f "$base/slurm.conf" ] && [ -f "$base/slurmctld.pid" ] && kill -0 "$(cat "$base/slurmctld.pid")" 2>/dev/null; then
    # Jobs still running would outlive slurmd in their slurmstepd: cancel them while the controller answers.
    SLURM_CONF=$base/slurm.conf scancel --full --partition=arrival 2>/dev/null || true
    for _ in $(seq 50); do
      [ -z "$(SLURM_CONF=$base/slurm.conf squeue -h -t running,completing 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  stop_by_pid_file 10 "$base/slurmd.pid" "$base/slurmctld.pid" "$base/munge/munged.pid"
}

wait_ready() {
  local state=""
  for _ in $(seq 150); do
    for f in "$base/munge/munged.pid" "$base/slurmctld.pid" "$base/slurmd.pid"; do
      if [ -f "$f" ] && ! kill -0 "$(cat "$f")" 2>/dev/null; then state="$(basename "$f" .pid) exited"; break 2; fi
    done
    state=$(SLURM_CONF=$base/slurm.conf sinfo -h -n "$node" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && return 0
    sleep 0.2
  done
  echo "slurm: node $node not idle (last state '$state'); logs:" >&2
  tail -n 30 "$base"/log/*.log "$base/munge/munged.log" >&2 2>/dev/null || true
  return 1
}

start() {
  stop
  if [ "$(id -u)" -ne 0 ]; then
    # Not an error for the other components' sake: the whole testbed starts by default. The Slurm test fails,
    # saying ARRIVAL_SLURM_CONF is not set.
    echo "slurm: not root: slurmd must run as root; no cluster started" >&2
    : > "$dir/slurm.env"
    return 0
  fi
  mkdir -p "$base/state" "$base/spool" "$base/log" "$base/munge"
  # munged insists on a private key and a socket directory only it may write.
  chmod 700 "$base/munge"
  head -c 1024 /dev/urandom > "$base/munge/munge.key"
  chmod 400 "$base/munge/munge.key"
  munged --force --socket="$base/munge/munge.socket" --key-file="$base/munge/munge.key" \
    --log-file="$base/munge/munged.log" --pid-file="$base/munge/munged.pid" --seed-file="$base/munge/munged.seed"
  local ctld_port slurmd_port
  read -r ctld_port slurmd_port < <(python3 "$here/free-port" 2)
  cat > "$base/slurm.conf" <<CONF
ClusterName=arrivaltest
SlurmctldHost=$(hostname)(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$base/munge/munge.socket
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$base/slurmctld.pid
SlurmdPidFile=$base/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=600
KillWait=5
NodeName=$node NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=arrival Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
  slurmctld -f "$base/slurm.conf"
  slurmd -f "$base/slurm.conf" -N "$node"
  wait_ready
  cat > "$dir/slurm.env" <<ENV
ARRIVAL_SLURM_CONF=$base/slurm.conf
ARRIVAL_SLURM_PARTITION=arrival
ARRIVAL_SLURM_CPUS=$cpus
ARRIVAL_SLURM_LOG_DIR=$base/log
ENV
}

run_component "$@"

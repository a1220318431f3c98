#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, for the tests of `nmscope-cli slurm`: munged, slurmctld and
# slurmd from Debian's slurm-wlm and munge, all state, sockets, logs and ports private to DIR, so it runs beside a
# system Slurm or another test's cluster. Needs root (slurmd starts jobs as their user and runs as SlurmdUser=root).
#   scripts/slurm-local.sh start DIR   start it; prints "SLURM_CONF=DIR/slurm.conf" (export it for sbatch, squeue...)
#   scripts/slurm-local.sh stop DIR    stop the daemons it started (by their pid files) and cancel their jobs
# start exits 3, with one line on stderr saying why, when the cluster cannot run here (not root, a package missing,
# a daemon that does not come up); the tests skip on that.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
conf=$dir/slurm.conf

cannot() { echo "slurm-local: $*" >&2; exit 3; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

stop_daemon() {  # pid file, name
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

start() {
  [ "$(id -u)" -eq 0 ] || cannot "needs root (slurmd runs as SlurmdUser=root and starts jobs as their user)"
  for tool in munged slurmctld slurmd sbatch squeue sinfo scancel python3; do
    command -v "$tool" >/dev/null || cannot "$tool not found (Debian packages slurm-wlm and munge)"
  done
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge"
  # A key of our own: the cluster trusts nobody else's credentials, and the system's munge is left alone.
  head -c 1024 /dev/urandom > "$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  munged --force --socket="$dir/munge/socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" 2>>"$dir/log/munged.log" ||
    cannot "munged did not start: $(tail -n 1 "$dir/log/munged.log")"

  local controller_port node_port node_line
  controller_port=$(free_port)
  node_port=$(free_port)
  while [ "$node_port" = "$controller_port" ]; do node_port=$(free_port); done
  # The node as slurmd finds this machine (CPUs, sockets, cores, threads, memory), under a name of our own.
  node_line=$(slurmd -C | sed -n 's/^NodeName=[^ ]* //p')
  [ -n "$node_line" ] || cannot "slurmd -C did not describe this machine"
  cat > "$conf" <<CONF
# Written by scripts/slurm-local.sh: a private single-node cluster for nmscope's tests.
ClusterName=nmscope-local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$controller_port
SlurmdPort=$node_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=600
NodeName=nmscope-local NodeHostname=localhost NodeAddr=127.0.0.1 $node_line State=UNKNOWN
PartitionName=local Nodes=nmscope-local Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$conf
  slurmctld -c -f "$conf" 2>>"$dir/log/slurmctld.log" ||
    cannot "slurmctld did not start: $(tail -n 1 "$dir/log/slurmctld.log")"
  slurmd -f "$conf" -N nmscope-local 2>>"$dir/log/slurmd.log" ||
    cannot "slurmd did not start: $(tail -n 1 "$dir/log/slurmd.log")"
  # Up when the node reports idle to the controller (seconds; give it 30).
  for _ in $(seq 150); do
    if [ "$(sinfo -h -n nmscope-local -o %t 2>/dev/null)" = "idle" ]; then
      echo "SLURM_CONF=$conf"
      return 0
    fi
    sleep 0.2
  done
  local state
  state=$(sinfo -h -n nmscope-local -o '%t %E' 2>&1 | head -n 1)
  stop
  cannot "the node did not come up (sinfo: ${state:-no answer}; logs in $dir/log)"
}

stop() {
  if [ -f "$conf" ]; then
    SLURM_CONF=$conf scancel --quiet --user="$(id -un)" 2>/dev/null || true
  fi
  stop_daemon "$dir/slurmd.pid"
  stop_daemon "$dir/slurmctld.pid"
  stop_daemon "$dir/munge/munged.pid"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac

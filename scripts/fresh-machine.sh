#!/usr/bin/env bash
# README's quick start (`./nmscope.sh run`, then `./nmscope.sh test`) on a fresh Debian 12 machine, as a new user
# gets it: a clean minbase root made with debootstrap, the committed HEAD of this checkout cloned into the home of a
# normal user with passwordless sudo, and both commands run there with no display and nothing on stdin. Our own
# machines already have the packages, pip modules, caches and build folders that the quick start is meant to set
# up, so only a root like this shows whether it still works from nothing. Needs root (debootstrap, mount, chroot).
#
#   scripts/fresh-machine.sh [--root DIR] [--reuse] [--out DIR] [--clean] [--prepare-only]
#
# Logs (debootstrap.log, prepare.log, run.log, test.log) and report.md go to --out; the report is printed at the end.
# Exits non-zero when either command failed. Takes 30-60 minutes (the build and the test suite, twice sanitized).
set -euo pipefail

SUITE=bookworm                 # Debian 12, what README's quick start is written for
USER_NAME=newuser
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=/var/tmp/nmscope-fresh-root
OUT=fresh-machine-report
REUSE=0
CLEAN=0
PREPARE_ONLY=0
LABELS=(core rtl gui cuda concurrency slurm)

usage() {
  cat <<EOF
usage: $0 [--root DIR] [--reuse] [--out DIR] [--clean] [--prepare-only]

Runs README's quick start (./nmscope.sh run, then ./nmscope.sh test) on a fresh Debian 12 ($SUITE) root made with
debootstrap --variant=minbase (plus ca-certificates, git, sudo), as the normal user '$USER_NAME' (passwordless sudo)
in a git clone of this checkout's committed HEAD: uncommitted changes are not in it. No DISPLAY, stdin /dev/null.
Needs root. Takes 30-60 minutes.

  --root DIR       where the root is made (default $ROOT);
                   an existing one is removed first unless --reuse
  --reuse          keep the root an earlier run made (skips debootstrap). Packages an earlier ./nmscope.sh run
                   installed stay, so the install step is then no longer tested; the clone is always made afresh
  --out DIR        logs and report.md (default ./$OUT)
  --keep           keep the root at the end (the default: it is there to inspect, and for --reuse)
  --clean          remove the root at the end
  --prepare-only   stop after the clone and the user's checks (sudo -n, git); runs neither command
  -h, --help       this text

Environment: every variable whose name starts with NMSCOPE_ is passed through to both commands, e.g.
  sudo NMSCOPE_SANITIZERS=0 NMSCOPE_FUZZ_SECONDS=0 NMSCOPE_JOBS=8 $0
(sudo drops other variables, so name them on its command line as above, or run this as root).
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || { usage >&2; exit 2; }; ROOT=$2; shift ;;
    --root=*) ROOT=${1#*=} ;;
    --out) [ $# -ge 2 ] || { usage >&2; exit 2; }; OUT=$2; shift ;;
    --out=*) OUT=${1#*=} ;;
    --reuse) REUSE=1 ;;
    --keep) CLEAN=0 ;;
    --clean) CLEAN=1 ;;
    --prepare-only) PREPARE_ONLY=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fresh-machine: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[fresh-machine] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount and chroot): sudo $0 ..."
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
mkdir -p "$(dirname "$ROOT")"
# The physical path: it is compared with /proc/PID/root and /proc/self/mountinfo, which resolve symbolic links.
ROOT=$(cd "$(dirname "$ROOT")" && pwd -P)/$(basename "$ROOT")
case "$ROOT" in /|//|/.|/..) die "--root must be a folder of its own, not /" ;; esac
MARKER=$ROOT/etc/nmscope-fresh-root          # written once debootstrap finished: only such a root is reused
USED=$ROOT/etc/nmscope-fresh-root.used       # written once ./nmscope.sh ran in it: its packages are installed
HOME_IN_ROOT=/home/$USER_NAME

# ---------------------------------------------------------------------------------------------------- mounts
MOUNTED=()

mounts_under_root() {  # mount points at or below $ROOT, deepest first
  awk -v root="$ROOT" '$5 == root || index($5, root "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# Processes left in the root (a daemon a package's postinst started, a test's stray child) keep its mounts busy.
# They were all started by this script's commands, inside the root.
stop_root_processes() {
  local pid pids=() link
  for link in /proc/[0-9]*/root; do
    pid=${link#/proc/}; pid=${pid%/root}
    if [ "$(readlink "$link" 2>/dev/null)" = "$ROOT" ]; then pids+=("$pid"); fi
  done
  [ ${#pids[@]} -eq 0 ] && return 0
  log "stopping processes still running in the root: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do
    local alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    [ ${#alive[@]} -eq 0 ] && return 0
    sleep 0.1
  done
  kill -KILL "${alive[@]}" 2>/dev/null || true
}

unmount_all() {
  local target
  stop_root_processes
  # Whatever is mounted under the root, ours or left by an earlier run that was killed, deepest first.
  for target in $(mounts_under_root); do
    umount "$target" 2>/dev/null || umount -l "$target" || log "could not unmount $target"
  done
  MOUNTED=()
}

mount_root() {
  local target
  # Binds from the host, each made a slave at once: on a host whose mounts are shared (systemd's default), the
  # devpts and tmpfs mounted below $ROOT/dev would otherwise propagate back onto the host's own /dev.
  for target in proc sys dev; do
    mount --bind "/$target" "$ROOT/$target"
    MOUNTED+=("$ROOT/$target")
    mount --make-rslave "$ROOT/$target"
  done
  mount --bind /dev/pts "$ROOT/dev/pts"
  MOUNTED+=("$ROOT/dev/pts")
  # The plain bind of /dev has devtmpfs' own (root-only) shm directory, not the host's tmpfs: a tmpfs of the root's
  # own, so that POSIX shared memory and semaphores work for the user as they do on a real machine.
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$ROOT/dev/shm"
  MOUNTED+=("$ROOT/dev/shm")
}

remove_root() {
  [ -n "$(mounts_under_root)" ] && die "not removing $ROOT: something is still mounted in it ($(mounts_under_root | tr '\n' ' '))"
  # --one-file-system: never follow a mount that slipped in (a bound /dev would take the host's devices with it).
  rm -rf --one-file-system "$ROOT"
}

cleanup() {
  local status=$?
  set +e   # every step of the clean-up is tried, whatever failed before it
  unmount_all
  if [ "$CLEAN" = 1 ] && [ -d "$ROOT" ]; then
    log "removing $ROOT (--clean)"
    remove_root
  elif [ -d "$ROOT" ]; then
    log "the root is kept at $ROOT (reuse it with --reuse; remove it with --clean or rm -rf --one-file-system)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------------- the root
# The mirror apt uses here, so the root downloads from where this machine is allowed to; deb.debian.org otherwise.
host_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # deb822: the URIs of the stanza that has the release itself among its suites (not -security, not -updates).
    uri=$(awk -v suite="$SUITE" '
      /^[[:space:]]*$/ { if (types && has_suite && uris != "" && !found) { print uris; found = 1 } types = has_suite = 0; uris = ""; next }
      /^Types:/  { for (i = 2; i <= NF; i++) if ($i == "deb") types = 1 }
      /^URIs:/   { uris = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) has_suite = 1 }
      END { if (types && has_suite && uris != "" && !found) print uris }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(sed -n 's/\[[^]]*\]//; s/^deb[[:space:]]\+\([^[:space:]]\+\)[[:space:]]\+'"$SUITE"'[[:space:]].*/\1/p' \
      /etc/apt/sources.list | head -n 1)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

MIRROR=$(host_mirror)
DEBOOTSTRAP_SECONDS=""

make_root() {
  if [ "$REUSE" = 1 ] && [ -f "$MARKER" ]; then
    log "reusing the root at $ROOT ($(cat "$MARKER"))"
    [ ! -f "$USED" ] || log "warning: ./nmscope.sh ran in this root before ($(cat "$USED")): its packages are installed, so this run does not test installing them"
    return 0
  fi
  if [ "$REUSE" = 1 ] && [ -e "$ROOT" ]; then log "no finished root at $ROOT to reuse: making a new one"; fi
  if [ -e "$ROOT" ]; then
    log "removing the old root at $ROOT"
    unmount_all
    remove_root
  fi
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap debian-archive-keyring
  fi
  log "debootstrap --variant=minbase $SUITE from $MIRROR into $ROOT (log: $OUT/debootstrap.log)"
  local start=$SECONDS
  # ca-certificates, git, sudo: what a new user has before README's first command (pip needs the certificates,
  # the clone needs git, and nmscope.sh installs its packages with sudo apt-get).
  if ! debootstrap --variant=minbase --include=ca-certificates,git,sudo "$SUITE" "$ROOT" "$MIRROR" \
       >"$OUT/debootstrap.log" 2>&1; then
    tail -n 20 "$OUT/debootstrap.log" >&2
    die "debootstrap failed ($OUT/debootstrap.log)"
  fi
  DEBOOTSTRAP_SECONDS=$((SECONDS - start))
  log "debootstrap took ${DEBOOTSTRAP_SECONDS} s"
  echo "made $(date -u '+%F %T UTC') from $MIRROR in ${DEBOOTSTRAP_SECONDS} s" >"$MARKER"
}

configure_root() {
  # The host's Debian sources, so the root also has -updates and -security (debootstrap writes the release only);
  # debootstrap's sources.list goes, or apt warns about every source configured twice.
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$ROOT/etc/apt/sources.list.d/debian.sources"
    rm -f "$ROOT/etc/apt/sources.list"
  elif [ -f /etc/apt/sources.list ]; then
    cp /etc/apt/sources.list "$ROOT/etc/apt/sources.list"
  fi
  # Name resolution for apt and pip; the host's hosts file so that sudo can resolve the (shared) hostname.
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
  cp /etc/hosts "$ROOT/etc/hosts"
  # The network's own trust settings, not nmscope's: where this host reaches the package registries through a
  # proxy that re-signs TLS (a company proxy, this workplace), its local CA certificates and pip's global
  # configuration come along, as a new machine on that network would be set up before anyone runs README's commands.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    in_root update-ca-certificates >/dev/null 2>&1 || log "warning: update-ca-certificates failed in the root"
  fi
  [ -f /etc/pip.conf ] && cp /etc/pip.conf "$ROOT/etc/pip.conf"
  # No service starts in the root: the daemons of munge and slurm-wlm, which nmscope.sh installs, would run on
  # outside the chroot's commands and keep its mounts busy. The tests start their own Slurm (scripts/slurm-local.sh).
  printf '#!/bin/sh\n# fresh-machine.sh: no daemons in this chroot\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 755 "$ROOT/usr/sbin/policy-rc.d"
}

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# Runs a command line as the new user through a login shell (su -), as a person logged in would, without a
# terminal, a display or anything on stdin.
as_user() { in_root su - "$USER_NAME" -c "$1" </dev/null; }

make_user() {
  if ! in_root id -u "$USER_NAME" >/dev/null 2>&1; then
    in_root useradd --create-home --shell /bin/bash "$USER_NAME"
  fi
  # nmscope.sh installs Debian packages with sudo apt-get when it is not root, and nobody is there to type a password.
  echo "$USER_NAME ALL=(ALL:ALL) NOPASSWD: ALL" >"$ROOT/etc/sudoers.d/$USER_NAME"
  chmod 440 "$ROOT/etc/sudoers.d/$USER_NAME"
}

COMMIT=$(git -C "$REPO" rev-parse HEAD)
clone_project() {
  if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=normal)" ]; then
    log "warning: $REPO has uncommitted changes; the fresh clone has only the committed HEAD ($(git -C "$REPO" rev-parse --short HEAD))"
  fi
  # A bundle of the committed history, cloned by the user with the root's own git: the clone is the user's (owner,
  # umask, config) and holds nothing of this checkout's working tree, build folders or ignored files.
  local bundle=/tmp/nmscope-HEAD.bundle branch refs=(HEAD)
  branch=$(git -C "$REPO" symbolic-ref --quiet --short HEAD || true)
  [ -n "$branch" ] && refs+=("$branch")
  git -C "$REPO" bundle create --quiet "$ROOT$bundle" "${refs[@]}" --tags
  chmod 644 "$ROOT$bundle"
  rm -rf --one-file-system "$ROOT$HOME_IN_ROOT/nmscope"
  as_user "git clone --quiet $bundle nmscope"
  rm -f "$ROOT$bundle"
  local cloned
  cloned=$(as_user "git -C nmscope rev-parse HEAD")
  [ "$cloned" = "$COMMIT" ] || die "the clone is at $cloned, not at $COMMIT"
  log "cloned $COMMIT ($(git -C "$REPO" log -1 --format=%s "$COMMIT" | cut -c1-80)) into $ROOT$HOME_IN_ROOT/nmscope"
}

check_user() {
  # What README assumes of a new user: a home with the clone in it, sudo without a password, git.
  # shellcheck disable=SC2016  # expanded by the user's shell
  as_user 'cd nmscope && ls && git status --short --branch && sudo -n true && echo "sudo -n: ok ($(sudo -n id -un))"' ||
    die "the new user cannot use the clone or sudo -n (above)"
}

# ---------------------------------------------------------------------------------------------------- commands
# NMSCOPE_* variables given to this script, as a line of exports for the user's shell (su - starts from a clean
# environment).
passed_environment() {
  local name line=""
  while IFS= read -r name; do
    [[ $name =~ ^NMSCOPE_[A-Za-z0-9_]*$ ]] || continue
    line+="export $name=$(printf '%q' "${!name}"); "
  done < <(compgen -e)
  printf '%s' "$line"
}

declare -A STATUS WALL
run_command() {  # name (run|test)
  local name=$1 env_line log_file=$OUT/$1.log start rc
  env_line=$(passed_environment)
  log "./nmscope.sh $name as $USER_NAME in $ROOT (log: $log_file)${env_line:+; $env_line}"
  start=$(date +%s)
  set +e
  as_user "${env_line}cd nmscope && ./nmscope.sh $name" 2>&1 | tee "$log_file"
  rc=${PIPESTATUS[0]}
  set -e
  STATUS[$name]=$rc
  WALL[$name]=$(( $(date +%s) - start ))
  log "./nmscope.sh $name exited $rc after ${WALL[$name]} s"
  echo "$(date -u '+%F %T UTC'): ./nmscope.sh $name, commit $COMMIT" >>"$USED"
}

# ---------------------------------------------------------------------------------------------------- report
minutes() { awk -v s="$1" 'BEGIN { printf "%.1f", s / 60 }'; }

suites_per_label() {
  local label count
  echo "| label | suites |"
  echo "|---|---|"
  for label in "${LABELS[@]}"; do
    # n/a where the run stopped before CMake was installed or the build folder configured.
    count=$(as_user "cd nmscope/build 2>/dev/null && command -v ctest >/dev/null && ctest -N -L '^$label\$'" 2>/dev/null |
            sed -n 's/^Total Tests: //p' || true)
    echo "| $label | ${count:-n/a} |"
  done
}

command_section() {  # name
  local name=$1 log_file=$OUT/$1.log lines
  echo "## ./nmscope.sh $name"
  echo
  echo "- exit status: ${STATUS[$name]}"
  echo "- wall time: ${WALL[$name]} s ($(minutes "${WALL[$name]}") min)"
  echo "- log: $log_file"
  echo
  echo "Configuration summary printed:"
  echo
  echo '```'
  lines=$(grep -E '^\[nmscope\] configuration|\[nmscope\]   (GUI|CUDA|VERILATOR)' "$log_file" || true)
  if [ -n "$lines" ]; then
    echo "$lines"
  else
    # nmscope.sh before the configuration summary printed none: what CMake decided, from the build's cache.
    echo "(none printed; build/CMakeCache.txt says: $(sed -n 's/^\(NMSCOPE_\(GUI\|CUDA\|VERILATOR\)\):[A-Z]*=/\1=/p' \
      "$ROOT$HOME_IN_ROOT/nmscope/build/CMakeCache.txt" 2>/dev/null | tr '\n' ' '))"
  fi
  echo '```'
  if [ "$name" = test ]; then
    echo
    echo "CTest summaries (in order: build, then build-asan and build-tsan where they ran):"
    echo
    echo '```'
    grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log_file" || echo "(none: CTest did not finish)"
    awk '/^The following tests FAILED:/ { on = 1 } on && /^$/ { on = 0 } on' "$log_file"
    echo '```'
  fi
  echo
  echo "Last 15 lines:"
  echo
  echo '```'
  tail -n 15 "$log_file"
  echo '```'
  echo
}

write_report() {
  local overall=PASS name passed
  for name in run test; do [ "${STATUS[$name]}" = 0 ] || overall=FAIL; done
  passed=$(env | grep '^NMSCOPE_' | sort | tr '\n' ' ' || true)
  {
    echo "# nmscope quick start on a fresh Debian 12 root: $overall"
    echo
    echo "- date: $(date -u '+%F %T UTC'); host: $(hostname), $(nproc) cores"
    echo "- commit: $COMMIT ($(git -C "$REPO" log -1 --format=%s "$COMMIT"))"
    echo "- root: $ROOT ($(cat "$MARKER"))${DEBOOTSTRAP_SECONDS:+; debootstrap this run: $DEBOOTSTRAP_SECONDS s}"
    echo "- user: $USER_NAME (passwordless sudo), clone in $HOME_IN_ROOT/nmscope; no DISPLAY, stdin /dev/null;"
    echo "  no services started in the root (usr/sbin/policy-rc.d exits 101)"
    echo "- environment passed: ${passed:-none}"
    echo
    for name in run test; do command_section "$name"; done
    echo "## CTest suites per label (build/)"
    echo
    suites_per_label
  } >"$OUT/report.md"
  echo
  cat "$OUT/report.md"
}

# ---------------------------------------------------------------------------------------------------- main
make_root
configure_root
mount_root
{
  make_user
  clone_project
  check_user
} 2>&1 | tee "$OUT/prepare.log"
if [ "$PREPARE_ONLY" = 1 ]; then
  log "prepared (--prepare-only): run the commands yourself with"
  log "  chroot $ROOT su - $USER_NAME -c 'cd nmscope && ./nmscope.sh run'   (mount proc, sys, dev, dev/pts first)"
  exit 0
fi
run_command run
run_command test
write_report
[ "${STATUS[run]}" = 0 ] && [ "${STATUS[test]}" = 0 ]

#!/bin/sh
# The container's single entry point, and `npm start`'s: chooses the engine the adapter
# supervises, prints each decision as one line on stderr, then execs the adapter. The adapter
# itself only reads ENGINE_COMMAND (launch this), ENGINE_URL (attach there) and ENGINE_PORT,
# and hands a launched Piston its PISTON_BIND_ADDRESS and limits.
#
# Read here:
#   ENGINE_COMMAND   used as is when set
#   ENGINE_URL       attach mode when set without ENGINE_COMMAND: nothing is launched
#   PISTON_ROOT      where Piston's API lives (default /piston_api, as in Piston's images)
#   PISTON_NODE      the Node that runs pre-isolate Piston (default /usr/local/bin/node, the one
#                    in Piston's image; never ours: Piston v3 needs its own old Node)
#   PISTON_REQUIRED  true/1/yes: exit 1 when no Piston is found instead of falling back
#   ADAPTER_NODE     the Node that runs the adapter (default `node` on PATH)
#   ADAPTER_NODE_OPTIONS  options for that Node only, space-separated (the image sets memory
#                    flags here; NODE_OPTIONS would reach Piston's own Node too, and refuses
#                    most V8 flags)
#
# How the two Piston generations differ (engineer-man/piston, api/):
#   - Current master (jobs in isolate): api/Dockerfile builds isolate in a `buildpack-deps:buster`
#     stage, copies /usr/local/bin/isolate into a `node:15.10.0-buster-slim` image, adds user
#     `piston` and sets CMD ["/piston_api/src/docker-entrypoint.sh"]. That script (bash) does
#     `cd /sys/fs/cgroup && mkdir isolate/ && echo 1 > isolate/cgroup.procs && echo '+cpuset
#     +cpu +io +memory +pids' > cgroup.subtree_control && ...` and only then
#     `exec su -- piston -c 'ulimit -n 65536 && node /piston_api/src'`; api/src/job.js runs
#     every job through ISOLATE_PATH = '/usr/local/bin/isolate' (`isolate --init --cg`). So it
#     must start through that entrypoint, as root, in a privileged container with cgroup v2.
#   - Pre-isolate v3.1.x: no docker-entrypoint.sh and no isolate; api/Dockerfile creates users
#     runner1001..runner1500, builds api/src/nosocket/nosocket.c (a libseccomp filter that
#     forbids sockets) with `make -C ./src/nosocket/ all && make -C ./src/nosocket/ install`,
#     and its CMD is ["node", "src"] in WORKDIR /piston_api. api/src/job.js spawns
#     `nice prlimit --nproc=.. --nofile=.. --fsize=.. [--as=..] nosocket bash <file>` with
#     uid/gid of a runner user: it needs root (setuid, chown) but no extra privileges.
# Hence: src/docker-entrypoint.sh present => isolate generation, launched through it;
# src/nosocket/ present => pre-isolate, launched as `$PISTON_NODE $PISTON_ROOT/src`.
# The version string cannot tell them apart: both report "Piston v3.1.1".
set -eu

say() { printf 'start.sh: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}
is_true() {
  case $(printf '%s' "${1:-}" | tr '[:upper:]' '[:lower:]') in
    true | 1 | yes) return 0 ;;
    *) return 1 ;;
  esac
}

APP_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd -P)
ADAPTER_NODE=${ADAPTER_NODE:-node}
PISTON_ROOT=${PISTON_ROOT:-/piston_api}
PISTON_NODE=${PISTON_NODE:-/usr/local/bin/node}

# The adapter splits ENGINE_COMMAND on spaces (no shell); a space inside a path is escaped
# with a backslash.
arg() { printf '%s' "$1" | sed 's/ /\\ /g'; }

if [ -n "${ENGINE_COMMAND:-}" ]; then
  say "engine: ENGINE_COMMAND as given: $ENGINE_COMMAND"
elif [ -n "${ENGINE_URL:-}" ]; then
  say "engine: attach to ENGINE_URL=$ENGINE_URL (launching nothing)"
elif [ -f "$PISTON_ROOT/src/index.js" ]; then
  if [ -f "$PISTON_ROOT/src/docker-entrypoint.sh" ]; then
    [ -x "$PISTON_ROOT/src/docker-entrypoint.sh" ] ||
      die "$PISTON_ROOT/src/docker-entrypoint.sh is not executable"
    ENGINE_COMMAND=$(arg "$PISTON_ROOT/src/docker-entrypoint.sh")
    say "engine: piston (isolate, current master) via $ENGINE_COMMAND"
    # Its jobs run in isolate boxes that cannot see FILES_DIR: session files travel in requests.
    export ENGINE_FILESYSTEM="${ENGINE_FILESYSTEM:-separate}"
    if [ -e /sys/fs/cgroup/unified ] || [ ! -e /sys/fs/cgroup/cgroup.subtree_control ] ||
      [ ! -w /sys/fs/cgroup ]; then
      say "warning: /sys/fs/cgroup is not a writable pure cgroup v2: Piston's entrypoint will fail (it needs a privileged container with cgroup v2; see docker/README.md)"
    fi
  elif [ -d "$PISTON_ROOT/src/nosocket" ]; then
    [ -x "$PISTON_NODE" ] ||
      die "Piston's own Node $PISTON_NODE is missing or not executable (set PISTON_NODE)"
    ENGINE_COMMAND="$(arg "$PISTON_NODE") $(arg "$PISTON_ROOT/src")"
    say "engine: piston (pre-isolate v3) via $ENGINE_COMMAND"
    # Its jobs run as runner users 1001..1500 (api/src/config.js); the adapter kills what a
    # dead Piston left of them before relaunching it.
    ENGINE_JOB_UIDS=${ENGINE_JOB_UIDS:-1001-1500}
    export ENGINE_JOB_UIDS
    if [ "$(id -u)" != 0 ]; then
      say "warning: running as uid $(id -u): pre-isolate Piston needs root to run jobs as its runner users"
    fi
  else
    die "$PISTON_ROOT holds a Piston of neither known generation (no src/docker-entrypoint.sh, no src/nosocket/): set ENGINE_COMMAND to launch it"
  fi
  export ENGINE_COMMAND
elif is_true "${PISTON_REQUIRED:-}"; then
  die "PISTON_REQUIRED=$PISTON_REQUIRED but no Piston at $PISTON_ROOT (no $PISTON_ROOT/src/index.js); set PISTON_ROOT, ENGINE_COMMAND or ENGINE_URL"
else
  ENGINE_COMMAND="$(arg "$ADAPTER_NODE") $(arg "$APP_DIR/dist/scripts/local-engine/main.js")"
  export ENGINE_COMMAND
  say "warning: engine: no Piston at $PISTON_ROOT; local development engine via $ENGINE_COMMAND (NOT a sandbox: code runs with this user's rights)"
fi

# Split on spaces on purpose, without globbing: each word is one option.
set -f
# shellcheck disable=SC2086
set -- ${ADAPTER_NODE_OPTIONS:-}
set +f
say "adapter: $ADAPTER_NODE${1:+ $*} $APP_DIR/dist/adapter/main.js"
exec "$ADAPTER_NODE" "$@" "$APP_DIR/dist/adapter/main.js"

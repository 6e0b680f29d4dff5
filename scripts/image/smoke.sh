#!/bin/sh
# Smoke-tests a built image: scripts/image/smoke.sh IMAGE (see scripts/image/smoke.ts for what
# it checks and its SMOKE_* settings). Needs docker or podman and the built adapter's Node.
set -eu
if [ "$#" -ne 1 ]; then
  echo "usage: $0 IMAGE" >&2
  exit 2
fi
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd -P)
if [ ! -f "$ROOT/dist/scripts/image/smoke.js" ]; then
  (cd "$ROOT" && npm run --silent build)
fi
exec node "$ROOT/dist/scripts/image/smoke.js" "$1"

# shellcheck shell=bash
# Helpers shared by scripts/build-image, scripts/check-image and scripts/lint.
# Source it; it defines functions and variables only.
#
# Tools are installed from the Go module proxy and npm into a cache outside
# the repository, pinned by version, so a fresh machine (or CI) installs them
# once and later runs reuse them.

BLUEGREEN_CACHE="${BLUEGREEN_CACHE:-$HOME/.cache/bluegreen}"
TOOLS_DIR="$BLUEGREEN_CACHE/tools"

CRANE_VERSION="${CRANE_VERSION:-v0.22.1}"

# go_tool NAME PACKAGE VERSION: print the path of NAME built from
# PACKAGE@VERSION, installing it first when missing. Each version gets its own
# directory, so bumping a version never reuses a stale binary.
go_tool() {
  local name="$1" pkg="$2" version="$3"
  local dir="$TOOLS_DIR/$name-$version"
  if [[ ! -x "$dir/$name" ]]; then
    printf '%s: installing %s@%s into %s\n' "${0##*/}" "$pkg" "$version" "$dir" >&2
    mkdir -p "$dir"
    # From a neutral directory with no workspace, so that the project's
    # go.mod plays no part in resolving the tool.
    (cd "$TOOLS_DIR" && GOWORK=off GOFLAGS="" GOBIN="$dir" go install "$pkg@$version") >&2
  fi
  printf '%s\n' "$dir/$name"
}

crane_tool() {
  go_tool crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
}

# start_registry CRANE: start an in-memory registry on loopback (crane's own,
# no Docker needed) and set REGISTRY to its host:port and REGISTRY_PID. The
# caller stops it with stop_registry, usually from an EXIT trap.
# shellcheck disable=SC2034 # REGISTRY is for the sourcing script
start_registry() {
  local crane="$1" log
  log="$(mktemp)"
  "$crane" registry serve --address 127.0.0.1:0 >"$log" 2>&1 &
  REGISTRY_PID=$!
  local port="" _
  for _ in $(seq 1 100); do
    port="$(sed -n 's/.*serving on port \([0-9][0-9]*\).*/\1/p' "$log")"
    [[ -n "$port" ]] && break
    if ! kill -0 "$REGISTRY_PID" 2>/dev/null; then
      cat "$log" >&2
      rm -f "$log"
      echo "${0##*/}: the local registry did not start" >&2
      return 1
    fi
    sleep 0.05
  done
  rm -f "$log"
  if [[ -z "$port" ]]; then
    echo "${0##*/}: the local registry did not report its port" >&2
    return 1
  fi
  REGISTRY="127.0.0.1:$port"
}

stop_registry() {
  if [[ -n "${REGISTRY_PID:-}" ]]; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
    REGISTRY_PID=""
  fi
}

# human_size BYTES: 12.3 MiB.
human_size() {
  awk -v b="$1" 'BEGIN {
    split("B KiB MiB GiB", u, " "); i = 1
    while (b >= 1024 && i < 4) { b /= 1024; i++ }
    printf (i == 1 ? "%d %s\n" : "%.1f %s\n"), b, u[i]
  }'
}

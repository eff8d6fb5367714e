#!/usr/bin/env bash
# install.sh: install the bluegreen binary of a release on this machine, after
# checking its SHA-256 against the release's checksums file. The composite
# action beside it (setup/action.yml) runs it; it also runs by hand on Linux
# and macOS.
#
#   install.sh [VERSION] [DIR]
#
# VERSION is a release tag (v1.4.2, or 1.4.2) or `latest` (the default). DIR
# is where the binary goes (default: $RUNNER_TOOL_CACHE/bluegreen/<version>/<arch>
# on a GitHub runner, else ~/.local/bin). On a GitHub runner DIR is added to
# PATH for later steps, and the outputs `version` and `path` are set.
#
# Environment: BLUEGREEN_RELEASES_URL is where releases are served (default
# https://github.com/bluegreen-dev/bluegreen-action/releases), with files at
# <url>/download/<tag>/<file> and the newest release at <url>/latest, which
# redirects to <url>/tag/<tag>.
#
# The archive is refused, and nothing installed, when it is missing from the
# checksums file or its SHA-256 differs.
set -euo pipefail

RELEASES_URL="${BLUEGREEN_RELEASES_URL:-https://github.com/bluegreen-dev/bluegreen-action/releases}"
RELEASES_URL="${RELEASES_URL%/}"
VERSION="${1:-latest}"
DIR="${2:-}"

log() { printf 'bluegreen setup: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in curl tar gzip; do
  command -v "$tool" >/dev/null || die "$tool is needed"
done

fetch() { curl --fail --silent --show-error --location --retry 3 --retry-delay 1 "$@"; }

if [[ -z "$VERSION" || "$VERSION" == latest ]]; then
  # The newest release page redirects to its tag; no API token needed.
  effective="$(fetch --head --output /dev/null --write-out '%{url_effective}' "$RELEASES_URL/latest")" \
    || die "finding the latest release at $RELEASES_URL/latest"
  VERSION="${effective##*/}"
fi
VERSION="v${VERSION#v}"
[[ "$VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "\"$VERSION\" is not a release version like v1.4.2"
NUMBER="${VERSION#v}"

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) die "no bluegreen binary for $(uname -s); releases have linux and darwin" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "no bluegreen binary for $(uname -m); releases have amd64 and arm64" ;;
esac

archive="bluegreen_${NUMBER}_${os}_${arch}.tar.gz"
sums="bluegreen_${NUMBER}_checksums.txt"
base="$RELEASES_URL/download/$VERSION"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

log "downloading $archive of $VERSION"
fetch --output "$WORK/$sums" "$base/$sums" || die "downloading $base/$sums"
fetch --output "$WORK/$archive" "$base/$archive" || die "downloading $base/$archive"

# The line for this archive: "<sha256>  <name>" (or "<sha256> *<name>").
want="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$WORK/$sums")"
[[ "$want" =~ ^[0-9a-f]{64}$ ]] || die "$sums lists no SHA-256 for $archive; refusing to install it"
if command -v sha256sum >/dev/null; then
  got="$(sha256sum "$WORK/$archive" | awk '{ print $1 }')"
else
  got="$(shasum -a 256 "$WORK/$archive" | awk '{ print $1 }')"
fi
[[ "$got" == "$want" ]] || die "$archive has SHA-256 $got, but $sums says $want; refusing to install it"
log "SHA-256 of $archive matches $sums"

tar -xzf "$WORK/$archive" -C "$WORK" bluegreen || die "unpacking $archive"

if [[ -z "$DIR" ]]; then
  if [[ -n "${RUNNER_TOOL_CACHE:-}" ]]; then
    DIR="$RUNNER_TOOL_CACHE/bluegreen/$NUMBER/$arch"
  else
    DIR="$HOME/.local/bin"
  fi
fi
mkdir -p "$DIR"
install -m 0755 "$WORK/bluegreen" "$DIR/bluegreen"

# The binary must run here and be the version asked for.
said="$("$DIR/bluegreen" --version 2>&1)" || die "$DIR/bluegreen --version failed: $said"
[[ "$said" == "bluegreen $VERSION" ]] || die "$DIR/bluegreen says \"$said\", want \"bluegreen $VERSION\""
log "installed $said at $DIR/bluegreen"

if [[ -n "${GITHUB_PATH:-}" ]]; then
  printf '%s\n' "$DIR" >>"$GITHUB_PATH"
fi
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  printf 'version=%s\npath=%s\n' "$VERSION" "$DIR/bluegreen" >>"$GITHUB_OUTPUT"
fi

#!/usr/bin/env bash
# Downloads the clip release binary for this runner and verifies it against
# the release's SHA256SUMS before anything runs it. Used by action.yml;
# testable anywhere (scripts/ci/action-test.sh serves a dist/ on 127.0.0.1).
#
# Environment: CLIP_VERSION (a release tag, e.g. v1.2.0), CLIP_BASE_URL
# (default https://github.com/clip-go/clip/releases/download; the files are
# at $CLIP_BASE_URL/$CLIP_VERSION/NAME), RUNNER_OS (Linux|macOS|Windows),
# RUNNER_ARCH (X64|ARM64), CLIP_BIN_DIR (where clip goes). Prints the
# binary's path.
set -euo pipefail

: "${CLIP_VERSION:?CLIP_VERSION: the release tag to install}"
: "${CLIP_BIN_DIR:?CLIP_BIN_DIR: the directory to install clip into}"
base="${CLIP_BASE_URL:-https://github.com/clip-go/clip/releases/download}"

case "${RUNNER_OS:-Linux}" in
  Linux) os=linux ;;
  macOS) os=darwin ;;
  Windows) os=windows ;;
  *) echo "clip action: unsupported runner OS ${RUNNER_OS}" >&2; exit 1 ;;
esac
case "${RUNNER_ARCH:-X64}" in
  X64) arch=amd64 ;;
  ARM64) arch=arm64 ;;
  *) echo "clip action: unsupported runner architecture ${RUNNER_ARCH}" >&2; exit 1 ;;
esac
ext=""
[ "$os" = windows ] && ext=.exe
if [ "$os/$arch" = windows/arm64 ]; then
  echo "clip action: no windows/arm64 release binary" >&2
  exit 1
fi
# make release names files clip-VERSION-OS-ARCH[.exe], VERSION being the tag.
name="clip-${CLIP_VERSION}-${os}-${arch}${ext}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { curl --fail --silent --show-error --location --retry 3 --max-time 300 -o "$2" "$1"; }
fetch "$base/$CLIP_VERSION/SHA256SUMS" "$tmp/SHA256SUMS"
fetch "$base/$CLIP_VERSION/$name" "$tmp/$name"

want=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$tmp/SHA256SUMS")
if [ -z "$want" ]; then
  echo "clip action: $name is not listed in $base/$CLIP_VERSION/SHA256SUMS" >&2
  exit 1
fi
if command -v sha256sum >/dev/null; then
  got=$(sha256sum "$tmp/$name" | awk '{print $1}')
else
  got=$(shasum -a 256 "$tmp/$name" | awk '{print $1}')
fi
if [ "$got" != "$want" ]; then
  echo "clip action: $name: sha256 $got does not match SHA256SUMS ($want); not installing" >&2
  exit 1
fi

mkdir -p "$CLIP_BIN_DIR"
install -m 0755 "$tmp/$name" "$CLIP_BIN_DIR/clip$ext"
echo "$CLIP_BIN_DIR/clip$ext"

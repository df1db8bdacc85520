#!/usr/bin/env bash
# Tests the GitHub Action's installer (.github/actions/classify/install.sh)
# against make release's dist/, served by a file server on 127.0.0.1 in
# place of the GitHub release: the binary is installed and runs, a
# tampered SHA256SUMS or a binary missing from it is refused.
# Usage: scripts/ci/action-test.sh VERSION (the VERSION dist/ was made with).
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${1:?usage: action-test.sh VERSION}"
root=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$root"; }
trap cleanup EXIT
mkdir -p "$root/releases/$version"
cp dist/* "$root/releases/$version/"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$root/releases" >/dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/$version/SHA256SUMS" >/dev/null && break; sleep 0.1; done

install() {
  CLIP_VERSION="$version" CLIP_BASE_URL="http://127.0.0.1:$port" CLIP_BIN_DIR="$root/bin-$1" \
    RUNNER_OS="$2" RUNNER_ARCH="$3" bash .github/actions/classify/install.sh
}

bin=$(install ok Linux X64)
"$bin" --version | grep -q "^clip $version " || { echo "action-test: installed binary: $("$bin" --version)"; exit 1; }
win=$(install win Windows X64)
[ "$win" = "$root/bin-win/clip.exe" ] || { echo "action-test: windows install path $win"; exit 1; }

# A binary that does not match SHA256SUMS is not installed.
sums="$root/releases/$version/SHA256SUMS"
awk '{ print "0000000000000000000000000000000000000000000000000000000000000000  " $2 }' "$sums" > "$sums.bad" && mv "$sums.bad" "$sums"
if out=$(install bad Linux X64 2>&1); then echo "action-test: a tampered SHA256SUMS was accepted"; exit 1; fi
grep -q "does not match SHA256SUMS" <<< "$out" || { echo "action-test: $out"; exit 1; }
[ ! -e "$root/bin-bad/clip" ] || { echo "action-test: binary installed despite the mismatch"; exit 1; }

# Unknown platforms are refused with a message.
if out=$(install arm Windows ARM64 2>&1); then echo "action-test: windows/arm64 accepted"; exit 1; fi
echo "action-test: install, sha256 mismatch and unknown platform behave (server 127.0.0.1:$port)"

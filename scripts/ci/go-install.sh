#!/usr/bin/env bash
# Checks README's "CGO_ENABLED=0 go install -tags nodynamic github.com/clip-go/clip/cmd/clip@latest"
# the way a user's go command meets it: through a module proxy. The proxy
# is a file:// one serving this commit (git archive, as a module zip) as
# the module's only version, a pseudo-version; the dependencies come from
# this machine's module cache, itself laid out as a proxy (no network, so
# no checksum database either: go.sum still checks every dependency). The
# installed binary must be static and `clip version` must show that
# version and the commit and date it encodes.
set -euo pipefail
cd "$(dirname "$0")/../.."
mod=github.com/clip-go/clip
rev=$(git rev-parse --short=12 HEAD)
stamp=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)
ver=v0.0.0-$stamp-$rev
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d=$tmp/proxy/$mod/@v
mkdir -p "$d"
git archive --format=zip --prefix="$mod@$ver/" -o "$d/$ver.zip" HEAD
git show HEAD:go.mod > "$d/$ver.mod"
printf '{"Version":"%s","Time":"%s"}\n' "$ver" "$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ)" > "$d/$ver.info"
echo "$ver" > "$d/list"
(cd "$tmp" && env CGO_ENABLED=0 GOFLAGS=-modcacherw GOTOOLCHAIN=local GOBIN="$tmp/bin" GOMODCACHE="$tmp/modcache" \
  GOPROXY="file://$tmp/proxy,file://$(go env GOMODCACHE)/cache/download" GOSUMDB=off \
  go install -tags nodynamic $mod/cmd/clip@latest)
if command -v file >/dev/null && file "$tmp/bin/clip" | grep -q 'dynamically linked'; then
  echo "go install: the installed clip is not static"; exit 1
fi
want="clip $ver (commit $rev, $(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ),"
got=$("$tmp/bin/clip" --version)
case "$got" in "$want"*) ;; *) echo "go install: version line $got, want it to start with $want"; exit 1;; esac
echo "go install …@latest through a module proxy: $got"

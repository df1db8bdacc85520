#!/usr/bin/env bash
# Builds the Dockerfile's multi-stage image (the one users build with
# `docker build .`) without pulling anything, and checks that it holds
# exactly what `make image` puts in its image: the same files, modes and
# owners, and a byte-identical binary.
#
# No registry is reachable here and no container runtime runs in the CI
# sandbox, so:
#   - the build stage's `FROM golang:1.26` is a stand-in built from this
#     machine's Go toolchain (same Go release the release builds use) and
#     busybox for the shell the RUN steps need, tagged
#     docker.io/library/golang:1.26 in local storage only;
#   - RUN steps use buildah's chroot isolation (no crun, no cgroups);
#   - the module cache is mounted and GOPROXY=off, so `go mod download`
#     reads what `go mod download` on the host fetched.
# Usage: container-multistage.sh (after scripts/ci/container.sh built
# localhost/clip:ci, or it builds it).
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
command -v podman >/dev/null || need+=(podman)
[ -x /bin/busybox ] || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

version=ci-multistage
commit=$(git rev-parse --short=12 HEAD)
date=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ)
goroot=$(go env GOROOT)
modcache=$(go env GOMODCACHE)
go mod download

tmp=$(mktemp -d)
cleanup() {
  rm -rf "$tmp"
  podman rmi -f localhost/clip:multistage localhost/clip:ms-ref docker.io/library/golang:1.26 >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The stand-in for golang:1.26.
mkdir -p "$tmp/golang/bin" "$tmp/golang/etc/ssl/certs" "$tmp/golang/tmp"
chmod 1777 "$tmp/golang/tmp"
cp /bin/busybox "$tmp/golang/bin/busybox"
for applet in sh cp mkdir rm cat chmod ln ls; do ln -s busybox "$tmp/golang/bin/$applet"; done
cp /etc/ssl/certs/ca-certificates.crt "$tmp/golang/etc/ssl/certs/"
cp -a "$goroot" "$tmp/golang/go"
cat > "$tmp/golang/Containerfile" <<'EOF'
FROM scratch
COPY bin /bin
COPY etc /etc
COPY tmp /tmp
COPY go /usr/local/go
ENV PATH=/usr/local/go/bin:/go/bin:/bin HOME=/root GOPATH=/go GOTOOLCHAIN=local GOPROXY=off
WORKDIR /go
EOF
podman build -q --isolation=chroot --pull=never -f "$tmp/golang/Containerfile" \
  -t docker.io/library/golang:1.26 "$tmp/golang" >/dev/null

# The Dockerfile, as users build it, with the release's version stamp.
podman build --isolation=chroot --pull=never \
  -v "$modcache:/go/pkg/mod" -v "$(go env GOCACHE):/root/.cache/go-build" \
  --build-arg VERSION=$version --build-arg COMMIT="$commit" --build-arg DATE="$date" \
  -f Dockerfile -t localhost/clip:multistage . >"$tmp/build.log" 2>&1 || {
  tail -40 "$tmp/build.log"; echo "container: the Dockerfile's multi-stage build failed"; exit 1; }

# make image's way, from a binary built with the same stamp.
make image IMAGE=localhost/clip:ms-ref VERSION=$version COMMIT="$commit" DATE="$date" >/dev/null

# Save both, flatten their layers, compare.
listing() {
  local image=$1 out=$2
  podman image save --format docker-archive -o "$out.tar" "$image"
  mkdir -p "$out.archive" "$out.root"
  tar -xf "$out.tar" -C "$out.archive"
  # The image's configuration goes to $out.config, its layers' paths to stdout.
  : > "$out.list"
  python3 - "$out.archive" "$out.config" <<'PY' | while read -r layer; do tar -xf "$layer" -C "$out.root"; tar -tvf "$layer" --numeric-owner | awk '{print $1, $2, $NF}' >> "$out.list"; done
import json, sys
d, config = sys.argv[1], sys.argv[2]
m = json.load(open(f"{d}/manifest.json"))[0]
c = json.load(open(f"{d}/{m['Config']}"))["config"]
with open(config, "w") as f:
    print(json.dumps({k: c.get(k) for k in ("User", "Entrypoint", "Cmd", "Env", "ExposedPorts", "Volumes", "WorkingDir")}, sort_keys=True), file=f)
for layer in m["Layers"]:
    print(f"{d}/{layer}")
PY
  sort -k3 -o "$out.list" "$out.list"
  (cd "$out.root" && find . -type f -exec sha256sum {} + | sort -k2) > "$out.sums"
}
listing localhost/clip:multistage "$tmp/ms"
listing localhost/clip:ms-ref "$tmp/ref"

fail=0
diff -u "$tmp/ref.config" "$tmp/ms.config" || { echo "container: image configs differ (make image vs Dockerfile)"; fail=1; }
diff -u "$tmp/ref.list" "$tmp/ms.list" || { echo "container: file lists, modes or owners differ (make image vs Dockerfile)"; fail=1; }
diff -u "$tmp/ref.sums" "$tmp/ms.sums" || { echo "container: file contents differ (make image vs Dockerfile)"; fail=1; }
[ $fail = 0 ] || exit 1
"$tmp/ms.root/usr/local/bin/clip" --version | grep -q "^clip $version (commit $commit, " || {
  "$tmp/ms.root/usr/local/bin/clip" --version; echo "container: the Dockerfile's binary lacks the version stamp"; exit 1; }
echo "container: the Dockerfile's multi-stage image holds the same $(wc -l < "$tmp/ms.list") entries, owners, modes, config and bytes (binary included) as make image's"

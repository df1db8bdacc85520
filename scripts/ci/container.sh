#!/usr/bin/env bash
# Builds the container image without pulling anything (make image: the
# static binary on scratch, scripts/container/Containerfile) and checks it without
# running a container (no container runtime works in the CI sandbox):
# podman image save, the layers extracted, the files and the config
# checked, the extracted binary runs --version and serves /readyz on
# 127.0.0.1 with the tiny model.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v podman >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null
fi
make image IMAGE=localhost/clip:ci
tmp=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
podman image save --format docker-archive -o "$tmp/image.tar" localhost/clip:ci
mkdir "$tmp/archive" "$tmp/root"
tar -xf "$tmp/image.tar" -C "$tmp/archive"
python3 - "$tmp/archive" > "$tmp/layers" <<'PY'
import json, sys
d = sys.argv[1]
m = json.load(open(f"{d}/manifest.json"))[0]
cfg = json.load(open(f"{d}/{m['Config']}"))["config"]
assert cfg.get("User") == "65532:65532", f"image user {cfg.get('User')!r}, want 65532:65532"
assert cfg.get("Entrypoint") == ["/usr/local/bin/clip"], cfg.get("Entrypoint")
assert "CLIP_HOME=/models" in cfg.get("Env", []), cfg.get("Env")
for layer in m["Layers"]:
    print(f"{d}/{layer}")
PY
: > "$tmp/listing"
while read -r layer; do
  tar -xf "$layer" -C "$tmp/root"
  tar -tvf "$layer" --numeric-owner >> "$tmp/listing"
done < "$tmp/layers"
for f in usr/local/bin/clip etc/ssl/certs/ca-certificates.crt etc/passwd etc/group; do
  [ -s "$tmp/root/$f" ] || { echo "container: /$f missing from the image"; exit 1; }
done
grep -q '^nonroot:x:65532:65532:' "$tmp/root/etc/passwd" || { echo "container: no nonroot user 65532"; exit 1; }
grep -Eq '^d\S+ 65532/65532 .* models/?$' "$tmp/listing" || { echo "container: /models not owned by 65532:"; grep models "$tmp/listing"; exit 1; }
if grep -Eq ' (testdata|bench-models)/' "$tmp/listing"; then echo "container: test data in the image"; exit 1; fi
"$tmp/root/usr/local/bin/clip" --version
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CLIP_HOME="$tmp/home" "$tmp/root/usr/local/bin/clip" serve --addr "127.0.0.1:$port" --model testdata/models/tiny-shapes --offline >/dev/null 2>&1 &
srv=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "container: the image's clip serve never got ready"; exit 1; }
echo "container: image built; binary, certificates, user 65532 and /models checked; --version and serve ran from the extracted layers"

#!/usr/bin/env bash
# End-to-end check of clip serve as Weaviate's multi2vec-clip vectorizer
# (make integration; not part of make test): a real Weaviate on loopback
# with CLIP_INFERENCE_API pointing at `clip serve` (tiny-shapes model,
# bearer token passed as the URL's user info), the trained-shape images of
# testdata/shapes imported as blobs, then a nearText query per shape whose
# best results must be that shape's images.
#
# Weaviate is built once with `go install` into $CLIP_INTEGRATION_CACHE
# (default ~/.cache/clip-integration), or taken from $WEAVIATE_SERVER.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=${WEAVIATE_VERSION:-v1.35.2}
cache=${CLIP_INTEGRATION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clip-integration}
bin=${WEAVIATE_SERVER:-$cache/weaviate-$version/weaviate-server}
if [ ! -x "$bin" ]; then
	echo "building weaviate-server $version into $(dirname "$bin") (a few minutes)" >&2
	GOFLAGS= GOBIN=$(dirname "$bin") go install "github.com/weaviate/weaviate/cmd/weaviate-server@$version"
fi
[ -x ./clip ] || make build
python=/usr/bin/python3

clip_port=${CLIP_PORT:-18480}
wv_port=${WEAVIATE_PORT:-18481}
token=integration-$$
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

./clip serve --model testdata/models/tiny-shapes --offline --addr "127.0.0.1:$clip_port" \
	--token "$token" --no-cache --log-format json 2>"$work/clip.log" &
pids+=($!)

# Every port on loopback; no telemetry, no profiling or metrics listeners.
env -i PATH=/usr/bin:/bin HOME="$work" \
	DISABLE_TELEMETRY=true GO_PROFILING_DISABLE=true PROMETHEUS_MONITORING_ENABLED=false \
	AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true \
	PERSISTENCE_DATA_PATH="$work/data" \
	ENABLE_MODULES=multi2vec-clip DEFAULT_VECTORIZER_MODULE=multi2vec-clip \
	CLIP_INFERENCE_API="http://weaviate:$token@127.0.0.1:$clip_port" \
	CLUSTER_HOSTNAME=node1 CLUSTER_IN_LOCALHOST=true \
	CLUSTER_BIND_ADDR=127.0.0.1 CLUSTER_ADVERTISE_ADDR=127.0.0.1 \
	CLUSTER_GOSSIP_BIND_PORT=$((wv_port + 10)) CLUSTER_DATA_BIND_PORT=$((wv_port + 11)) \
	RAFT_PORT=$((wv_port + 12)) RAFT_INTERNAL_RPC_PORT=$((wv_port + 13)) RAFT_BOOTSTRAP_EXPECT=1 \
	GRPC_PORT=$((wv_port + 14)) \
	"$bin" --scheme http --host 127.0.0.1 --port "$wv_port" >"$work/weaviate.log" 2>&1 &
pids+=($!)

WV="http://127.0.0.1:$wv_port" WORK="$work" CLIP_LOG="$work/clip.log" WV_LOG="$work/weaviate.log" \
	"$python" - <<'PY'
import base64, glob, json, os, sys, time, urllib.request, urllib.error

wv = os.environ["WV"]

def call(method, path, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(wv + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
        return r.status, (json.loads(raw) if raw else None)

def fail(msg):
    for name in ("CLIP_LOG", "WV_LOG"):
        with open(os.environ[name], errors="replace") as f:
            print(f"--- {name} (tail)", file=sys.stderr)
            print("".join(f.readlines()[-25:]), file=sys.stderr)
    sys.exit("integration: " + msg)

start = time.time()
deadline = start + 180
while True:
    try:
        if call("GET", "/v1/.well-known/ready", timeout=5)[0] == 200:
            break
    except (urllib.error.URLError, ConnectionError, OSError):
        pass
    if time.time() > deadline:
        fail("Weaviate not ready in 180 s")
    time.sleep(1)
print(f"Weaviate ready in {time.time() - start:.1f} s", file=sys.stderr)

call("POST", "/v1/schema", {
    "class": "Shape",
    "vectorizer": "multi2vec-clip",
    "moduleConfig": {"multi2vec-clip": {"imageFields": ["image"]}},
    "properties": [{"name": "image", "dataType": ["blob"]}, {"name": "file", "dataType": ["text"]}],
})

held_out = {"red triangle", "green cross", "blue square", "yellow circle"}
def label(path):
    a, b = os.path.basename(path).split("-")[:2]
    return a + " " + b
files = sorted(f for f in glob.glob("testdata/shapes/*") if not f.endswith(".json") and label(f) not in held_out)
objects = []
for f in files:
    with open(f, "rb") as fh:
        objects.append({"class": "Shape", "properties": {"image": base64.b64encode(fh.read()).decode(), "file": os.path.basename(f)}})
t0 = time.time()
_, res = call("POST", "/v1/batch/objects", {"objects": objects}, timeout=300)
errors = [r["result"]["errors"] for r in res if r.get("result", {}).get("errors")]
if errors:
    fail(f"import errors: {errors[:3]}")
print(f"imported {len(files)} images in {time.time() - t0:.1f} s", file=sys.stderr)

counts = {}
for f in files:
    counts[label(f)] = counts.get(label(f), 0) + 1
bad = 0
for lab, n in sorted(counts.items()):
    q = '{Get{Shape(nearText:{concepts:["a photo of a %s."]}, limit:%d){file _additional{distance}}}}' % (lab, n)
    _, res = call("POST", "/v1/graphql", {"query": q})
    if res.get("errors"):
        fail(f"nearText {lab}: {res['errors']}")
    got = [h["file"] for h in res["data"]["Get"]["Shape"]]
    wrong = [g for g in got if label(g) != lab]
    if len(got) != n or wrong:
        bad += 1
        print(f"nearText {lab!r}: top {n} {got}", file=sys.stderr)
if bad:
    fail(f"{bad} of {len(counts)} nearText queries ranked other shapes first")
print(f"nearText: each of {len(counts)} shapes finds its {sum(counts.values())} images first", file=sys.stderr)
PY
echo "integration: ok"

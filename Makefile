# clip — build, test, benchmark and regenerate fixtures.
# `make build` then `./clip classify …`; `make test` is what CI runs.

SHELL     := /bin/bash
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
DATE      ?= $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
# What `make release` builds: static binaries, one per platform, in dist/.
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
PY        ?= /usr/bin/python3
BENCHTIME ?= 5x
# nodynamic: the HEIC/AVIF decoders' packages would otherwise link purego,
# which makes the binary dynamically linked (see pkg/imageproc/heif.go).
export GOFLAGS := $(strip $(GOFLAGS) -tags=nodynamic)

.PHONY: build release image test vet lint bench bench-go conformance integration fixtures bench-models clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags '$(LDFLAGS)' -o clip ./cmd/clip

# Static binaries for every platform in PLATFORMS, named
# clip-VERSION-OS-ARCH[.exe], with SHA256SUMS (`sha256sum -c SHA256SUMS`).
# DATE is the commit's time, not the build's, so a rebuild of one commit
# gives identical bytes.
release:
	rm -rf dist && mkdir -p dist
	set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  echo "building dist/clip-$(VERSION)-$$os-$$arch$$ext"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false -ldflags '$(LDFLAGS)' \
	    -o dist/clip-$(VERSION)-$$os-$$arch$$ext ./cmd/clip; \
	done
	cd dist && sha256sum clip-* > SHA256SUMS && cat SHA256SUMS

# The container image from what is here (no base image pulled): the static
# binary and what distroless/static holds, on scratch. Needs podman.
IMAGE ?= clip:local
image: build
	sh scripts/container/rootfs.sh .image ./clip
	cp scripts/container/Containerfile .image/Containerfile
	podman build -f .image/Containerfile -t $(IMAGE) .image

# TESTFLAGS adds go test flags (CI: coverage).
test: vet
	CGO_ENABLED=0 $(GO) test -count=1 -timeout 9m $(TESTFLAGS) ./...

vet:
	$(GO) vet ./...

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Speed against the references, in one run on this machine: clip onnx bench vs
# onnxruntime-node, clip classify vs transformers.js, Sgemm vs the FMA peak,
# tokenizer vs transformers.js, decode+preprocess vs Pillow. Rewrites
# BENCHMARKS.md. Needs `make bench-models` once (else it says what it skipped).
bench:
	bash scripts/bench/run.sh

# Every Go micro-benchmark (kernels, engine, tokenizer, imageproc, onnx load,
# serve load), without the references.
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./pkg/...

# clip serve as Weaviate's multi2vec-clip vectorizer, with a real Weaviate on
# loopback (builds weaviate-server once; not part of make test).
integration: build
	bash scripts/integration/weaviate.sh

# ONNX's per-operator test suite (Debian's libonnx-testdata) against our engine.
# Fails on any failure not listed (with its reason) in knownFailures and README.md.
conformance:
	set -o pipefail; CLIP_CONFORMANCE=1 $(GO) test -count=1 -run Conformance -v ./pkg/engine/ | grep -E '^(conformance:|known failure:|--- FAIL|FAIL|ok)'

# Regenerate everything under testdata/ (and pkg/*/testdata) from scripts/:
# trains the tiny CLIP, exports it, runs onnxruntime-node and transformers.js
# for the goldens, makes the test images, Pillow goldens and tokenizer goldens.
# Installs its Debian and npm needs; about 10 minutes on 2 cores.
FIXTURE_DEBS := python3-torch python3-onnx python3-pil python3-numpy python3-skimage python3-sentencepiece libjpeg-turbo-progs libonnx-testdata libheif-examples

fixtures:
	@missing=""; for p in $(FIXTURE_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	bash scripts/fixtures/all.sh
	$(PY) scripts/onnx_decoder_fixtures.py
	$(PY) scripts/make_test_images.py
	$(PY) scripts/preprocess_golden.py
	$(PY) scripts/siglip_preprocess_golden.py
	$(PY) scripts/jpeg_draft_golden.py
	$(PY) scripts/make_heif_testdata.py
	bash scripts/tokenizer_golden.sh
	bash scripts/unigram_golden.sh
	$(PY) scripts/metaspace_golden.py

# Full-size random-weight CLIP ViT-B/32 for benchmarks (1.5 GB, git-ignored),
# the same shapes as other exporters write them (exporter-patterns-b32,
# 1.7 GB with their int8 files) and a SigLIP base/16 (0.8 GB); ARCH=ViT-B/16 or
# ViT-L/14 for the others (without the patterns and SigLIP).
bench-models:
	bash scripts/fixtures/all.sh bench $(if $(ARCH),--arch $(ARCH))

clean:
	rm -rf clip dist .image

# clip — build, test, benchmark and regenerate fixtures.
# `make build` then `./clip classify …`; `make test` is what CI runs.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
PY        ?= /usr/bin/python3
BENCHTIME ?= 5x

.PHONY: build test vet lint bench conformance fixtures bench-models clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o clip ./cmd/clip

test: vet
	CGO_ENABLED=0 $(GO) test -count=1 -timeout 9m ./...

vet:
	$(GO) vet ./...

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Benchmarks: Go benchmarks plus the reference runtimes, in one run on this machine.
bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./pkg/...

# ONNX's per-operator test suite (Debian's libonnx-testdata) against our engine.
conformance:
	CLIP_CONFORMANCE=1 $(GO) test -count=1 -run Conformance -v ./pkg/engine/ | grep -E '^(conformance:|--- FAIL)'

# Regenerate everything under testdata/ from scripts/ (slow: trains a tiny CLIP).
fixtures:
	bash scripts/fixtures/all.sh

# Full-size random-weight models for benchmarks (hundreds of MB, git-ignored).
bench-models:
	$(PY) scripts/fixtures/make_bench_models.py --out bench-models

clean:
	rm -f clip

#!/usr/bin/env bash
# Runs clip's test suite for arm64 on this amd64 machine under qemu
# user-mode emulation: the NEON kernels against their float64 references,
# pkg/imageproc's NEON image kernels (IDCTs, colour, upsampling, resize)
# against their Go twins, and every package above them (engine vs onnxruntime goldens, imageproc
# vs Pillow, tokenizer vs transformers.js, classify end to end), so code
# whose result depends on the architecture (NEON, the compiler's fused
# multiply-adds on arm64) is caught. The tests that build the clip binary
# and execute it directly (pkg/cli's TestBinaryEndToEnd and
# TestREADMECommands, pkg/cli/index's TestKillMidRun) are left out: under
# GOARCH=arm64 they build an arm64 binary, which the host cannot run. Also
# checks the arm64 builds. Installs qemu-user-static (Debian) when missing.
# Timings under qemu say nothing about arm64 speed.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
	echo "arm64: installing qemu-user-static" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "arm64: qemu-aarch64-static is missing and this is not root: apt-get install qemu-user-static" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null
fi

export CGO_ENABLED=0
# see the Makefile: the HEIC/AVIF packages link purego without it
export GOFLAGS="${GOFLAGS:-} -tags=nodynamic"
GOARCH=arm64 go vet ./pkg/engine/kernels/
GOARCH=arm64 go build ./...
GOOS=darwin GOARCH=arm64 go build ./...
GOARCH=arm64 go test -count=1 -exec qemu-aarch64-static ./...  -skip '^(TestBinaryEndToEnd|TestREADMECommands|TestKillMidRun)$'
# qemu's default CPU has the dot-product extension, so the int8 GEMM ran
# its UDOT kernel above; a Cortex-A53 (no dot product, e.g. a Raspberry Pi
# 3) runs the SMLAL kernel that every AArch64 CPU has.
GOARCH=arm64 go test -count=1 -exec 'qemu-aarch64-static -cpu cortex-a53' ./pkg/engine/kernels/ ./pkg/engine/

#!/usr/bin/env bash
# Runs the arm64 (NEON) kernel tests of pkg/engine/kernels on this amd64
# machine under qemu user-mode emulation, and checks the arm64 builds.
# Installs qemu-user-static (Debian) when it is missing. Exits non-zero on
# any failure. Timings under qemu say nothing about arm64 speed.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
	echo "arm64-kernels: installing qemu-user-static" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "arm64-kernels: qemu-aarch64-static is missing and this is not root: apt-get install qemu-user-static" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null
fi

export CGO_ENABLED=0
GOARCH=arm64 go vet ./pkg/engine/kernels/
GOARCH=arm64 go build ./...
GOOS=darwin GOARCH=arm64 go build ./...
GOARCH=arm64 go test -count=1 -exec qemu-aarch64-static ./pkg/engine/kernels/

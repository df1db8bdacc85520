//go:build !(amd64 || arm64 || 386 || ppc64le)

package onnx

// misalignedLoadsOK is false where misaligned loads trap or are emulated:
// misaligned tensor data is copied into an aligned slice instead.
const misalignedLoadsOK = false

//go:build amd64 || arm64 || 386 || ppc64le

package onnx

// misalignedLoadsOK: these CPUs load misaligned float32/int64 at full speed
// and Go's checkptr allows misaligned pointers to pointer-free types, so
// weights are aliased in place whatever their offset in the file. Copying
// the (typically 3 in 4) misaligned initializers instead would double the
// resident memory of a 350 MB model.
const misalignedLoadsOK = true

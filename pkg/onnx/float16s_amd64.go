package onnx

import "golang.org/x/sys/cpu"

var hasF16C = cpu.X86.HasAVX && cpu.X86.HasF16C

// float16sToFloat32F16C widens n halves (a multiple of 8).
//
//go:noescape
func float16sToFloat32F16C(dst *float32, src *uint16, n int)

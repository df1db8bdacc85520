//go:build !amd64

package onnx

const hasF16C = false

func float16sToFloat32F16C(dst *float32, src *uint16, n int) { panic("onnx: no F16C") }

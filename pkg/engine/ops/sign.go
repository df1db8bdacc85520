package ops

import (
	"fmt"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// Sign (−1, 0 or 1 by the sign of x; NaN stays NaN) and Softsign
// (x / (1 + |x|)).
func init() {
	define(
		def{OpDef: graph.OpDef{Op: "Sign", Infer: inferSame}, eval: func(c call) error { return sign(c.in[0], c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Softsign", Infer: inferSame}, eval: func(c call) error { return softsign(c.in[0], c.out[0]) }},
	)
}

func sign(x, o *graph.Tensor) error {
	switch x.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		signT(o.Float32, x.Float32)
	case onnx.Double:
		signT(o.Float64, x.Float64)
	case onnx.Int64:
		signT(o.Int64, x.Int64)
	case onnx.Int32:
		signT(o.Int32, x.Int32)
	case onnx.Int8:
		signT(o.Int8, x.Int8)
	case onnx.Uint8:
		signT(o.Uint8, x.Uint8)
	case onnx.Uint32:
		signT(o.Uint32, x.Uint32)
	case onnx.Uint64:
		signT(o.Uint64, x.Uint64)
	default:
		return fmt.Errorf("Sign of %s", graph.DTypeName(x.DType))
	}
	return nil
}

func signT[T num](d, s []T) {
	var one T = 1
	for i, v := range s {
		switch {
		case v > 0:
			d[i] = one
		case v < 0:
			d[i] = -one
		default:
			d[i] = v // zero, or NaN
		}
	}
}

func softsign(x, o *graph.Tensor) error {
	switch x.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		softsignT(o.Float32, x.Float32)
	case onnx.Double:
		softsignT(o.Float64, x.Float64)
	default:
		return fmt.Errorf("Softsign of %s", graph.DTypeName(x.DType))
	}
	return nil
}

func softsignT[T float32 | float64](d, s []T) {
	for i, v := range s {
		d[i] = v / (1 + max(v, -v))
	}
}

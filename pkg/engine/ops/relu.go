package ops

import (
	"fmt"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// Relu: NLLB's encoder (immich's nllb-clip-*-siglip text towers) uses it
// in every feed-forward block.
func init() {
	define(def{OpDef: graph.OpDef{Op: "Relu", Infer: inferSame}, eval: func(c call) error { return relu(c.in[0], c.out[0]) }})
}

func relu(x, o *graph.Tensor) error {
	if isFloat(x.DType) {
		for i, v := range x.Float32 {
			if v < 0 { // NaN compares false and stays NaN
				v = 0
			}
			o.Float32[i] = v
		}
		return nil
	}
	switch x.DType {
	case onnx.Double, onnx.Int64, onnx.Int32, onnx.Int8:
	default:
		return fmt.Errorf("Relu of %s", graph.DTypeName(x.DType))
	}
	get, set := getF(x), setF(o)
	for i := 0; i < x.Len(); i++ {
		if v := get(i); v < 0 {
			set(i, 0)
		} else {
			set(i, v)
		}
	}
	return nil
}

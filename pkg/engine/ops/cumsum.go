package ops

import (
	"fmt"

	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// CumSum: RoBERTa and XLM-R (M-CLIP's text towers) number their positions
// by a running count of the non-pad tokens, exported as CumSum over the
// sequence axis.
func init() {
	define(def{OpDef: graph.OpDef{Op: "CumSum", Infer: inferCumSum}, eval: cumSum})
}

func inferCumSum(s *graph.Step, _ int64) error {
	if err := need(s, 2); err != nil {
		return err
	}
	if len(s.In[0].Shape) == 0 {
		return fmt.Errorf("input x must have rank ≥ 1, has a scalar")
	}
	setOut(s, 0, s.In[0].DType, cp(s.In[0].Shape))
	return nil
}

func cumSum(c call) error {
	x, o := c.in[0], c.out[0]
	var axis int64
	switch a := c.in[1]; {
	case a.DType == onnx.Int64 && len(a.Int64) == 1:
		axis = a.Int64[0]
	case a.DType == onnx.Int32 && len(a.Int32) == 1:
		axis = int64(a.Int32[0])
	default:
		return fmt.Errorf("axis must be one int32 or int64, got %s of shape %v", graph.DTypeName(a.DType), a.Shape)
	}
	ax, err := normAxis(int(axis), len(x.Shape))
	if err != nil {
		return err
	}
	// The data is outer × n × inner with n the summed axis.
	outer, inner := 1, 1
	for _, d := range x.Shape[:ax] {
		outer *= d
	}
	for _, d := range x.Shape[ax+1:] {
		inner *= d
	}
	g := cumGeom{outer: outer, n: x.Shape[ax], inner: inner,
		exclusive: c.s.Node.Int("exclusive", 0) != 0, reverse: c.s.Node.Int("reverse", 0) != 0}
	switch x.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		cumSumT(g, o.Float32, x.Float32)
	case onnx.Double:
		cumSumT(g, o.Float64, x.Float64)
	case onnx.Int64:
		cumSumT(g, o.Int64, x.Int64)
	case onnx.Int32:
		cumSumT(g, o.Int32, x.Int32)
	case onnx.Uint32:
		cumSumT(g, o.Uint32, x.Uint32)
	case onnx.Uint64:
		cumSumT(g, o.Uint64, x.Uint64)
	default:
		return fmt.Errorf("CumSum of %s", graph.DTypeName(x.DType))
	}
	return nil
}

type cumGeom struct {
	outer, n, inner    int
	exclusive, reverse bool
}

func cumSumT[T num](g cumGeom, d, s []T) {
	for o := 0; o < g.outer; o++ {
		for in := 0; in < g.inner; in++ {
			base := o*g.n*g.inner + in
			var acc T
			for k := 0; k < g.n; k++ {
				j := k
				if g.reverse {
					j = g.n - 1 - k
				}
				i := base + j*g.inner
				v := s[i]
				if g.exclusive {
					d[i] = acc
					acc += v
				} else {
					acc += v
					d[i] = acc
				}
			}
		}
	}
}

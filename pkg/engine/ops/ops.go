package ops

import (
	"fmt"
	"math"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// Elementwise operators.
func init() {
	for _, op := range []string{"Sqrt", "Exp", "Erf", "Sigmoid", "Tanh", "Neg", "Abs", "Reciprocal"} {
		define(def{OpDef: graph.OpDef{Op: op, Infer: inferSame}, eval: func(c call) error { return unary(op, c.in[0], c.out[0]) }})
	}
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		define(def{OpDef: graph.OpDef{Op: op, Infer: inferBroadcast}, eval: func(c call) error { return arith(op, c.in[0], c.in[1], c.out[0]) }})
	}
	for _, op := range []string{"Equal", "Less", "Greater"} {
		define(def{OpDef: graph.OpDef{Op: op, Infer: inferCompare}, eval: func(c call) error { return compare(op, c.in[0], c.in[1], c.out[0]) }})
	}
	define(
		def{OpDef: graph.OpDef{Op: "Identity", Infer: inferSame, Aliases: true}, eval: evalAlias},
		def{OpDef: graph.OpDef{Op: "Pow", Infer: inferBroadcast}, eval: func(c call) error { return pow(c.in[0], c.in[1], c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Not", Infer: inferSame}, eval: func(c call) error { return not(c.in[0], c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Clip", Infer: inferClip}, eval: func(c call) error { return clip(c.s, c.in, c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Where", Infer: inferWhere}, eval: func(c call) error { return where(c.in[0], c.in[1], c.in[2], c.out[0]) }},
		def{OpDef: graph.OpDef{Op: "Cast", Check: checkCast, Infer: withX(inferCast)}, eval: func(c call) error { return cast(c.in[0], c.out[0]) }},
	)
}

// inferSame gives output 0 input 0's dtype and shape.
func inferSame(s *graph.Step, _ int64) error {
	if err := need(s, 1); err != nil {
		return err
	}
	setOut(s, 0, s.In[0].DType, cp(s.In[0].Shape))
	return nil
}

// inferBroadcast types a binary op's output like input 0, with the
// inputs' broadcast shape.
func inferBroadcast(s *graph.Step, _ int64) error {
	if err := need(s, 2); err != nil {
		return err
	}
	sh, err := graph.Broadcast(s.In[0].Shape, s.In[1].Shape)
	if err != nil {
		return err
	}
	setOut(s, 0, s.In[0].DType, sh)
	return nil
}

func inferCompare(s *graph.Step, opset int64) error {
	if err := inferBroadcast(s, opset); err != nil {
		return err
	}
	s.Out[0].DType = onnx.Bool
	return nil
}

func inferClip(s *graph.Step, opset int64) error {
	if opset < 11 {
		s.P.HasMinMax = true
		s.P.Min, s.P.Max = s.Node.Float("min", -3.4028234663852886e38), s.Node.Float("max", 3.4028234663852886e38)
	}
	return inferSame(s, opset)
}

func inferWhere(s *graph.Step, _ int64) error {
	if err := need(s, 3); err != nil {
		return err
	}
	sh, err := graph.Broadcast(s.In[0].Shape, s.In[1].Shape, s.In[2].Shape)
	if err != nil {
		return err
	}
	setOut(s, 0, s.In[1].DType, sh)
	return nil
}

func checkCast(n *graph.Node) error {
	if to := onnx.DataType(n.Int("to", 0)); !graph.Supported(to) {
		return fmt.Errorf("Cast to %s is not supported", graph.DTypeName(to))
	}
	return nil
}

func inferCast(s *graph.Step, x *graph.Value, _ int64) error {
	s.P.To = onnx.DataType(s.Node.Int("to", 0))
	setOut(s, 0, s.P.To, cp(x.Shape))
	return nil
}

// evalAlias points output 0 at input 0's data (reshape-like ops).
func evalAlias(c call) error {
	alias(c.out[0], c.in[0])
	return nil
}

func not(x, o *graph.Tensor) error {
	if x.DType != onnx.Bool {
		return fmt.Errorf("Not needs bool, got %s", graph.DTypeName(x.DType))
	}
	for i, v := range x.Bool {
		o.Bool[i] = !v
	}
	return nil
}

type num interface {
	~float32 | ~float64 | ~int64 | ~int32 | ~uint8 | ~int8 | ~uint32 | ~uint64
}

func arith(op string, a, b, o *graph.Tensor) error {
	if a.DType != b.DType && !(isFloat(a.DType) && isFloat(b.DType)) {
		return fmt.Errorf("%s of %s and %s", op, graph.DTypeName(a.DType), graph.DTypeName(b.DType))
	}
	if isFloat(o.DType) && len(a.Float32) == len(o.Float32) && len(b.Float32) == len(o.Float32) {
		// Both operands have the output's shape (as many values, and they
		// broadcast to it): the chains' definition (kernels.Binary), which
		// rounds as arithT does.
		elementwiseOp(elementwiseCodes[op], o.Float32, a.Float32, b.Float32)
		return nil
	}
	as, bs := bstrides(a.Shape, o.Shape), bstrides(b.Shape, o.Shape)
	switch o.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		arithT(op, o.Float32, a.Float32, b.Float32, o.Shape, as, bs)
	case onnx.Double:
		arithT(op, o.Float64, a.Float64, b.Float64, o.Shape, as, bs)
	case onnx.Int64:
		arithT(op, o.Int64, a.Int64, b.Int64, o.Shape, as, bs)
	case onnx.Int32:
		arithT(op, o.Int32, a.Int32, b.Int32, o.Shape, as, bs)
	case onnx.Uint8:
		arithT(op, o.Uint8, a.Uint8, b.Uint8, o.Shape, as, bs)
	case onnx.Int8:
		arithT(op, o.Int8, a.Int8, b.Int8, o.Shape, as, bs)
	case onnx.Uint32:
		arithT(op, o.Uint32, a.Uint32, b.Uint32, o.Shape, as, bs)
	case onnx.Uint64:
		arithT(op, o.Uint64, a.Uint64, b.Uint64, o.Shape, as, bs)
	default:
		return fmt.Errorf("%s of %s is not supported", op, graph.DTypeName(o.DType))
	}
	return nil
}

func isFloat(dt onnx.DataType) bool {
	return dt == onnx.Float || dt == onnx.Float16 || dt == onnx.BFloat16
}

func arithT[T num](op string, out, a, b []T, sh, as, bs []int) {
	runs(sh, [][]int{contiguous(sh), as, bs}, nil, func(o []int, n int, in []int) {
		d := out[o[0] : o[0]+n]
		ai, bi, sa, sb := o[1], o[2], in[1], in[2]
		switch op {
		case "Add":
			if sa == 1 && sb == 1 {
				x, y := a[ai:ai+n], b[bi:bi+n]
				for i := range d {
					d[i] = x[i] + y[i]
				}
				return
			}
			for i := range d {
				d[i] = a[ai] + b[bi]
				ai += sa
				bi += sb
			}
		case "Sub":
			for i := range d {
				d[i] = a[ai] - b[bi]
				ai += sa
				bi += sb
			}
		case "Mul":
			if sa == 1 && sb == 1 {
				x, y := a[ai:ai+n], b[bi:bi+n]
				for i := range d {
					d[i] = x[i] * y[i]
				}
				return
			}
			for i := range d {
				d[i] = a[ai] * b[bi]
				ai += sa
				bi += sb
			}
		case "Div":
			var zero T
			for i := range d {
				y := b[bi]
				if y == zero && !isFloatT(y) {
					d[i] = zero // integer division by zero is undefined in ONNX
				} else {
					d[i] = a[ai] / y
				}
				ai += sa
				bi += sb
			}
		}
	})
}

func isFloatT[T num](x T) bool {
	switch any(x).(type) {
	case float32, float64:
		return true
	}
	return false
}

// getF returns an element reader widening any numeric dtype to float64.
func getF(t *graph.Tensor) func(i int) float64 { return t.Float64At }

// setF returns an element writer narrowing a float64 to t's dtype (integer
// targets truncate toward zero, like a C cast).
func setF(t *graph.Tensor) func(i int, v float64) {
	switch t.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		return func(i int, v float64) { t.Float32[i] = float32(v) }
	case onnx.Double:
		return func(i int, v float64) { t.Float64[i] = v }
	case onnx.Int64:
		return func(i int, v float64) { t.Int64[i] = int64(v) }
	case onnx.Int32:
		return func(i int, v float64) { t.Int32[i] = int32(v) }
	case onnx.Bool:
		return func(i int, v float64) { t.Bool[i] = v != 0 }
	case onnx.Uint8:
		return func(i int, v float64) { t.Uint8[i] = uint8(int64(v)) }
	case onnx.Int8:
		return func(i int, v float64) { t.Int8[i] = int8(int64(v)) }
	case onnx.Uint32:
		return func(i int, v float64) { t.Uint32[i] = uint32(int64(v)) }
	case onnx.Uint64:
		return func(i int, v float64) {
			if v < 0 {
				t.Uint64[i] = uint64(int64(v)) // wraps like a C cast, as for the other integer types
			} else {
				t.Uint64[i] = uint64(v)
			}
		}
	}
	return func(int, float64) {}
}

// powF32 is Pow in float32: x·x for 2 and the square root for 0.5, as
// exact as those, else math.Pow in float64.
func powF32(x, e float32) float32 {
	switch e {
	case 2:
		return x * x
	case 0.5:
		return float32(math.Sqrt(float64(x)))
	}
	return float32(math.Pow(float64(x), float64(e)))
}

func pow(a, b, o *graph.Tensor) error {
	if isFloat(a.DType) && isFloat(b.DType) && len(b.Float32) == 1 && b.Float32[0] == 2 && len(a.Float32) == len(o.Float32) {
		// x² (a decomposed LayerNorm's variance): x·x, as below, vectorised.
		kernels.Binary(kernels.BinaryMul, o.Float32, a.Float32, a.Float32)
		return nil
	}
	as, bs := bstrides(a.Shape, o.Shape), bstrides(b.Shape, o.Shape)
	if isFloat(a.DType) && isFloat(b.DType) {
		x, y, d := a.Float32, b.Float32, o.Float32
		runs(o.Shape, [][]int{contiguous(o.Shape), as, bs}, nil, func(of []int, n int, in []int) {
			ai, bi := of[1], of[2]
			for i := 0; i < n; i++ {
				d[of[0]+i] = powF32(x[ai], y[bi])
				ai += in[1]
				bi += in[2]
			}
		})
		return nil
	}
	ga, gb, so := getF(a), getF(b), setF(o)
	runs(o.Shape, [][]int{contiguous(o.Shape), as, bs}, nil, func(of []int, n int, in []int) {
		ai, bi := of[1], of[2]
		for i := 0; i < n; i++ {
			so(of[0]+i, math.Pow(ga(ai), gb(bi)))
			ai += in[1]
			bi += in[2]
		}
	})
	return nil
}

func compare(op string, a, b, o *graph.Tensor) error {
	if a.DType != b.DType {
		return fmt.Errorf("%s of %s and %s", op, graph.DTypeName(a.DType), graph.DTypeName(b.DType))
	}
	as, bs := bstrides(a.Shape, o.Shape), bstrides(b.Shape, o.Shape)
	if a.DType == onnx.Bool {
		if op != "Equal" {
			return fmt.Errorf("%s of bool", op)
		}
		runs(o.Shape, [][]int{contiguous(o.Shape), as, bs}, nil, func(of []int, n int, in []int) {
			ai, bi := of[1], of[2]
			for i := 0; i < n; i++ {
				o.Bool[of[0]+i] = a.Bool[ai] == b.Bool[bi]
				ai += in[1]
				bi += in[2]
			}
		})
		return nil
	}
	switch a.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		cmpT(op, o.Bool, a.Float32, b.Float32, o.Shape, as, bs)
	case onnx.Double:
		cmpT(op, o.Bool, a.Float64, b.Float64, o.Shape, as, bs)
	case onnx.Int64:
		cmpT(op, o.Bool, a.Int64, b.Int64, o.Shape, as, bs)
	case onnx.Int32:
		cmpT(op, o.Bool, a.Int32, b.Int32, o.Shape, as, bs)
	case onnx.Uint8:
		cmpT(op, o.Bool, a.Uint8, b.Uint8, o.Shape, as, bs)
	case onnx.Int8:
		cmpT(op, o.Bool, a.Int8, b.Int8, o.Shape, as, bs)
	case onnx.Uint32:
		cmpT(op, o.Bool, a.Uint32, b.Uint32, o.Shape, as, bs)
	case onnx.Uint64:
		cmpT(op, o.Bool, a.Uint64, b.Uint64, o.Shape, as, bs)
	default:
		return fmt.Errorf("%s of %s", op, graph.DTypeName(a.DType))
	}
	return nil
}

func cmpT[T num](op string, out []bool, a, b []T, sh, as, bs []int) {
	runs(sh, [][]int{contiguous(sh), as, bs}, nil, func(o []int, n int, in []int) {
		ai, bi := o[1], o[2]
		for i := 0; i < n; i++ {
			var r bool
			switch op {
			case "Equal":
				r = a[ai] == b[bi]
			case "Less":
				r = a[ai] < b[bi]
			case "Greater":
				r = a[ai] > b[bi]
			}
			out[o[0]+i] = r
			ai += in[1]
			bi += in[2]
		}
	})
}

func where(c, x, y, o *graph.Tensor) error {
	if c.DType != onnx.Bool {
		return fmt.Errorf("Where condition must be bool, got %s", graph.DTypeName(c.DType))
	}
	if x.DType != y.DType {
		return fmt.Errorf("Where of %s and %s", graph.DTypeName(x.DType), graph.DTypeName(y.DType))
	}
	st := [][]int{contiguous(o.Shape), bstrides(c.Shape, o.Shape), bstrides(x.Shape, o.Shape), bstrides(y.Shape, o.Shape)}
	switch o.DType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		whereT(o.Float32, c.Bool, x.Float32, y.Float32, o.Shape, st)
	case onnx.Double:
		whereT(o.Float64, c.Bool, x.Float64, y.Float64, o.Shape, st)
	case onnx.Int64:
		whereT(o.Int64, c.Bool, x.Int64, y.Int64, o.Shape, st)
	case onnx.Int32:
		whereT(o.Int32, c.Bool, x.Int32, y.Int32, o.Shape, st)
	case onnx.Bool:
		whereT(o.Bool, c.Bool, x.Bool, y.Bool, o.Shape, st)
	case onnx.Uint8:
		whereT(o.Uint8, c.Bool, x.Uint8, y.Uint8, o.Shape, st)
	case onnx.Int8:
		whereT(o.Int8, c.Bool, x.Int8, y.Int8, o.Shape, st)
	case onnx.Uint32:
		whereT(o.Uint32, c.Bool, x.Uint32, y.Uint32, o.Shape, st)
	case onnx.Uint64:
		whereT(o.Uint64, c.Bool, x.Uint64, y.Uint64, o.Shape, st)
	}
	return nil
}

func whereT[T any](out []T, c []bool, x, y []T, sh []int, st [][]int) {
	runs(sh, st, nil, func(o []int, n int, in []int) {
		ci, xi, yi := o[1], o[2], o[3]
		for i := 0; i < n; i++ {
			if c[ci] {
				out[o[0]+i] = x[xi]
			} else {
				out[o[0]+i] = y[yi]
			}
			ci += in[1]
			xi += in[2]
			yi += in[3]
		}
	})
}

func unary(op string, x, o *graph.Tensor) error {
	if isFloat(x.DType) {
		// The float32 definitions an elementwise chain runs too.
		c, ok := elementwiseCodes[op]
		if !ok {
			return fmt.Errorf("%s of %s", op, graph.DTypeName(x.DType))
		}
		elementwiseOp(c, o.Float32, x.Float32, nil)
		return nil
	}
	g, st := getF(x), setF(o)
	f := map[string]func(float64) float64{
		"Sqrt": math.Sqrt, "Exp": math.Exp, "Erf": math.Erf, "Tanh": math.Tanh,
		"Sigmoid":    func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
		"Neg":        func(v float64) float64 { return -v },
		"Abs":        math.Abs,
		"Reciprocal": func(v float64) float64 { return 1 / v },
	}[op]
	switch x.DType {
	case onnx.Double, onnx.Int64, onnx.Int32, onnx.Int8, onnx.Uint8, onnx.Uint32, onnx.Uint64:
	default:
		return fmt.Errorf("%s of %s", op, graph.DTypeName(x.DType))
	}
	if x.DType == onnx.Int64 && (op == "Neg" || op == "Abs") {
		for i, v := range x.Int64 { // exact beyond 2^53
			if op == "Neg" || v < 0 {
				v = -v
			}
			o.Int64[i] = v
		}
		return nil
	}
	for i := 0; i < x.Len(); i++ {
		st(i, f(g(i)))
	}
	return nil
}

func clip(s *graph.Step, in []*graph.Tensor, o *graph.Tensor) error {
	x := in[0]
	lo, hi := math.Inf(-1), math.Inf(1)
	if s.P.HasMinMax {
		lo, hi = float64(s.P.Min), float64(s.P.Max)
	}
	if len(in) > 1 && in[1] != nil {
		lo = in[1].Float64At(0)
	}
	if len(in) > 2 && in[2] != nil {
		hi = in[2].Float64At(0)
	}
	if isFloat(x.DType) {
		l, h := float32(lo), float32(hi)
		if math.IsInf(lo, -1) {
			l = float32(math.Inf(-1))
		}
		if math.IsInf(hi, 1) {
			h = float32(math.Inf(1))
		}
		for i, v := range x.Float32 {
			if v < l {
				v = l
			}
			if v > h {
				v = h
			}
			o.Float32[i] = v
		}
		return nil
	}
	if x.DType == onnx.Int64 {
		l, h := int64(math.MinInt64), int64(math.MaxInt64)
		if len(in) > 1 && in[1] != nil {
			l = in[1].Int64[0]
		}
		if len(in) > 2 && in[2] != nil {
			h = in[2].Int64[0]
		}
		for i, v := range x.Int64 {
			o.Int64[i] = min(max(v, l), h)
		}
		return nil
	}
	g, st := getF(x), setF(o)
	for i := 0; i < x.Len(); i++ {
		st(i, math.Min(math.Max(g(i), lo), hi))
	}
	return nil
}

func cast(x, o *graph.Tensor) error {
	if !graph.Supported(o.DType) {
		return fmt.Errorf("Cast to %s is not supported", graph.DTypeName(o.DType))
	}
	switch {
	case isFloat(x.DType) && isFloat(o.DType):
		copy(o.Float32, x.Float32) // rounding to half precision happens in Eval
		return nil
	case x.DType == o.DType:
		graph.CopyRange(o, 0, x, 0, x.Len())
		return nil
	case x.DType == onnx.Int64 && o.DType == onnx.Int32:
		for i, v := range x.Int64 {
			o.Int32[i] = int32(v)
		}
		return nil
	case x.DType == onnx.Int32 && isFloat(o.DType):
		for i, v := range x.Int32 {
			o.Float32[i] = float32(v)
		}
		return nil
	case x.DType == onnx.Int32 && o.DType == onnx.Int64:
		for i, v := range x.Int32 {
			o.Int64[i] = int64(v)
		}
		return nil
	case isFloat(x.DType) && o.DType == onnx.Uint8:
		for i, v := range x.Float32 {
			o.Uint8[i] = uint8(int64(v))
		}
		return nil
	}
	g, st := getF(x), setF(o)
	for i := 0; i < x.Len(); i++ {
		st(i, g(i))
	}
	return nil
}

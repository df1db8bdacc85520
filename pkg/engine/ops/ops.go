package ops

import (
	"fmt"
	"math"

	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// opList is every ONNX operator Eval implements.
var opList = []string{
	"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Erf", "Sigmoid", "Tanh", "Neg", "Abs", "Reciprocal",
	"MatMul", "Gemm", "Conv", "ReduceMean", "ReduceSum", "ReduceL2", "ReduceMax", "Softmax", "LayerNormalization",
	"Gather", "Slice", "Concat", "Split", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Expand",
	"Where", "Equal", "Less", "Greater", "Not", "Cast", "Shape", "Range", "ConstantOfShape", "Constant",
	"Identity", "ArgMax", "Trilu", "Clip",
	"DynamicQuantizeLinear", "QuantizeLinear", "DequantizeLinear", "MatMulInteger", "ConvInteger",
}

// Supported reports whether op is implemented.
func Supported(op string) bool {
	for _, o := range opList {
		if o == op {
			return true
		}
	}
	return false
}

// List returns the implemented operators.
func List() []string { return append([]string{}, opList...) }

// Aliases reports whether op's output shares its first input's data
// (reshape-like ops); such outputs need no buffer of their own.
func Aliases(op string) bool {
	switch op {
	case "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Identity":
		return true
	}
	return false
}

// Eval computes step s: in holds the input tensors (nil for omitted
// optional inputs), out the output tensors, allocated with the bound
// shapes (unless Aliases(op)). Outputs typed float16 are rounded to
// float16 precision, as a half-precision computation would store them.
func Eval(s *graph.Step, in, out []*graph.Tensor) error {
	return evalEnv(nil, s, in, out, nil)
}

// ScratchSize returns how many float32 values of working memory step s
// needs while it runs (0: none), for a caller that plans memory to pass
// to Env.EvalScratch; Eval finds such memory itself.
func ScratchSize(s *graph.Step) int {
	switch {
	case s.Node.Op == graph.OpPatchEmbed:
		return patchMatrixSize(s.In[0].Shape, s.In[1].Shape)
	case s.Node.Op == graph.OpLinear && hasNorm(s):
		return graph.NumElements(s.In[0].Shape) // the normalised X
	}
	return 0
}

func evalEnv(e *Env, s *graph.Step, in, out []*graph.Tensor, scratch []float32) error {
	if err := eval(e, s, in, out, scratch); err != nil {
		return err
	}
	for _, o := range out {
		if o == nil {
			continue
		}
		switch o.DType {
		case onnx.Float16:
			graph.RoundFloat16(o.Float32)
		case onnx.BFloat16:
			for i, x := range o.Float32 {
				o.Float32[i] = roundBF16(x)
			}
		}
	}
	return nil
}

func roundBF16(x float32) float32 {
	b := math.Float32bits(x)
	if x != x {
		return x
	}
	b += 0x7fff + (b>>16)&1
	return math.Float32frombits(b &^ 0xffff)
}

func eval(e *Env, s *graph.Step, in, out []*graph.Tensor, scratch []float32) error {
	p := &s.P
	switch op := s.Node.Op; op {
	case "Identity", "Reshape", "Squeeze", "Unsqueeze", "Flatten":
		alias(out[0], in[0])
		return nil
	case "Add", "Sub", "Mul", "Div":
		return arith(op, in[0], in[1], out[0])
	case "Pow":
		return pow(in[0], in[1], out[0])
	case "Equal", "Less", "Greater":
		return compare(op, in[0], in[1], out[0])
	case "Where":
		return where(in[0], in[1], in[2], out[0])
	case "Sqrt", "Exp", "Erf", "Sigmoid", "Tanh", "Neg", "Abs", "Reciprocal":
		return unary(op, in[0], out[0])
	case "Not":
		if in[0].DType != onnx.Bool {
			return fmt.Errorf("Not needs bool, got %s", graph.DTypeName(in[0].DType))
		}
		for i, v := range in[0].Bool {
			out[0].Bool[i] = !v
		}
		return nil
	case "Clip":
		return clip(s, in, out[0])
	case "Cast":
		return cast(in[0], out[0])
	case "MatMul":
		return matmul(e, in[0], in[1], out[0])
	case "Gemm":
		return gemm(e, p, in, out[0])
	case "Conv":
		return conv(e, p, in, out[0])
	case "ReduceMean", "ReduceSum", "ReduceL2", "ReduceMax":
		return reduce(op, p, in[0], out[0])
	case "ArgMax":
		return argmax(p, in[0], out[0])
	case "Softmax":
		return softmax(e, p, in[0], out[0])
	case "LayerNormalization":
		return layerNorm(e, p, in, out)
	case "Gather":
		return gather(p, in[0], in[1], out[0])
	case "Slice":
		st := contiguous(in[0].Shape)
		base := 0
		src := make([]int, len(st))
		for d := range st {
			base += p.Starts[d] * st[d]
			src[d] = st[d] * p.Steps[d]
		}
		stridedCopy(out[0], in[0], out[0].Shape, src, base)
		return nil
	case "Transpose":
		st := contiguous(in[0].Shape)
		src := make([]int, len(st))
		for i, q := range p.Perm {
			src[i] = st[q]
		}
		stridedCopy(out[0], in[0], out[0].Shape, src, 0)
		return nil
	case "Expand":
		stridedCopy(out[0], in[0], out[0].Shape, bstrides(in[0].Shape, out[0].Shape), 0)
		return nil
	case "Concat":
		return concat(p, in, out[0])
	case "Split":
		return split(p, in[0], out)
	case "Range":
		return rangeOp(in, out[0])
	case "ConstantOfShape":
		return fill(out[0], p.Value)
	case "Trilu":
		return trilu(p, in, out[0])
	case "DynamicQuantizeLinear":
		return dynQuant(e, in[0], out)
	case "QuantizeLinear":
		return quantize(p, in, out[0])
	case "DequantizeLinear":
		return dequantize(p, in, out[0])
	case "MatMulInteger":
		if ok, err := e.matmulIntegerPacked(s, in, out[0]); ok || err != nil {
			return err
		}
		return matmulInteger(in, out[0])
	case "ConvInteger":
		return convInteger(e, s, in, out[0])
	case graph.OpLinear:
		return e.linear(s, in, out[0], scratch)
	case graph.OpQLinear:
		return e.qlinear(s, in, out[0])
	case graph.OpAttention:
		return attention(e, p, in, out[0])
	case graph.OpPatchEmbed:
		return e.patchEmbed(in, out[0], scratch)
	case graph.OpQuickGELU:
		kernels.QuickGELU(out[0].Float32, in[0].Float32)
		return nil
	case "Shape", "Constant":
		return fmt.Errorf("%s is folded before the run", op)
	}
	return fmt.Errorf("operator %s is not implemented", s.Node.Op)
}

type num interface {
	~float32 | ~float64 | ~int64 | ~int32 | ~uint8 | ~int8
}

func arith(op string, a, b, o *graph.Tensor) error {
	if a.DType != b.DType && !(isFloat(a.DType) && isFloat(b.DType)) {
		return fmt.Errorf("%s of %s and %s", op, graph.DTypeName(a.DType), graph.DTypeName(b.DType))
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
	}
	return func(int, float64) {}
}

func pow(a, b, o *graph.Tensor) error {
	as, bs := bstrides(a.Shape, o.Shape), bstrides(b.Shape, o.Shape)
	if isFloat(a.DType) && isFloat(b.DType) {
		x, y, d := a.Float32, b.Float32, o.Float32
		runs(o.Shape, [][]int{contiguous(o.Shape), as, bs}, nil, func(of []int, n int, in []int) {
			ai, bi := of[1], of[2]
			for i := 0; i < n; i++ {
				e := y[bi]
				switch e {
				case 2:
					d[of[0]+i] = x[ai] * x[ai]
				case 0.5:
					d[of[0]+i] = float32(math.Sqrt(float64(x[ai])))
				default:
					d[of[0]+i] = float32(math.Pow(float64(x[ai]), float64(e)))
				}
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
		d, s := o.Float32, x.Float32
		switch op {
		case "Sqrt":
			for i, v := range s {
				d[i] = float32(math.Sqrt(float64(v)))
			}
		case "Exp":
			kernels.Exp(d, s)
		case "Erf":
			kernels.Erf(d, s)
		case "Sigmoid":
			kernels.Sigmoid(d, s)
		case "Tanh":
			for i, v := range s {
				d[i] = float32(math.Tanh(float64(v)))
			}
		case "Neg":
			for i, v := range s {
				d[i] = -v
			}
		case "Abs":
			for i, v := range s {
				d[i] = float32(math.Abs(float64(v)))
			}
		case "Reciprocal":
			for i, v := range s {
				d[i] = 1 / v
			}
		}
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
	case onnx.Double, onnx.Int64, onnx.Int32, onnx.Int8, onnx.Uint8:
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
		copyRange(o, 0, x, 0, x.Len())
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

package kernels

// Add sets dst[i] += src[i] for i < len(src); len(dst) ≥ len(src).
func Add(dst, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if hasAVX2FMA {
		n = len(src) &^ 31
		if n > 0 {
			addAVX2(&dst[0], &src[0], n)
		}
	}
	if hasNEON {
		n = len(src) &^ 15
		if n > 0 {
			addNEON(&dst[0], &src[0], n)
		}
	}
	for i := n; i < len(src); i++ {
		dst[i] += src[i]
	}
}

// BinaryOp is the operator of Binary.
type BinaryOp int

const (
	BinaryAdd BinaryOp = iota
	BinarySub
	BinaryMul
	BinaryDiv
)

// Binary sets dst[i] = x[i] op y[i] for i < len(dst), each correctly
// rounded as Go's float32 operators round (so the vector and the scalar
// routes agree bit for bit); x and y hold at least len(dst) values, and dst
// may be x or y. It panics on an unknown op.
func Binary(op BinaryOp, dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	n := 0
	if hasAVX2FMA || hasNEON {
		n = len(dst) &^ 15
	}
	if n > 0 {
		vec := [...]func(dst, x, y *float32, n int){addVecAVX2, subVecAVX2, mulVecAVX2, divVecAVX2}
		if hasNEON {
			vec = [...]func(dst, x, y *float32, n int){addVecNEON, subVecNEON, mulVecNEON, divVecNEON}
		}
		vec[op](&dst[0], &x[0], &y[0], n)
	}
	binaryGo(op, dst[n:], x[n:], y[n:])
}

// binaryGo is Binary in plain Go, the vector kernels' twin.
func binaryGo(op BinaryOp, dst, x, y []float32) {
	switch op {
	case BinaryAdd:
		for i := range dst {
			dst[i] = x[i] + y[i]
		}
	case BinarySub:
		for i := range dst {
			dst[i] = x[i] - y[i]
		}
	case BinaryMul:
		for i := range dst {
			dst[i] = x[i] * y[i]
		}
	case BinaryDiv:
		for i := range dst {
			dst[i] = x[i] / y[i]
		}
	default:
		panic("kernels: Binary: unknown operator")
	}
}

// elementwiseChunk is the smallest share of an Elementwise call given to
// a thread: below it, waking a worker costs more than the work.
const elementwiseChunk = 1 << 15

// Elementwise applies an elementwise kernel such as Exp, QuickGELU,
// Sigmoid, GELU or Erf (fn(dst, src), len(dst) ≥ len(src)) to src in
// parallel chunks on p. dst may be src. Chunk boundaries are multiples of
// 32 elements, so the vector code sees the same alignment as one call.
func Elementwise(p *Pool, fn func(dst, src []float32), dst, src []float32) {
	n := len(src)
	dst = dst[:n]
	if n < 2*elementwiseChunk || p.Threads() == 1 {
		fn(dst, src)
		return
	}
	blocks := ceilDiv(n, 32)
	p.Parallel(blocks, elementwiseChunk/32, func(lo, hi int) {
		a, b := lo*32, min(hi*32, n)
		fn(dst[a:b], src[a:b])
	})
}

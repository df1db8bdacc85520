package kernels

import (
	"fmt"
	"math"
)

// MinMax returns the smallest and largest values of x (NaNs are skipped
// by the vector path; use it on finite data). It panics on an empty x.
func MinMax(x []float32) (lo, hi float32) {
	lo, hi = x[0], x[0]
	n := 0
	if hasAVX2FMA {
		n = len(x) &^ 7
		if n > 0 {
			lo, hi = minMaxAVX2(&x[0], n)
		}
	}
	for _, v := range x[n:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// rangeWithZero returns min(0, x...) and max(0, x...) skipping NaNs: the
// range DynamicQuantizeLinear maps to [0, 255].
func rangeWithZero(x []float32) (lo, hi float32) {
	if len(x) > 0 {
		lo, hi = MinMax(x)
		lo, hi = min(lo, 0), max(hi, 0)
	}
	if lo != lo || hi != hi { // a NaN reached the scalar tail: skip NaNs
		lo, hi = 0, 0
		for _, v := range x {
			if v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
	}
	return lo, hi
}

// QuantParams gives DynamicQuantizeU8 the scale and zero point for the
// range [lo, hi] of the whole input, or ok false to leave the input
// unquantized. It is called once per thread and must be a pure function.
type QuantParams func(lo, hi float32) (scale float32, zero uint8, ok bool)

// DynamicQuantizeU8 is DynamicQuantizeLinear's two passes in one parallel
// call: each thread finds the range of its share of src (rangeWithZero),
// the threads meet, and each quantizes its own share, which is still in
// its cache, into dst with the parameters params gives
// for the whole range. It returns the range and whether dst was written
// (params's ok). One call instead of a range pass and a quantize pass
// saves a meeting of the threads and a read of src from memory.
func DynamicQuantizeU8(p *Pool, dst []uint8, src []float32, params QuantParams) (lo, hi float32, quantized bool) {
	if len(dst) < len(src) {
		return 0, 0, false
	}
	blocks := ceilDiv(len(src), 32)
	threads := p.beginSplit(blocks, elementwiseChunk/32)
	if threads <= 1 {
		lo, hi = rangeWithZero(src)
		scale, zero, ok := params(lo, hi)
		if ok {
			quantizeU8(dst[:len(src)], src, scale, float32(zero))
		}
		return lo, hi, ok
	}
	defer p.release()
	c := &p.dynQuant
	if cap(c.ranges) < 2*threads {
		c.ranges = make([]float32, 2*threads)
	}
	c.dst, c.src, c.params, c.threads, c.ranges = dst, src, params, threads, c.ranges[:2*threads]
	c.bar = barrier{n: int32(threads)}
	p.run(threads, p.dynQuantFn)
	lo, hi, quantized = c.lo, c.hi, c.ok
	c.dst, c.src, c.params = nil, nil, nil
	return lo, hi, quantized
}

// dynQuantCall is one parallel DynamicQuantizeU8 call.
type dynQuantCall struct {
	dst     []uint8
	src     []float32
	params  QuantParams
	threads int
	ranges  []float32 // thread t's range at 2t, 2t+1
	bar     barrier
	lo, hi  float32 // the whole range and params's ok (thread 0's)
	ok      bool
}

// share is thread t's part: the range of its 32-value blocks, the
// meeting, then their quantisation.
func (c *dynQuantCall) share(t int) {
	blocks := ceilDiv(len(c.src), 32)
	a, b := blocks*t/c.threads*32, min(blocks*(t+1)/c.threads*32, len(c.src))
	x := c.src[a:b]
	c.ranges[2*t], c.ranges[2*t+1] = rangeWithZero(x)
	c.bar.wait()
	var lo, hi float32
	for i := 0; i < len(c.ranges); i += 2 {
		lo, hi = min(lo, c.ranges[i]), max(hi, c.ranges[i+1])
	}
	scale, zero, ok := c.params(lo, hi)
	if ok {
		quantizeU8(c.dst[a:b], x, scale, float32(zero))
	}
	if t == 0 {
		c.lo, c.hi, c.ok = lo, hi, ok
	}
}

func quantizeU8(dst []uint8, src []float32, scale, zero float32) {
	n := 0
	if hasAVX2FMA {
		n = len(src) &^ 7
		if n > 0 {
			quantizeU8AVX2(&dst[0], &src[0], n, scale, zero)
		}
	}
	for i := n; i < len(src); i++ {
		r := float32(math.RoundToEven(float64(src[i]/scale))) + zero
		switch {
		case !(r > 0): // also NaN
			dst[i] = 0
		case r >= 255:
			dst[i] = 255
		default:
			dst[i] = uint8(r)
		}
	}
}

// DequantizeI32 turns the rows×cols int32 result of GemmU8 into float32:
// dst[i,j] = float(src[i,j])·scale·colScale[j] + bias[j], the
// Cast → Mul(a_scale·b_scale) → Add(bias) tail of a dynamically quantized
// MatMul. colScale (per-column weight scales) and bias have cols values
// or are nil (1 and 0). Rows run in parallel on p.
func DequantizeI32(p *Pool, dst []float32, src []int32, rows, cols int, scale float32, colScale, bias []float32) error {
	if rows < 0 || cols < 1 || len(dst) < rows*cols || len(src) < rows*cols {
		return fmt.Errorf("kernels: DequantizeI32: %d×%d with dst %d, src %d values", rows, cols, len(dst), len(src))
	}
	if (colScale != nil && len(colScale) != cols) || (bias != nil && len(bias) != cols) {
		return fmt.Errorf("kernels: DequantizeI32: colScale/bias have %d/%d values, want %d", len(colScale), len(bias), cols)
	}
	if (colScale == nil) != (bias == nil) {
		// The vector row routine reads both; give it neutral ones (this
		// mixed case allocates; the two common ones do not).
		ones, zeros := make([]float32, cols), make([]float32, cols)
		for j := range ones {
			ones[j] = 1
		}
		if colScale == nil {
			colScale = ones
		}
		if bias == nil {
			bias = zeros
		}
	}
	p.Parallel(rows, rowsPerChunk(cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			d, s := dst[r*cols:(r+1)*cols], src[r*cols:(r+1)*cols]
			n := 0
			if colScale == nil {
				if hasAVX2FMA {
					n = cols &^ 7
					if n > 0 {
						dequantScaleAVX2(&d[0], &s[0], n, scale)
					}
				}
				for j := n; j < cols; j++ {
					d[j] = float32(s[j]) * scale
				}
				continue
			}
			if hasAVX2FMA {
				n = cols &^ 7
				if n > 0 {
					dequantRowAVX2(&d[0], &s[0], &colScale[0], &bias[0], n, scale)
				}
			}
			for j := n; j < cols; j++ {
				d[j] = float32(s[j])*scale*colScale[j] + bias[j]
			}
		}
	})
	return nil
}

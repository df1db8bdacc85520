package kernels

import (
	"fmt"
	"math"
)

// rowParallelMin is the number of elements below which a row kernel stays
// on the calling goroutine (waking a worker costs more than the work).
const rowParallelMin = 1 << 15

// rowsPerChunk returns how many rows make one parallel chunk of at least
// rowParallelMin elements.
func rowsPerChunk(cols int) int { return max(1, rowParallelMin/max(1, cols)) }

// sum32 adds x with 8 independent partial sums: faster than one chain and
// more accurate (pairwise-like) for long rows.
func sum32(x []float32) float32 {
	var s [8]float32
	n := len(x) &^ 7
	for i := 0; i < n; i += 8 {
		v := (*[8]float32)(x[i:])
		s[0] += v[0]
		s[1] += v[1]
		s[2] += v[2]
		s[3] += v[3]
		s[4] += v[4]
		s[5] += v[5]
		s[6] += v[6]
		s[7] += v[7]
	}
	for i := n; i < len(x); i++ {
		s[i&7] += x[i]
	}
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
}

// Sum returns the sum of x in float32 with the vector unit's partial sums
// (AVX2: 32, NEON: 16, else 8 independent ones): a LayerNorm's mean, and
// a decomposed one's ReduceMean, whose one float64 chain was 8× slower.
func Sum(x []float32) float32 {
	if v := len(x) &^ 31; hasAVX2FMA && v > 0 {
		return sumAVX2(&x[0], v) + sum32(x[v:])
	}
	if v := len(x) &^ 15; hasNEON && v > 0 {
		return sumNEON(&x[0], v) + sum32(x[v:])
	}
	return sum32(x)
}

// sumSqDev returns Σ(x−mean)² with 8 partial sums.
func sumSqDev(x []float32, mean float32) float32 {
	var s [8]float32
	n := len(x) &^ 7
	for i := 0; i < n; i += 8 {
		v := (*[8]float32)(x[i:])
		d0, d1, d2, d3 := v[0]-mean, v[1]-mean, v[2]-mean, v[3]-mean
		d4, d5, d6, d7 := v[4]-mean, v[5]-mean, v[6]-mean, v[7]-mean
		s[0] += d0 * d0
		s[1] += d1 * d1
		s[2] += d2 * d2
		s[3] += d3 * d3
		s[4] += d4 * d4
		s[5] += d5 * d5
		s[6] += d6 * d6
		s[7] += d7 * d7
	}
	for i := n; i < len(x); i++ {
		d := x[i] - mean
		s[i&7] += d * d
	}
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
}

// maxRow returns the largest element of a non-empty x (NaN-oblivious).
func maxRow(x []float32) float32 {
	m0, m1, m2, m3 := x[0], x[0], x[0], x[0]
	n := len(x) &^ 3
	for i := 0; i < n; i += 4 {
		v := (*[4]float32)(x[i:])
		m0, m1, m2, m3 = max(m0, v[0]), max(m1, v[1]), max(m2, v[2]), max(m3, v[3])
	}
	for i := n; i < len(x); i++ {
		m0 = max(m0, x[i])
	}
	return max(max(m0, m1), max(m2, m3))
}

func checkRows(op string, dst, src []float32, rows, cols int) error {
	if rows < 0 || cols < 1 {
		return fmt.Errorf("kernels: %s: bad shape %d×%d", op, rows, cols)
	}
	if len(src) < rows*cols || len(dst) < rows*cols {
		return fmt.Errorf("kernels: %s: %d×%d rows need %d elements, have src %d, dst %d", op, rows, cols, rows*cols, len(src), len(dst))
	}
	return nil
}

// Softmax sets each row of dst (rows×cols, row-major) to the softmax of
// the same row of src, the numerically stable way (exp(x − max)). dst may
// be src. A row of all −Inf becomes NaN, as in onnxruntime.
func Softmax(p *Pool, dst, src []float32, rows, cols int) error {
	if err := checkRows("Softmax", dst, src, rows, cols); err != nil {
		return err
	}
	p.Parallel(rows, rowsPerChunk(cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			softmaxRow(dst[r*cols:(r+1)*cols], src[r*cols:(r+1)*cols])
		}
	})
	return nil
}

func softmaxRow(dst, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if hasAVX2FMA {
		n = len(src) &^ 7
	}
	if hasNEON {
		n = len(src) &^ 3
	}
	if n == 0 {
		m := maxRow(src)
		for i, x := range src {
			dst[i] = ExpF32(x - m)
		}
		inv := 1 / sum32(dst)
		for i := range dst {
			dst[i] *= inv
		}
		return
	}
	var m, sum float32
	if hasNEON {
		m = maxNEON(&src[0], n)
	} else {
		m = maxAVX2(&src[0], n)
	}
	for _, x := range src[n:] {
		m = max(m, x)
	}
	if hasNEON {
		sum = expShiftSumNEON(&dst[0], &src[0], n, m)
	} else {
		sum = expShiftSumAVX2(&dst[0], &src[0], n, m)
	}
	for i := n; i < len(src); i++ {
		dst[i] = ExpF32(src[i] - m)
		sum += dst[i]
	}
	inv := 1 / sum
	if hasNEON {
		scaleNEON(&dst[0], n, inv)
	} else {
		scaleAVX2(&dst[0], n, inv)
	}
	for i := n; i < len(dst); i++ {
		dst[i] *= inv
	}
}

// LayerNorm normalises each row of src (rows×cols) over its cols values:
// dst = (x − mean)/sqrt(var + eps)·gamma + beta, with the biased variance,
// as ONNX LayerNormalization (axis = −1) computes it in float32. gamma and
// beta have cols values; beta may be nil. dst may be src.
func LayerNorm(p *Pool, dst, src []float32, rows, cols int, gamma, beta []float32, eps float32) error {
	if err := checkRows("LayerNorm", dst, src, rows, cols); err != nil {
		return err
	}
	if len(gamma) != cols || (beta != nil && len(beta) != cols) {
		return fmt.Errorf("kernels: LayerNorm: gamma/beta have %d/%d values, want %d", len(gamma), len(beta), cols)
	}
	c := layerNormCall{dst: dst, src: src, gamma: gamma, beta: beta, cols: cols, eps: eps}
	threads := p.beginSplit(rows, rowsPerChunk(cols))
	if threads <= 1 {
		c.rows(0, rows)
		return nil
	}
	defer p.release()
	p.layerNorm = c
	p.split(threads, rows, p.layerNormFn)
	p.layerNorm = layerNormCall{}
	return nil
}

// layerNormCall holds one LayerNorm call's arguments; a parallel call's
// lives in the Pool so that splitting it allocates nothing.
type layerNormCall struct {
	dst, src, gamma, beta []float32
	cols                  int
	eps                   float32
}

func (c *layerNormCall) rows(lo, hi int) {
	cols := c.cols
	for r := lo; r < hi; r++ {
		layerNormRow(c.dst[r*cols:(r+1)*cols], c.src[r*cols:(r+1)*cols], c.gamma, c.beta, c.eps)
	}
}

func layerNormRow(dst, src, gamma, beta []float32, eps float32) {
	n := float32(len(src))
	// Two passes (mean, then squared deviations) avoid the cancellation of
	// E[x²] − mean² on rows with a large mean.
	mean := Sum(src) / n
	var variance float32
	if v := len(src) &^ 31; hasAVX2FMA && v > 0 {
		variance = (sumSqDevAVX2(&src[0], v, mean) + sumSqDev(src[v:], mean)) / n
	} else if v := len(src) &^ 15; hasNEON && v > 0 {
		variance = (sumSqDevNEON(&src[0], v, mean) + sumSqDev(src[v:], mean)) / n
	} else {
		variance = sumSqDev(src, mean) / n
	}
	rstd := float32(1 / math.Sqrt(float64(variance+eps)))
	gamma = gamma[:len(src)]
	dst = dst[:len(src)]
	if v := len(src) &^ 7; (hasAVX2FMA || hasNEON) && beta != nil && v > 0 {
		beta = beta[:len(src)]
		if hasNEON {
			normAffineNEON(&dst[0], &src[0], &gamma[0], &beta[0], v, mean, rstd)
		} else {
			normAffineAVX2(&dst[0], &src[0], &gamma[0], &beta[0], v, mean, rstd)
		}
		for i := v; i < len(src); i++ {
			dst[i] = (src[i]-mean)*rstd*gamma[i] + beta[i]
		}
		return
	}
	if beta == nil {
		for i, x := range src {
			dst[i] = (x - mean) * rstd * gamma[i]
		}
		return
	}
	beta = beta[:len(src)]
	for i, x := range src {
		dst[i] = (x-mean)*rstd*gamma[i] + beta[i]
	}
}

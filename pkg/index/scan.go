package index

import (
	"math"
	"runtime"
	"sort"
	"sync"
)

// Search scans int8 codes, not the float16 vectors: a million 512-d
// vectors are 512 MB of int8 against 1 GB of float16, and the scan is
// bound by memory bandwidth (about 10 GB/s for both cores of the 2-core
// EPYC this was measured on, so float16 alone cannot make 50 ms). int8
// alone ranks a little worse than float16 (recall@10 0.97–0.99 vs float32,
// TestStoredPrecisionRecallAt10), so the best rescoreCandidates(k) of the
// int8 scan are scored again with the float16 vectors and ranked by that:
// the hits and their scores are float16's, with recall@10 measured by the
// same test and by `make bench` at 1M.

// rescoreCandidates is how many int8 candidates each scan worker keeps for
// float16 rescoring when k hits are asked for.
func rescoreCandidates(k int) int { return max(8*k, 128) }

// scanBlock is how many int8 dot products the kernel writes per call: the
// scores of a block stay in L1 while the top-k takes them.
const scanBlock = 256

// quantize computes the scan codes of every vector.
func (v *Vectors) quantize() {
	v.q8, v.scale = v.q8[:0], v.scale[:0]
	n := v.Len()
	v.q8 = make([]int8, n*v.Dim)
	v.scale = make([]float32, n)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/4096))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := n * w / workers; i < n*(w+1)/workers; i++ {
				v.scale[i] = quantizeRow(v.q8[i*v.Dim:(i+1)*v.Dim], v.Codes[i*v.Dim:(i+1)*v.Dim])
			}
		}()
	}
	wg.Wait()
}

// quantizeFrom appends the scan codes of vectors i… (Append's one).
func (v *Vectors) quantizeFrom(i int) {
	for ; i < v.Len(); i++ {
		row := make([]int8, v.Dim)
		v.scale = append(v.scale, quantizeRow(row, v.Codes[i*v.Dim:(i+1)*v.Dim]))
		v.q8 = append(v.q8, row...)
	}
}

// quantizeRow writes round(x/scale) of the float16 values h into dst with
// scale = max|x|/127, and returns scale. A float16's magnitude orders like
// its low 15 bits, so the peak is an integer max and the rounding works on
// magnitudes (half away from zero); this ran 4× faster than through
// math.Abs and min/max of float32s, which matters when a search rebuilds the
// vector file of a million images.
func quantizeRow(dst []int8, h []uint16) float32 {
	dst = dst[:len(h)]
	var peakBits uint16
	for _, c := range h {
		peakBits = max(peakBits, c&0x7fff)
	}
	if peakBits == 0 || peakBits >= 0x7c00 { // zeros, or an Inf or NaN
		clear(dst)
		return 0
	}
	t := f16to32
	peak := t[peakBits]
	inv := 127 / peak
	for j, c := range h {
		q := int8(min(t[c&0x7fff]*inv+0.5, 127))
		if c&0x8000 != 0 {
			q = -q
		}
		dst[j] = q
	}
	return peak / 127
}

// quantizeQuery rounds q to int16 with a scale small enough that no int8
// dot product can overflow int32 (|code| ≤ 127, dim terms).
func quantizeQuery(q []float32) (qi []int16, scale float32) {
	qmax := min(32767, float64(math.MaxInt32)/(127*float64(max(len(q), 1))))
	var peak float64
	for _, x := range q {
		peak = max(peak, math.Abs(float64(x)))
	}
	qi = make([]int16, len(q))
	if peak == 0 {
		return qi, 0
	}
	s := peak / math.Floor(qmax)
	for i, x := range q {
		qi[i] = int16(math.Round(float64(x) / s))
	}
	return qi, float32(s)
}

// dotsInt8 writes Σ q[j]·codes[i·dim+j] for each vector i of codes into
// out: AVX2 when the CPU has it and dim is a multiple of 16, else Go.
func dotsInt8(q []int16, codes []int8, dim int, out []int32) {
	if len(out) == 0 {
		return
	}
	codes = codes[:len(out)*dim]
	if hasAVX2 && dim%16 == 0 && dim > 0 {
		dotsInt8AVX2(&q[0], &codes[0], dim, len(out), &out[0])
		return
	}
	dotsInt8Go(q, codes, dim, out)
}

// dotsInt8Go is dotsInt8's portable twin, unrolled by 4 with independent
// sums.
func dotsInt8Go(q []int16, codes []int8, dim int, out []int32) {
	q = q[:dim]
	for i := range out {
		c := codes[i*dim : (i+1)*dim : (i+1)*dim]
		var s0, s1, s2, s3 int32
		j := 0
		for ; j+4 <= dim; j += 4 {
			s0 += int32(q[j]) * int32(c[j])
			s1 += int32(q[j+1]) * int32(c[j+1])
			s2 += int32(q[j+2]) * int32(c[j+2])
			s3 += int32(q[j+3]) * int32(c[j+3])
		}
		for ; j < dim; j++ {
			s0 += int32(q[j]) * int32(c[j])
		}
		out[i] = (s0 + s1) + (s2 + s3)
	}
}

// searchInt8 is Search over the scan codes: each worker keeps its best m
// by int8 score, the union is rescored with float16 and ranked.
func (v *Vectors) searchInt8(query []float32, k, m, workers int, opt SearchOptions) []scored {
	n, dim := v.Len(), v.Dim
	qi, sq := quantizeQuery(query)
	// |int8 score − float16 score| ≤ scale·slack: half a code step times
	// Σ|q|, plus the query's own rounding over codes up to 127.
	var l1 float64
	for _, x := range query {
		l1 += math.Abs(float64(x))
	}
	slack := float32(l1/2 + 127*float64(dim)*float64(sq)/2)
	parts := scanParallel(n, workers, m, func(t *topK, lo, hi int) {
		var scores [scanBlock]int32
		for b := lo; b < hi; b += scanBlock {
			c := min(scanBlock, hi-b)
			dotsInt8(qi, v.q8[b*dim:(b+c)*dim], dim, scores[:c])
			for j, s := range scores[:c] {
				scale := v.scale[b+j]
				a := float32(s) * scale * sq
				// A threshold drops only vectors whose float16 score
				// cannot reach it.
				if opt.HasMin && a+scale*slack+1e-4 < opt.Threshold {
					continue
				}
				if len(t.h) == t.k && a <= t.h[0].s {
					continue
				}
				// Keep is asked only of the few that would enter the
				// top: a call per vector would cost more than the scan.
				if opt.Keep != nil && !opt.Keep(v.Paths[b+j]) {
					continue
				}
				t.offer(int32(b+j), a)
			}
		}
	})
	var all []scored
	buf := make([]uint16, dim)
	for _, p := range parts {
		for _, c := range p.h {
			s := dotHalf(query, v.rowHalves(int(c.i), buf))
			if opt.HasMin && s < opt.Threshold {
				continue
			}
			all = append(all, scored{c.i, s})
		}
	}
	return best(all, k)
}

// best sorts by score, best first (ties by row), and keeps k.
func best(all []scored, k int) []scored {
	sort.Slice(all, func(a, b int) bool {
		if all[a].s != all[b].s {
			return all[a].s > all[b].s
		}
		return all[a].i < all[b].i
	})
	return all[:min(k, len(all))]
}

// filter returns the vectors whose path keep accepts (v itself when keep
// is nil), copied to the heap; v is closed.
func (v *Vectors) filter(keep func(string) bool) *Vectors {
	if keep == nil {
		return v
	}
	out := &Vectors{Dim: v.Dim}
	quantized := len(v.q8) == len(v.Codes)
	d := v.Dim
	for i, p := range v.Paths {
		if !keep(p) {
			continue
		}
		out.Paths = append(out.Paths, p)
		out.Codes = append(out.Codes, v.Codes[i*d:(i+1)*d]...)
		if quantized {
			out.q8 = append(out.q8, v.q8[i*d:(i+1)*d]...)
			out.scale = append(out.scale, v.scale[i])
		}
	}
	v.Close()
	return out
}

package index

import (
	"container/heap"
	"encoding/binary"
	"math"
	"os"
	"runtime"
	"sync"
	"unsafe"
)

// Embeddings are stored as IEEE float16, little-endian: half of float32's
// size, and the top 10 by dot product are nearly always those of float32
// (recall@10 0.997–1.000 on CLIP-like vectors, where int8 with a
// per-vector scale, a quarter of the size, measured 0.974–0.990:
// TestStoredPrecisionRecallAt10).

// f16to32 is every float16 value as a float32: one load per element in the
// search loop, exact for subnormals, infinities and NaNs alike.
var f16to32 = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for h := range t {
		t[h] = halfToFloat(uint16(h))
	}
	return &t
}()

func halfToFloat(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0: // zero, subnormal: mant·2⁻²⁴
		f := float32(mant) / (1 << 24)
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// ToFloat16 rounds x to the nearest float16 (ties to even), saturating to
// ±Inf beyond 65504.
func ToFloat16(x float32) uint16 {
	b := math.Float32bits(x)
	sign := uint16(b>>16) & 0x8000
	a := b & 0x7fffffff
	switch {
	case a > 0x7f800000: // NaN
		return sign | 0x7e00
	case a >= 0x477ff000: // rounds to ≥ 65520: Inf
		return sign | 0x7c00
	case a < 0x38800000: // below the smallest normal half: subnormal or 0
		return sign | uint16(math.RoundToEven(float64(math.Float32frombits(a))*(1<<24)))
	}
	// Normal: rebias the exponent, round the 13 dropped mantissa bits.
	a -= 112 << 23
	a += 0xfff + (a>>13)&1
	return sign | uint16(a>>13)
}

// Encode returns v as float16 values.
func Encode(v []float32) []uint16 {
	out := make([]uint16, len(v))
	for i, x := range v {
		out[i] = ToFloat16(x)
	}
	return out
}

func halfBytes(h []uint16) []byte {
	b := make([]byte, 2*len(h))
	for i, x := range h {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

// appendHalves appends the little-endian float16 values b holds: one copy
// on a little-endian machine (decoding them one by one took as long as
// reading the SQLite rows).
func appendHalves(dst []uint16, b []byte) []uint16 {
	if littleEndian && len(b) >= 2 {
		return append(dst, unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)...)
	}
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, binary.LittleEndian.Uint16(b[i:]))
	}
	return dst
}

// Vectors are an index's embeddings in memory: row i is Paths[i], its
// float16 values Codes[i·Dim:(i+1)·Dim]. Loaded from a vector file,
// Codes and the scan codes are mapped from it until Close.
type Vectors struct {
	Dim   int
	Paths []string
	Codes []uint16

	// Scan codes (quantize): vector i ≈ scale[i]·q8[i·Dim:(i+1)·Dim].
	// Search scans them when present, and rescores its candidates with
	// Codes.
	q8    []int8
	scale []float32
	unmap func() error

	// The vector file, when Codes is mapped from it at halfOffset: see
	// rowHalves.
	file       *os.File
	halfOffset int64
}

// rowHalves is vector i's float16 values: read from the vector file when
// the vectors came from one, else Codes' row.
func (v *Vectors) rowHalves(i int, buf []uint16) []uint16 {
	if v.file == nil || !littleEndian {
		return v.Codes[i*v.Dim : (i+1)*v.Dim]
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), 2*v.Dim)
	if _, err := v.file.ReadAt(b, v.halfOffset+int64(2*i*v.Dim)); err != nil {
		return v.Codes[i*v.Dim : (i+1)*v.Dim]
	}
	return buf[:v.Dim]
}

// Close releases the mapping of a Vectors loaded from a vector file (its
// Codes must not be used after); it is a no-op otherwise. Hits and Paths
// stay valid.
func (v *Vectors) Close() error {
	unmap, file := v.unmap, v.file
	v.unmap, v.file, v.Codes, v.q8, v.scale = nil, nil, nil, nil, nil
	if file != nil {
		file.Close()
	}
	if unmap != nil {
		return unmap()
	}
	return nil
}

// Len is the number of vectors.
func (v *Vectors) Len() int { return len(v.Paths) }

// Append adds one vector (for tests and benchmarks that build Vectors
// without a file).
func (v *Vectors) Append(path string, emb []float32) {
	quantized := len(v.q8) == len(v.Codes)
	v.Paths = append(v.Paths, path)
	v.Codes = append(v.Codes, Encode(emb)...)
	if quantized {
		v.quantizeFrom(v.Len() - 1)
	}
}

// Hit is one search result.
type Hit struct {
	Path  string
	Score float32 // cosine similarity with the query (vectors are L2-normalised)
}

// SearchOptions bound a search.
type SearchOptions struct {
	K         int     // at most this many hits (≤ 0: all)
	Threshold float32 // drop hits scoring below this
	HasMin    bool    // Threshold applies
	Workers   int     // goroutines (≤ 0: GOMAXPROCS)
	// Keep, when set, restricts the search to the paths it accepts (a
	// server's vectors are loaded once, each request has its own prefix).
	Keep func(path string) bool
}

// Search ranks every vector by its dot product with query, best first:
// through the int8 scan codes when the vectors have them (scan.go), else
// by float16 dot products of all of them.
func (v *Vectors) Search(query []float32, opt SearchOptions) []Hit {
	n := v.Len()
	if n == 0 || len(query) != v.Dim {
		return nil
	}
	k := opt.K
	if k <= 0 || k > n {
		k = n
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, n/4096))
	var top []scored
	// The int8 scan pays where its kernel runs; elsewhere the float16
	// table loop is faster than the int8 Go twin.
	if m := rescoreCandidates(k); hasAVX2 && len(v.q8) == n*v.Dim && len(v.scale) == n && m*workers < n/4 {
		top = v.searchInt8(query, k, m, workers, opt)
	} else {
		top = v.searchHalf(query, k, workers, opt)
	}
	hits := make([]Hit, len(top))
	for j, c := range top {
		hits[j] = Hit{Path: v.Paths[c.i], Score: c.s}
	}
	return hits
}

// searchHalf scores every vector with float16 dot products.
func (v *Vectors) searchHalf(query []float32, k, workers int, opt SearchOptions) []scored {
	parts := scanParallel(v.Len(), workers, k, func(t *topK, lo, hi int) {
		for i := lo; i < hi; i++ {
			if opt.Keep != nil && !opt.Keep(v.Paths[i]) {
				continue
			}
			s := dotHalf(query, v.Codes[i*v.Dim:(i+1)*v.Dim])
			if opt.HasMin && s < opt.Threshold {
				continue
			}
			t.offer(int32(i), s)
		}
	})
	var all []scored
	for _, p := range parts {
		all = append(all, p.h...)
	}
	return best(all, k)
}

// dotHalf is Σ q[i]·h[i]: with AVX2 and F16C eight halves at a time,
// the rest (or everything elsewhere) by the table loop.
func dotHalf(q []float32, h []uint16) float32 {
	h = h[:len(q)]
	n := 0
	var s float32
	if hasF16C {
		if n = len(q) &^ 7; n > 0 {
			s = dotHalfAVX2(&q[0], &h[0], n)
		}
	}
	return s + dotHalfGo(q[n:], h[n:])
}

// dotHalfGo is Σ q[i]·h[i], unrolled by 8 with independent sums so the
// table loads and multiplies overlap.
func dotHalfGo(q []float32, h []uint16) float32 {
	h = h[:len(q)]
	t := f16to32
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(q); i += 8 {
		qq, hh := q[i:i+8:i+8], h[i:i+8:i+8]
		s0 += qq[0] * t[hh[0]]
		s1 += qq[1] * t[hh[1]]
		s2 += qq[2] * t[hh[2]]
		s3 += qq[3] * t[hh[3]]
		s4 += qq[4] * t[hh[4]]
		s5 += qq[5] * t[hh[5]]
		s6 += qq[6] * t[hh[6]]
		s7 += qq[7] * t[hh[7]]
	}
	for ; i < len(q); i++ {
		s0 += q[i] * t[h[i]]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// scanParallel splits rows [0, n) into one range per worker and runs scan
// on each with its own top-k of size k.
func scanParallel(n, workers, k int, scan func(t *topK, lo, hi int)) []topK {
	parts := make([]topK, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[w].k = k
			scan(&parts[w], n*w/workers, n*(w+1)/workers)
		}()
	}
	wg.Wait()
	return parts
}

type scored struct {
	i int32
	s float32
}

// topK keeps the k best scores in a min-heap.
type topK struct {
	k int
	h minHeap
}

func (t *topK) offer(i int32, s float32) {
	if len(t.h) < t.k {
		heap.Push(&t.h, scored{i, s})
		return
	}
	if s > t.h[0].s {
		t.h[0] = scored{i, s}
		heap.Fix(&t.h, 0)
	}
}

type minHeap []scored

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(a, b int) bool { return h[a].s < h[b].s }
func (h minHeap) Swap(a, b int)      { h[a], h[b] = h[b], h[a] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

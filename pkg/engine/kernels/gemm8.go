package kernels

import (
	"fmt"
	"sync"
)

// Integer GEMM for ONNX MatMulInteger: C(int32) = Σₖ (A−a₀)(B−b₀) with A
// uint8 activations (DynamicQuantizeLinear's output) and B uint8 or int8
// weights. After the zero points are subtracted every operand fits int16
// exactly (|v| ≤ 255), so the AVX2 kernel multiplies int16 pairs with
// VPMADDWD into int32: no saturation anywhere — the trap of VPMADDUBSW,
// whose int16 pair sums saturate at 2·255·127 > 32767 (the reason for
// onnxruntime's reduce_range). Two int16 products per 32-bit lane per
// instruction is twice the multiply-add rate of float32 FMA. CPUs with
// AVX-VNNI fuse the multiply-add and the accumulation (VPDPWSSD).
const (
	gemm8KC = 1024 // K block (a multiple of 2): B panel 16×1024×2 B = 32 KiB

	// gemmPairKC is the K block of the quad layout packed for the
	// VPMADDUBSW pair kernel: one block for the MLP's second Linear (K =
	// 4·width, 2048–3072 in CLIP), whose 1024-row blocks cost it ~10%
	// (partial sums through C, A packed and the threads met per block).
	// The kernel needs no L1 residency of B (32 multiply-adds per byte of
	// A, 6 per byte of B, both streamed from L2).
	gemmPairKC = 4096

	// gemm8MaxK bounds K so Σ |(a−a₀)(b−b₀)| ≤ K·255² fits an int32.
	gemm8MaxK = (1<<31 - 1) / (255 * 255)
)

// PackedB8 is a k×n MatMulInteger weight matrix with its zero points
// subtracted, re-laid out as int16 pairs in the micro-kernel's order.
type PackedB8 struct {
	k, n int
	// data holds K blocks of gemm8KC rows; block p0 holds ceil(n/NR)
	// panels, each of ceil(kLen/2) pairs × NR columns × 2 int16.
	data []int16

	// q, colSum and dc are the uint8×int8 layout instead of data when the
	// CPU has AVX-512 VNNI or arm64's dot-product extension (see
	// gemm8q.go): q the int8 panels, colSum
	// their per-block column sums, dc the per-column zero correction,
	// both padded to a multiple of 32 columns.
	q      []int8
	colSum []int32
	dc     []int32
	// kq is the quad layout's K block: gemm8KC, or gemmPairKC when packed
	// for the pair kernel.
	kq int

	// pairSafe reports that in the quad layout every pair of adjacent
	// int8 in K satisfies |b₀|+|b₁| ≤ 128, so a uint8·int8 pair sum fits
	// an int16 (255·128 < 2¹⁵) and VPMADDUBSW is exact: the case of
	// 7-bit weights (optimum's reduce_range), see kernelQPair6x16AVX2.
	pairSafe bool

	// toInt16 derives data from the quad layout, once, when a Pool whose
	// level lacks AVX-512 VNNI multiplies by a quad-packed B (weights are
	// packed at load with PackB8, for the CPU; see int16Layout).
	toInt16 sync.Once
}

// K and N report the shape k×n of the packed operand.
func (pb *PackedB8) K() int { return pb.k }
func (pb *PackedB8) N() int { return pb.n }

// PackB8 packs the k×n row-major byte matrix b (row stride ldb), read as
// int8 when signed and uint8 otherwise, minus its zero point: zero holds
// one value (per tensor) or n (per column), as ONNX's b_zero_point. The
// layout is the one this CPU's best int8 kernel reads; a Pool limited to
// a lower level converts it once on first use (Pool.PackB8 packs for the
// Pool's level directly).
func PackB8(k, n int, b []byte, ldb int, signed bool, zero []int32) (*PackedB8, error) {
	return isaTable[ISANative].packB8(k, n, b, ldb, signed, zero)
}

// PackB8 is the package's PackB8 into the layout p's level reads (a nil
// Pool: the CPU's, as PackB8).
func (p *Pool) PackB8(k, n int, b []byte, ldb int, signed bool, zero []int32) (*PackedB8, error) {
	return p.level().packB8(k, n, b, ldb, signed, zero)
}

// packB8 packs b in the layout lv's kernels read fastest: the quad one
// for VPDPBUSD, or for the pair kernel when b turns out pair-safe, else
// int16 pairs.
func (lv *isaKernels) packB8(k, n int, b []byte, ldb int, signed bool, zero []int32) (*PackedB8, error) {
	if lv.quad8 {
		return packB8(k, n, b, ldb, signed, zero, true)
	}
	if lv.pairQuad != nil && k >= 1 && n >= 1 && ldb >= n && len(b) >= (k-1)*ldb+n {
		if shift := quadShifts(k, n, b, ldb, signed); pairSafeRows(k, n, b, ldb, signed, shift) {
			return packB8Blocks(k, n, b, ldb, signed, zero, true, gemmPairKC, shift)
		}
	}
	return packB8(k, n, b, ldb, signed, zero, false)
}

// int16Size is the number of int16 in the int16 layout of a k×n B.
func int16Size(k, n int) int {
	size := 0
	for p0 := 0; p0 < k; p0 += gemm8KC {
		size += ceilDiv(min(gemm8KC, k-p0), 2) * 2 * ceilDiv(n, gemmNR) * gemmNR
	}
	return size
}

// int16Layout returns pb with its int16 layout filled: as packed, or
// derived once from the quad layout, whose int8 B' plus the column's d
// is b−b₀ exactly (see gemm8q.go).
func (pb *PackedB8) int16Layout() *PackedB8 {
	if pb.q == nil {
		return pb // packed in the int16 layout
	}
	pb.toInt16.Do(pb.quadToInt16)
	return pb
}

func (pb *PackedB8) quadToInt16() {
	pb.data = make([]int16, int16Size(pb.k, pb.n))
	// The two layouts' K blocks differ when kq ≠ gemm8KC: row p is row
	// p−q0 of the quad block at q0.
	for p0 := 0; p0 < pb.k; p0 += gemm8KC {
		kLen := min(gemm8KC, pb.k-p0)
		pairs := ceilDiv(kLen, 2)
		dst := pb.block(p0)
		for j := range pb.n {
			d, c := pb.dc[j], j%gemmNR
			dp := dst[j/gemmNR*pairs*gemmNR*2:]
			for p := range kLen {
				q0 := (p0 + p) / pb.kq * pb.kq
				src, quads, pq := pb.blockQ(q0), ceilDiv(min(pb.kq, pb.k-q0), 4), p0+p-q0
				qp := src[j/gemmNR*quads*gemmNR*4:]
				dp[(p/2*gemmNR+c)*2+p%2] = int16(int32(qp[(pq/4*gemmNR+c)*4+pq%4]) + d)
			}
		}
	}
}

// packB8 is PackB8 into the quad layout (quad) or the int16 one.
func packB8(k, n int, b []byte, ldb int, signed bool, zero []int32, quad bool) (*PackedB8, error) {
	return packB8Blocks(k, n, b, ldb, signed, zero, quad, gemm8KC, nil)
}

// packB8Blocks is packB8 with K blocks of kq rows (a multiple of 4) in
// the quad layout, whose column shifts are shift when the caller has
// them (see quadShifts; nil: computed here).
func packB8Blocks(k, n int, b []byte, ldb int, signed bool, zero []int32, quad bool, kq int, shift []int32) (*PackedB8, error) {
	if k < 1 || n < 1 {
		return nil, fmt.Errorf("kernels: PackB8: empty %d×%d operand", k, n)
	}
	if k > gemm8MaxK {
		return nil, fmt.Errorf("kernels: PackB8: K=%d over %d could overflow int32 sums", k, gemm8MaxK)
	}
	if ldb < n || len(b) < (k-1)*ldb+n {
		return nil, fmt.Errorf("kernels: PackB8: %d values with ldb=%d too few for %d×%d", len(b), ldb, k, n)
	}
	if len(zero) != 1 && len(zero) != n {
		return nil, fmt.Errorf("kernels: PackB8: %d zero points, want 1 or %d", len(zero), n)
	}
	pb := &PackedB8{k: k, n: n, kq: kq}
	if quad {
		if shift == nil {
			shift = quadShifts(k, n, b, ldb, signed)
		}
		packB8Quad(pb, b, ldb, signed, zero, shift)
		return pb, nil
	}
	nPanels := ceilDiv(n, gemmNR)
	pb.data = make([]int16, int16Size(k, n))
	val := func(p, j int) int16 {
		z := zero[0]
		if len(zero) > 1 {
			z = zero[j]
		}
		v := int32(b[p*ldb+j])
		if signed {
			v = int32(int8(b[p*ldb+j]))
		}
		return int16(v - z)
	}
	for p0 := 0; p0 < k; p0 += gemm8KC {
		kLen := min(gemm8KC, k-p0)
		blk := pb.block(p0)
		pairs := ceilDiv(kLen, 2)
		for q := range nPanels {
			d := blk[q*pairs*2*gemmNR : (q+1)*pairs*2*gemmNR]
			for p := range kLen {
				for c := range min(gemmNR, n-q*gemmNR) {
					d[(p/2*gemmNR+c)*2+p%2] = val(p0+p, q*gemmNR+c)
				}
			}
		}
	}
	return pb, nil
}

// block returns the packed panels of rows [p0, p0+gemm8KC).
func (pb *PackedB8) block(p0 int) []int16 {
	stride := ceilDiv(pb.n, gemmNR) * gemmNR * 2 // int16 per row pair
	kLen := min(gemm8KC, pb.k-p0)
	off := p0 / 2 * stride
	return pb.data[off : off+ceilDiv(kLen, 2)*stride]
}

// microKernel8 computes the first rows rows of the MR×NR int32 tile
// C (=|+=) Σ pairs A·B from kp packed pairs of k (see microKernel).
type microKernel8 func(rows, kp int, a, b []int16, c []int32, ldc int, accumulate bool)

// gemm8Kernels pairs a one-panel kernel with an optional two-panel one
// (rows×32 from consecutive panels), as gemmKernels does for float32.
type gemm8Kernels struct {
	one, two microKernel8
}

// kernel8Generic is the portable reference; it always computes MR rows.
func kernel8Generic(_, kp int, a, b []int16, c []int32, ldc int, accumulate bool) {
	var acc [gemmMR][gemmNR]int32
	a = a[:kp*gemmMR*2]
	b = b[:kp*gemmNR*2]
	for p := range kp {
		ap := a[p*gemmMR*2 : (p+1)*gemmMR*2]
		bp := b[p*gemmNR*2 : (p+1)*gemmNR*2]
		for r := range gemmMR {
			a0, a1 := int32(ap[2*r]), int32(ap[2*r+1])
			for j := range gemmNR {
				acc[r][j] += a0*int32(bp[2*j]) + a1*int32(bp[2*j+1])
			}
		}
	}
	for r := range gemmMR {
		dst := c[r*ldc : r*ldc+gemmNR]
		if accumulate {
			for j := range dst {
				dst[j] += acc[r][j]
			}
		} else {
			copy(dst, acc[r][:])
		}
	}
}

// GemmU8 computes C = Σₖ (A−aZero)·(B−b₀) (ONNX MatMulInteger) for an
// m×k uint8 A (row stride lda) and a packed B, into the m×n int32 C (row
// stride ldc), with the kernels of p's level.
func GemmU8(p *Pool, m int, a []uint8, lda int, aZero uint8, pb *PackedB8, c []int32, ldc int) error {
	lv := p.level()
	return gemmU8(p, lv.gemm8, lv.quad8, lv.pairQuad, nil, m, a, lda, aZero, pb, c, ldc, nil)
}

// gemmU8 is GemmU8 with the int16-layout kernels kern, the VPDPBUSD quad
// kernel allowed when quad, and the pair kernel pairQuad (nil: none) on a
// pair-safe quad-packed B, with pairQuadF its float-output twin for the
// epilogue's full tiles (nil: none). With epi, c is nil and epi finishes each strip
// of the last K block into its float Y (the first blocks' partial sums
// wait in a recycled m×n C).
func gemmU8(p *Pool, kern gemm8Kernels, quad bool, pairQuad quadKernel, pairQuadF quadKernelF, m int, a []uint8, lda int, aZero uint8, pb *PackedB8, c []int32, ldc int, epi *gemm8Epi) error {
	if pb == nil {
		return fmt.Errorf("kernels: GemmU8: nil weights")
	}
	n, k := pb.n, pb.k
	if m < 0 || lda < k || ldc < n {
		return fmt.Errorf("kernels: GemmU8: bad m=%d lda=%d (k=%d) ldc=%d (n=%d)", m, lda, k, ldc, n)
	}
	if m == 0 {
		return nil
	}
	if len(a) < (m-1)*lda+k || epi == nil && len(c) < (m-1)*ldc+n {
		return fmt.Errorf("kernels: GemmU8: A has %d, C %d values: too few for %d×%d×%d", len(a), len(c), m, n, k)
	}
	if pb.q != nil {
		switch {
		case quad:
			return gemmU8Quad(p, kernelQ, nil, m, a, lda, aZero, pb, c, ldc, epi)
		case pairQuad != nil && pb.pairSafe:
			return gemmU8Quad(p, pairQuad, pairQuadF, m, a, lda, aZero, pb, c, ldc, epi)
		}
	}
	pb = pb.int16Layout()
	if epi != nil && k > gemm8KC {
		buf := partialSums(m, n)
		defer int32Scratch.Put(buf)
		c, ldc = *buf, n
	}
	g := &gemm8Run{m: m, a: a, lda: lda, aZero: int16(aZero), pb: pb, c: c, ldc: ldc, kern: kern, epi: epi}
	threads := 1
	if 2*m*n*k >= gemmParallelFlops {
		threads = p.acquire()
	}
	if threads > 1 {
		defer p.release()
	}
	g.threads = threads
	g.bar.n = int32(threads)
	sc := gemm8Scratch.Get().(*gemm8Buffers)
	defer gemm8Scratch.Put(sc)
	need := ceilDiv(m, gemmMR) * gemmMR * min(k+1, gemm8KC)
	for i := range sc.a {
		if cap(sc.a[i]) < need {
			sc.a[i] = make([]int16, need)
		}
		sc.a[i] = sc.a[i][:need]
	}
	if len(sc.edge) < threads {
		sc.edge = make([][gemmMR * 2 * gemmNR]int32, threads)
	}
	if epi != nil {
		sc.strips = growStrips(sc.strips, threads)
	}
	g.apack = &sc.a
	g.edges = sc.edge
	g.strips = sc.strips
	if threads == 1 {
		g.work(0)
	} else {
		p.run(threads, g.work)
	}
	return nil
}

// gemm8Buffers are the shared double-buffered packed A and the threads'
// staging tiles (int32 sums, and the epilogue's floats), recycled across
// calls.
type gemm8Buffers struct {
	a      [2][]int16
	edge   [][gemmMR * 2 * gemmNR]int32
	strips []*gemm8Strip
}

var gemm8Scratch = sync.Pool{New: func() any { return new(gemm8Buffers) }}

type gemm8Run struct {
	m       int
	a       []uint8
	lda     int
	aZero   int16
	pb      *PackedB8
	c       []int32
	ldc     int
	kern    gemm8Kernels
	threads int
	bar     barrier
	apack   *[2][]int16
	edges   [][gemmMR * 2 * gemmNR]int32
	epi     *gemm8Epi // nil: C is the result (GemmU8)
	strips  []*gemm8Strip
}

// work is thread t's share; the same scheme as gemmRun.work: pack a share
// of A per K block into alternating shared buffers, meet, multiply own
// panels of C.
func (g *gemm8Run) work(t int) {
	T := g.threads
	n, k := g.pb.n, g.pb.k
	mPanels, nPanels := ceilDiv(g.m, gemmMR), ceilDiv(n, gemmNR)
	mp0, mp1, np0, np1 := 0, mPanels, 0, nPanels
	if splitAlongN(mPanels, nPanels, T) {
		np0, np1 = nPanels*t/T, nPanels*(t+1)/T
	} else {
		mp0, mp1 = mPanels*t/T, mPanels*(t+1)/T
	}
	edge := g.edges[t][:]
	var st *gemm8Strip
	if g.epi != nil {
		st = g.strips[t]
	}
	for step, p0 := 0, 0; p0 < k; step, p0 = step+1, p0+gemm8KC {
		kLen := min(gemm8KC, k-p0)
		pairs := ceilDiv(kLen, 2)
		fuse := g.epi != nil && p0+kLen == k
		apack := g.apack[step&1]
		for q := mPanels * t / T; q < mPanels*(t+1)/T; q++ {
			g.packA(apack[q*pairs*gemmMR*2:(q+1)*pairs*gemmMR*2], q*gemmMR, p0, kLen)
		}
		g.bar.wait()
		bblk := g.pb.block(p0)
		accumulate := p0 > 0
		for ib := mp0; ib < mp1; ib += gemmMC / gemmMR {
			ie := min(ib+gemmMC/gemmMR, mp1)
			for jr := np0; jr < np1; {
				col := jr * gemmNR
				kern, width := g.kern.one, gemmNR
				if g.kern.two != nil && jr+1 < np1 && col+2*gemmNR <= n {
					kern, width = g.kern.two, 2*gemmNR
				}
				bp := bblk[jr*pairs*gemmNR*2 : (jr+width/gemmNR)*pairs*gemmNR*2]
				cols := min(width, n-col)
				r0, r1 := ib*gemmMR, min(ie*gemmMR, g.m)
				inStrip := fuse && !accumulate
				cs, ldc, base := stripSums(inStrip, st, g.c, g.ldc, r0, col)
				for ir := ib; ir < ie; ir++ {
					ap := apack[ir*pairs*gemmMR*2 : (ir+1)*pairs*gemmMR*2]
					row := ir * gemmMR
					rows := min(gemmMR, g.m-row)
					dst := cs[(row-base)*ldc:]
					if inStrip || rows == gemmMR && cols == width {
						kern(rows, pairs, ap, bp, dst, ldc, accumulate)
						continue
					}
					kern(rows, pairs, ap, bp, edge, width, false)
					for r := range rows {
						d := dst[r*ldc : r*ldc+cols]
						src := edge[r*width : r*width+cols]
						if accumulate {
							for j := range d {
								d[j] += src[j]
							}
						} else {
							copy(d, src)
						}
					}
				}
				if fuse {
					g.epi.strip(cs[(r0-base)*ldc:], ldc, r0, r1-r0, col, cols, &st.f)
				}
				jr += width / gemmNR
			}
		}
	}
}

// packA writes rows [r0, r0+MR) of A[:, p0:p0+kLen] minus the zero point
// as int16 pairs: d[(p/2·MR + r)·2 + p%2] (zero past m and past kLen).
func (g *gemm8Run) packA(d []int16, r0, p0, kLen int) {
	rows := min(gemmMR, g.m-r0)
	if rows == gemmMR && kLen%2 == 0 {
		// The common full panel, without the index arithmetic below.
		var src [gemmMR][]uint8
		for r := range src {
			src[r] = g.a[(r0+r)*g.lda+p0 : (r0+r)*g.lda+p0+kLen]
		}
		z := g.aZero
		for pp := range kLen / 2 {
			e := (*[gemmMR * 2]int16)(d[pp*gemmMR*2:])
			for r := range gemmMR {
				pair := (*[2]uint8)(src[r][2*pp:])
				e[2*r] = int16(pair[0]) - z
				e[2*r+1] = int16(pair[1]) - z
			}
		}
		return
	}
	if rows < gemmMR || kLen%2 == 1 {
		clear(d)
	}
	for r := range rows {
		src := g.a[(r0+r)*g.lda+p0 : (r0+r)*g.lda+p0+kLen]
		for p, v := range src {
			d[(p/2*gemmMR+r)*2+p%2] = int16(v) - g.aZero
		}
	}
}

package kernels

import (
	"fmt"
	"sync"
)

// Register and cache blocking of the packed GEMM (BLIS-style).
//
//   - gemmMR×gemmNR is the micro-tile held in registers: 6 rows × 16 columns
//     = 12 ymm accumulators, 2 ymm for a row of B, 1-2 for broadcasts of A
//     (the AVX-512 kernel takes two adjacent panels: 6×32 in 12 zmm).
//   - gemmKC is the depth of one packed block: a packed B micro-panel
//     (KC×NR×4 = 32 KiB) stays in L1 while the A micro-panels stream past
//     (the AVX-512 kernel's pair, 64 KiB, is re-read from L2; KC = 256 and
//     384 measured no faster on the ViT shapes, nor KC = 256 on the
//     text towers' on a Zen 3 with 32 KiB of L1).
//   - up to gemmMC rows of packed A (MC×KC×4 = 600 KiB) stay in L2 while
//     the micro-panels of B are swept; a thread's rows are cut into equal
//     blocks (mcBlockPanels). Each sweep re-reads the weight panels from
//     L3 or memory, so fewer sweeps win: a thread's 200 rows at batch 8
//     take one sweep (with 144-row blocks two, 3-4% slower), 77-token
//     text at batch 1 one; L2 is 1 MiB per core here. On a Zen 3 with
//     512 KiB of L2 per core, SigLIP text's 43-panel blocks (256 rows a
//     thread, 528 KiB) ran as fast as with MC = 240 (two 22-panel blocks).
//   - gemmMChunk and gemmNC bound the per-thread packing buffers for large
//     operands; the ViT shapes (M ≤ 400, N ≤ 3072) fit in one chunk.
const (
	gemmMR     = 6
	gemmNR     = 16
	gemmKC     = 512
	gemmMC     = 300
	gemmMChunk = 1020
	gemmNC     = 4096

	// gemmParallelFlops is the work below which a call stays on one thread:
	// waking a worker costs a few microseconds, about 0.5 MFLOP of work.
	gemmParallelFlops = 4 << 20
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, where op(X) is X or Xᵀ. op(A) is m×k, op(B) is k×n and C is
// m×n; lda, ldb and ldc are the row strides (in elements) of A, B and C as
// stored. When beta is 0, C is only written, never read (it may hold NaN).
//
// It runs on p's threads when p is free and the product is large enough;
// p may be nil. Like BLAS, it panics when the dimensions, strides or slice
// lengths are inconsistent: those are programming errors of the caller.
func Sgemm(p *Pool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if err := checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc); err != nil {
		panic(err.Error())
	}
	sgemm(p, p.level().gemm, gemmOperands{
		transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
	})
}

// SgemmPacked is Sgemm with a B operand packed once by PackB (typically a
// weight matrix), which saves re-packing it on every call. op(A) is m×k and
// C is m×n where k×n is the shape of pb.
func SgemmPacked(p *Pool, transA bool, m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	if pb == nil {
		panic("kernels: SgemmPacked: nil PackedB")
	}
	n, k := pb.n, pb.k
	if err := checkGemm(transA, false, m, n, k, a, lda, nil, n, c, ldc); err != nil {
		panic(err.Error())
	}
	sgemm(p, p.level().gemm, gemmOperands{
		transA: transA, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, pb: pb, beta: beta, c: c, ldc: ldc,
	})
}

// checkGemm validates a GEMM call in the manner of BLAS. b == nil skips
// the checks of B (it is pre-packed).
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) error {
	if m < 0 || n < 0 || k < 0 {
		return fmt.Errorf("kernels: Sgemm: negative dimension m=%d n=%d k=%d", m, n, k)
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	if lda < max(1, colsA) {
		return fmt.Errorf("kernels: Sgemm: lda=%d < %d columns of A", lda, colsA)
	}
	if b != nil && ldb < max(1, colsB) {
		return fmt.Errorf("kernels: Sgemm: ldb=%d < %d columns of B", ldb, colsB)
	}
	if ldc < max(1, n) {
		return fmt.Errorf("kernels: Sgemm: ldc=%d < n=%d", ldc, n)
	}
	if m == 0 || n == 0 {
		return nil
	}
	if k > 0 {
		if need := (rowsA-1)*lda + colsA; len(a) < need {
			return fmt.Errorf("kernels: Sgemm: len(a)=%d < %d needed for a %d×%d A with lda=%d", len(a), need, rowsA, colsA, lda)
		}
		if b != nil {
			if need := (rowsB-1)*ldb + colsB; len(b) < need {
				return fmt.Errorf("kernels: Sgemm: len(b)=%d < %d needed for a %d×%d B with ldb=%d", len(b), need, rowsB, colsB, ldb)
			}
		}
	}
	if need := (m-1)*ldc + n; len(c) < need {
		return fmt.Errorf("kernels: Sgemm: len(c)=%d < %d needed for a %d×%d C with ldc=%d", len(c), need, m, n, ldc)
	}
	return nil
}

// microKernel computes the first rows rows (1..MR) of the MR×NR tile
// C (=|+=) A·B from kc steps of packed panels: a holds kc groups of MR
// values of A, b kc groups of NR values of B. With accumulate false it
// stores the product without reading C. c must have room for MR rows
// (rows < MR is only used with a scratch tile).
type microKernel func(rows, kc int, a, b, c []float32, ldc int, accumulate bool)

// gemmKernels is the set of micro-kernels a GEMM runs with: one covers an
// MR×NR tile; two, when non-nil, an MR×2NR tile from two consecutive
// packed panels (b holds both, the second kc·NR values after the first;
// c has room for MR rows of 2·NR), for CPUs with twice-as-wide vectors.
type gemmKernels struct {
	one, two microKernel
	// three and four, when set, compute MR×48 and MR×64 from three and
	// four consecutive panels.
	three, four microKernel
	// fourDirectA, when set, is four for a full MR-row tile that reads A
	// in place (row-major, stride lda) rather than from a packed panel.
	fourDirectA directAKernel
}

// directAKernel computes the MR×4NR tile C (=|+=) A·B from kc steps of
// four packed B panels and MR rows of A, lda apart, read where they lie.
type directAKernel func(kc int, a []float32, lda int, b, c []float32, ldc int, accumulate bool)

type gemmOperands struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	pb             *PackedB
	epi            Epilogue // applied to finished blocks of C when hasEpi
	hasEpi         bool
	beta           float32
	c              []float32
	ldc            int
}

// gemmScratch holds one thread's packing buffers and its staging tile
// for partial tiles (kept here so no call allocates).
type gemmScratch struct {
	a, b []float32
	edge [gemmMR * 4 * gemmNR]float32
}

func growF32(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// serialScratch serves calls that run without (or beside a busy) Pool.
var serialScratch = sync.Pool{New: func() any { return new(gemmScratch) }}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func sgemm(p *Pool, kern gemmKernels, op gemmOperands) {
	m, n, k := op.m, op.n, op.k
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || op.alpha == 0 {
		scaleC(op.c, op.ldc, 0, m, 0, n, op.beta)
		return
	}
	threads := 1
	if 2*m*n*k >= gemmParallelFlops {
		threads = p.acquire()
	}
	if threads == 1 {
		// On the stack: the parallel path's descriptor lives in the Pool.
		g := gemmRun{op: op, kern: kern, vec: p.level(), threads: 1}
		s := serialScratch.Get().(*gemmScratch)
		g.work(0, s)
		serialScratch.Put(s)
		return
	}
	defer p.release()
	p.gemm = gemmRun{op: op, kern: kern, vec: p.level(), threads: threads}
	p.run(threads, p.gemmTask)
	p.gemm = gemmRun{}
}

// gemmShare runs thread t's share of the Pool's current sgemm call.
func (p *Pool) gemmShare(t int) { p.gemm.work(t, &p.scratch[t]) }

type gemmRun struct {
	op   gemmOperands
	kern gemmKernels
	// vec supplies the epilogue's vector routines at the Pool's level.
	vec     *isaKernels
	threads int
}

// work is thread t's share of the product: a fixed rectangle of C's
// panels, for which it packs the A and B panels it needs into its own
// buffers. Threads never wait for each other (no barrier), so one that the
// OS deschedules delays only its own share; the price is that A (or B)
// is packed once per thread, which costs under 1% of the multiply at the
// ViT shapes.
func (g *gemmRun) work(t int, s *gemmScratch) {
	op := &g.op
	T := g.threads
	nc := op.n
	if op.pb == nil {
		nc = gemmNC
	}
	for j0 := 0; j0 < op.n; j0 += nc {
		nLen := min(nc, op.n-j0)
		nPanels := ceilDiv(nLen, gemmNR)
		for i0 := 0; i0 < op.m; i0 += gemmMChunk {
			mLen := min(gemmMChunk, op.m-i0)
			mPanels := ceilDiv(mLen, gemmMR)
			// Split C's panels: along N when that balances at least as
			// well as along M (each thread then reuses A from L2).
			mp0, mp1, np0, np1 := 0, mPanels, 0, nPanels
			if (op.pb == nil || mPanels < gemmSplitMPanels*T) && splitAlongN(mPanels, nPanels, T) {
				np0, np1 = nPanels*t/T, nPanels*(t+1)/T
			} else {
				mp0, mp1 = mPanels*t/T, mPanels*(t+1)/T
			}
			if mp0 == mp1 || np0 == np1 {
				continue
			}
			// With pre-packed B the widest kernel can read full panels of
			// A in place: then only a partial last panel is packed.
			direct := g.kern.fourDirectA != nil && op.pb != nil && !op.transA && op.alpha == 1 &&
				nLen%(4*gemmNR) == 0 && (np1-np0)%4 == 0
			for p0 := 0; p0 < op.k; p0 += gemmKC {
				kLen := min(gemmKC, op.k-p0)
				s.a = growF32(s.a, (mp1-mp0)*gemmMR*kLen+packSlack)
				packFrom := 0
				if direct {
					packFrom = mp1 - mp0
					if mp1*gemmMR > mLen {
						packFrom-- // the partial last panel
					}
				}
				if packFrom < mp1-mp0 {
					packA(s.a, op, i0+mp0*gemmMR, min(mLen-mp0*gemmMR, (mp1-mp0)*gemmMR), p0, kLen, packFrom, mp1-mp0)
				}
				var bpack []float32
				bBase := 0
				if op.pb != nil {
					bpack = op.pb.block(p0)
					bBase = j0 / gemmNR
				} else {
					s.b = growF32(s.b, (np1-np0)*gemmNR*kLen)
					bpack = s.b
					bBase = -np0
					packB(bpack, op.b, op.ldb, op.transB, p0, kLen, j0+np0*gemmNR, min(nLen-np0*gemmNR, (np1-np0)*gemmNR), 0, np1-np0)
				}
				if p0 == 0 && op.beta != 0 && op.beta != 1 {
					scaleC(op.c, op.ldc, i0+mp0*gemmMR, min(i0+mp1*gemmMR, i0+mLen), j0+np0*gemmNR, min(j0+np1*gemmNR, j0+nLen), op.beta)
				}
				accumulate := p0 > 0 || op.beta != 0
				last := p0+kLen == op.k
				aDirect := -1
				if direct {
					aDirect = p0
				}
				g.macro(s, -mp0, aDirect, bpack, bBase, kLen, i0, mLen, mp0, mp1, j0, nLen, np0, np1, accumulate, last)
			}
		}
	}
}

// mcBlockPanels splits a thread's panels of A into blocks of at most
// gemmMC rows of equal size (±1 panel): 34 panels make one block of 34,
// not 24 + 10, so B is swept once rather than twice.
func mcBlockPanels(panels int) int {
	maxPanels := gemmMC / gemmMR
	return max(1, ceilDiv(panels, ceilDiv(panels, maxPanels)))
}

// gemmSplitMPanels is the number of A panels per thread from which a
// product with pre-packed B is split along M even when an N split would
// balance better: then no thread packs A rows another one packs too
// (along N every thread packs all of A, ~5% of a batch-8 Linear), and
// the imbalance of at most one panel is small.
const gemmSplitMPanels = 24

// splitAlongN reports whether T threads should divide nPanels (rather than
// mPanels) between them: true when it leaves no more work on the busiest
// thread than the M split would.
func splitAlongN(mPanels, nPanels, T int) bool {
	loadN := ceilDiv(nPanels, T) * mPanels * gemmNR * gemmMR
	loadM := ceilDiv(mPanels, T) * nPanels * gemmNR * gemmMR
	return loadN <= loadM
}

// macro runs the micro-kernel over one thread's panels of a packed block.
// On the last K block (last), the epilogue, if any, runs on each block of
// MC rows × the thread's columns as soon as it is finished, while it is
// still in L2; long rows keep the vector activation code efficient (per
// 16-column tile it cost ~10%).
// Panel ir of A is s.a's panel ir+aBase, panel jr of B bpack's jr+bBase;
// aDirect ≥ 0 says full panels of A are read in place from column aDirect
// of op.a instead (only the partial last one was packed).
func (g *gemmRun) macro(s *gemmScratch, aBase, aDirect int, bpack []float32, bBase, kLen, i0, mLen, mp0, mp1, j0, nLen, np0, np1 int, accumulate, last bool) {
	op := &g.op
	var epi *Epilogue
	if last && op.hasEpi {
		epi = &op.epi
	}
	mcPanels := mcBlockPanels(mp1 - mp0)
	for ib := mp0; ib < mp1; ib += mcPanels {
		ie := min(ib+mcPanels, mp1)
		for jr := np0; jr < np1; {
			// The widest kernel the remaining panels allow; a partial last
			// panel (zero-padded in every packed layout) goes through the
			// staging tile with it rather than falling to the 16-wide
			// AVX2 kernel (attention's 50 keys: 48 + 2 columns).
			col := j0 + jr*gemmNR
			kern, panels := g.kern.one, 1
			switch {
			case g.kern.four != nil && jr+3 < np1:
				kern, panels = g.kern.four, 4
			case g.kern.three != nil && jr+2 < np1:
				kern, panels = g.kern.three, 3
			case g.kern.two != nil && jr+1 < np1:
				kern, panels = g.kern.two, 2
			}
			bp := bpack[(bBase+jr)*kLen*gemmNR : (bBase+jr+panels)*kLen*gemmNR]
			if aDirect >= 0 && panels == 4 {
				g.panelsDirectA(kern, s, aBase, aDirect, bp, kLen, i0, mLen, ib, ie, col, accumulate)
			} else {
				g.panels(kern, s, aBase, bp, kLen, i0, mLen, ib, ie, col, panels*gemmNR, min(panels*gemmNR, j0+nLen-col), accumulate)
			}
			jr += panels
		}
		if epi != nil {
			r0, c0 := i0+ib*gemmMR, j0+np0*gemmNR
			epi.apply(g.vec, op.c, op.ldc, r0, min(i0+ie*gemmMR, i0+mLen)-r0, c0, min(j0+np1*gemmNR, j0+nLen)-c0)
		}
	}
}

// panels runs kern over A panels [ib, ie) against one B micro-panel (or
// two, for the wide kernel) whose tile has width columns, cols of them
// inside C from column col. Partial tiles go through the staging tile.
func (g *gemmRun) panels(kern microKernel, s *gemmScratch, aBase int, bp []float32, kLen, i0, mLen, ib, ie, col, width, cols int, accumulate bool) {
	op := &g.op
	edge := s.edge[:]
	for ir := ib; ir < ie; ir++ {
		ap := s.a[(aBase+ir)*kLen*gemmMR : (aBase+ir+1)*kLen*gemmMR]
		row := i0 + ir*gemmMR
		rows := min(gemmMR, i0+mLen-row)
		if rows == gemmMR && cols == width {
			kern(gemmMR, kLen, ap, bp, op.c[row*op.ldc+col:], op.ldc, accumulate)
			continue
		}
		kern(rows, kLen, ap, bp, edge, width, false)
		for r := range rows {
			dst := op.c[(row+r)*op.ldc+col : (row+r)*op.ldc+col+cols]
			src := edge[r*width : r*width+cols]
			if accumulate {
				for j := range dst {
					dst[j] += src[j]
				}
			} else {
				copy(dst, src)
			}
		}
	}
}

// panelsDirectA is panels for the four-panel kernel when full panels of A
// are read in place from column p0 of op.a (the tile is always 64 columns
// wide inside C); the partial last panel, packed, goes through kern.
func (g *gemmRun) panelsDirectA(kern microKernel, s *gemmScratch, aBase, p0 int, bp []float32, kLen, i0, mLen, ib, ie, col int, accumulate bool) {
	op := &g.op
	direct := g.kern.fourDirectA
	for ir := ib; ir < ie; ir++ {
		row := i0 + ir*gemmMR
		if row+gemmMR <= i0+mLen {
			direct(kLen, op.a[row*op.lda+p0:], op.lda, bp, op.c[row*op.ldc+col:], op.ldc, accumulate)
			continue
		}
		g.panels(kern, s, aBase, bp, kLen, i0, mLen, ir, ir+1, col, 4*gemmNR, 4*gemmNR, accumulate)
	}
}

// scaleC multiplies the rectangle [r0,r1)×[c0,c1) of C by beta; beta == 0
// stores zeros without reading (C may hold NaN).
func scaleC(c []float32, ldc, r0, r1, c0, c1 int, beta float32) {
	if beta == 1 {
		return
	}
	for i := r0; i < r1; i++ {
		row := c[i*ldc+c0 : i*ldc+c1]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packSlack is the number of floats a packed-A buffer needs past its last
// panel: packA6AVX2's final store spills 2 floats (rounded up to 8).
const packSlack = 8

// packA copies micro-panels [lo,hi) of op(A)[i0:i0+mLen, p0:p0+kLen],
// scaled by alpha, into dst: panel q holds, for each p, the MR values of
// rows i0+q*MR.. (zero past mLen).
func packA(dst []float32, op *gemmOperands, i0, mLen, p0, kLen, lo, hi int) {
	a, lda, alpha := op.a, op.lda, op.alpha
	for q := lo; q < hi; q++ {
		d := dst[q*kLen*gemmMR : (q+1)*kLen*gemmMR]
		r0 := q * gemmMR
		rows := min(gemmMR, mLen-r0)
		if !op.transA {
			if rows == gemmMR {
				base := (i0+r0)*lda + p0
				start := 0
				if blocks := kLen / 8; hasAVX2FMA && blocks > 0 {
					// Bounds: the 6 rows over kLen columns, and the 2
					// floats the assembly writes past the panel (see
					// packSlack).
					_ = a[base+5*lda+kLen-1]
					_ = dst[(q+1)*kLen*gemmMR+packSlack-1]
					packA6AVX2(&d[0], &a[base], lda, blocks, alpha)
					start = blocks * 8
				}
				a0 := a[base : base+kLen]
				a1 := a[base+lda : base+lda+kLen]
				a2 := a[base+2*lda : base+2*lda+kLen]
				a3 := a[base+3*lda : base+3*lda+kLen]
				a4 := a[base+4*lda : base+4*lda+kLen]
				a5 := a[base+5*lda : base+5*lda+kLen]
				for p := start; p < kLen; p++ {
					e := d[p*gemmMR : p*gemmMR+gemmMR : p*gemmMR+gemmMR]
					e[0] = alpha * a0[p]
					e[1] = alpha * a1[p]
					e[2] = alpha * a2[p]
					e[3] = alpha * a3[p]
					e[4] = alpha * a4[p]
					e[5] = alpha * a5[p]
				}
				continue
			}
			clear(d)
			for r := range rows {
				src := a[(i0+r0+r)*lda+p0 : (i0+r0+r)*lda+p0+kLen]
				for p, v := range src {
					d[p*gemmMR+r] = alpha * v
				}
			}
			continue
		}
		// op(A) = Aᵀ: row i of op(A) is column i of A, so each p reads
		// rows contiguous values of A's row p.
		if rows < gemmMR {
			clear(d)
		}
		for p := range kLen {
			src := a[(p0+p)*lda+i0+r0 : (p0+p)*lda+i0+r0+rows]
			e := d[p*gemmMR : p*gemmMR+gemmMR]
			for r, v := range src {
				e[r] = alpha * v
			}
		}
	}
}

// packB copies micro-panels [lo,hi) of op(B)[p0:p0+kLen, j0:j0+nLen] into
// dst: panel q holds, for each p, the NR values of columns j0+q*NR.. (zero
// past nLen).
func packB(dst []float32, b []float32, ldb int, transB bool, p0, kLen, j0, nLen, lo, hi int) {
	if !transB {
		// Row by row: each row of B is read once, contiguously, and
		// scattered 16 floats at a time into the panels (reading panel by
		// panel instead strides through B a row at a time: TLB-bound).
		full := min(hi, lo+(nLen-lo*gemmNR)/gemmNR) // panels with 16 columns
		for p := range kLen {
			row := b[(p0+p)*ldb+j0 : (p0+p)*ldb+j0+nLen]
			for q := lo; q < full; q++ {
				// Four 16-byte assignments compile to four pairs of
				// vector moves; copy calls memmove for every 64 bytes (so
				// do [16]float32 and [8]float32 assignments).
				d, s := (*[gemmNR]float32)(dst[(q*kLen+p)*gemmNR:]), (*[gemmNR]float32)(row[q*gemmNR:])
				*(*[4]float32)(d[0:]) = *(*[4]float32)(s[0:])
				*(*[4]float32)(d[4:]) = *(*[4]float32)(s[4:])
				*(*[4]float32)(d[8:]) = *(*[4]float32)(s[8:])
				*(*[4]float32)(d[12:]) = *(*[4]float32)(s[12:])
			}
		}
		if full < hi { // the last, partial panel
			d := dst[full*kLen*gemmNR : (full+1)*kLen*gemmNR]
			clear(d)
			cols := nLen - full*gemmNR
			for p := range kLen {
				copy(d[p*gemmNR:p*gemmNR+cols], b[(p0+p)*ldb+j0+full*gemmNR:(p0+p)*ldb+j0+nLen])
			}
		}
		return
	}
	for q := lo; q < hi; q++ {
		d := dst[q*kLen*gemmNR : (q+1)*kLen*gemmNR]
		c0 := q * gemmNR
		cols := min(gemmNR, nLen-c0)
		if !transB {
			if cols < gemmNR {
				clear(d)
			}
			for p := range kLen {
				src := b[(p0+p)*ldb+j0+c0 : (p0+p)*ldb+j0+c0+cols]
				copy(d[p*gemmNR:p*gemmNR+cols], src)
			}
			continue
		}
		// op(B) = Bᵀ: column j of op(B) is row j of B. Read the 16 rows
		// as parallel streams so the panel is written sequentially.
		if cols < gemmNR {
			clear(d)
			for c := range cols {
				src := b[(j0+c0+c)*ldb+p0 : (j0+c0+c)*ldb+p0+kLen]
				for p, v := range src {
					d[p*gemmNR+c] = v
				}
			}
			continue
		}
		packBTransFull(d, b[(j0+c0)*ldb+p0:], ldb, kLen)
	}
}

// packBTransFull packs a full panel of 16 columns of op(B) = Bᵀ, i.e. 16
// rows of b (from b[0], stride ldb) over kLen values, into d.
func packBTransFull(d, b []float32, ldb, kLen int) {
	var rows [gemmNR][]float32
	for c := range rows {
		rows[c] = b[c*ldb : c*ldb+kLen]
	}
	start := 0
	if blocks := kLen / 8; hasAVX2FMA && blocks > 0 {
		_ = d[kLen*gemmNR-1]
		transpose8AVX2(&d[0], gemmNR, &rows[0][0], ldb, blocks)
		transpose8AVX2(&d[8], gemmNR, &rows[8][0], ldb, blocks)
		start = blocks * 8
	}
	for p := start; p < kLen; p++ {
		e := (*[gemmNR]float32)(d[p*gemmNR:])
		for c := range gemmNR {
			e[c] = rows[c][p]
		}
	}
}

package kernels

import (
	"encoding/binary"
	"sync"
)

// The uint8×int8 ("quad") layout of PackedB8, used when the CPU has
// AVX-512 VNNI (VPDPBUSD multiplies 4 uint8 by 4 int8 and sums them into
// int32 exactly, twice the products per instruction of the int16 path) or,
// on arm64, the dot-product extension (UDOT, see gemm8_arm64.go).
// Its operands must be raw uint8 (A) and int8 (B), so the zero points
// are not subtracted before the product but corrected after it. With
// B' = b − s_j, s_j the midpoint of column j's values (see quadShifts),
// always an int8, and d_j = b−b₀−B' = s_j − b₀ per column:
//
//	Σₖ (a−a₀)(b−b₀) = Σₖ a·B' + d_j·Σₖ a − a₀·(Σₖ B' + d_j·K)
//
// per K block: the kernel adds rowSum(a)·d_j + cc_j to its tile, with
// cc_j = −a₀·(colSum_j(B') + d_j·kLen). Every term is an exact int32 (or
// wraps modulo 2³² to the exact, int32-sized, total).

// gemmQW is the width of the quad kernel's tile: two 16-column panels.
const gemmQW = 2 * gemmNR

// packB8Quad fills pb's quad layout from b, B' = b − shift[j] (see
// quadShifts): per K block of pb.kq rows,
// ceil(n/32)·2 panels of 16 columns, each ceil(kLen/4) quads × 16 columns
// × 4 int8 (zero past n and past kLen), plus the block's column sums and
// the per-column d.
func packB8Quad(pb *PackedB8, b []byte, ldb int, signed bool, zero, shift []int32) {
	k, n := pb.k, pb.n
	nPad := ceilDiv(n, gemmQW) * gemmQW
	pb.dc = make([]int32, nPad)
	for j := range n {
		z := zero[0]
		if len(zero) > 1 {
			z = zero[j]
		}
		pb.dc[j] = shift[j] - z
	}
	nBlocks := ceilDiv(k, pb.kq)
	pb.colSum = make([]int32, nBlocks*nPad)
	size := 0
	for p0 := 0; p0 < k; p0 += pb.kq {
		size += ceilDiv(min(pb.kq, k-p0), 4) * 4 * nPad
	}
	pb.q = make([]int8, size)
	for blk, p0 := 0, 0; p0 < k; blk, p0 = blk+1, p0+pb.kq {
		kLen := min(pb.kq, k-p0)
		quads := ceilDiv(kLen, 4)
		d := pb.blockQ(p0)
		cs := pb.colSum[blk*nPad : (blk+1)*nPad]
		// Quad by quad and panel by panel, so the writes are sequential
		// (packing runs for every int8 weight at a model's first run).
		for q := range quads {
			rows := min(4, kLen-4*q)
			for jp := range ceilDiv(n, gemmNR) {
				dst := d[(jp*quads+q)*gemmNR*4 : (jp*quads+q+1)*gemmNR*4]
				j0, j1 := jp*gemmNR, min(n, (jp+1)*gemmNR)
				for r := range rows {
					src := b[(p0+4*q+r)*ldb+j0 : (p0+4*q+r)*ldb+j1]
					for c, v := range src {
						x := int8(byteValue(v, signed) - shift[j0+c])
						dst[4*c+r] = x
						cs[j0+c] += int32(x)
					}
				}
			}
		}
	}
	pb.pairSafe = pairSafe(pb.q)
}

// pairSafe reports |q[2i]|+|q[2i+1]| ≤ 128 for every pair.
func pairSafe(q []int8) bool {
	for i := 0; i+1 < len(q); i += 2 {
		if abs8(q[i])+abs8(q[i+1]) > 128 {
			return false
		}
	}
	return true
}

// pairSafeRows is pairSafe on the rows pairs (2i, 2i+1) of the k×n
// matrix b as packB8Quad reads it (B' = b − shift, see quadShifts),
// checked before packing so that weights which are not pair-safe (most
// full-range ones fail at the first rows) are packed once, in the int16
// layout.
func pairSafeRows(k, n int, b []byte, ldb int, signed bool, shift []int32) bool {
	for p := 0; p+1 < k; p += 2 {
		r0, r1 := b[p*ldb:p*ldb+n], b[(p+1)*ldb:(p+1)*ldb+n]
		for j, v := range r0 {
			x0, x1 := byteValue(v, signed)-shift[j], byteValue(r1[j], signed)-shift[j]
			if abs32(x0)+abs32(x1) > 128 {
				return false
			}
		}
	}
	return true // an odd last row pairs with zero padding: |B'| ≤ 128
}

// quadShifts returns for each column j of the k×n matrix b (int8 when
// signed, else uint8) the s_j of the quad layout's B' = b − s_j: the
// midpoint of the column's values, rounded up, so that B' fits an int8
// for any column (s = 128 for a full uint8 range) and spans ±64 when the
// values span 128 or less. The 7-bit weights of onnxruntime's reduce_range
// are such, int8 ones around 0 and uint8 ones in [0, 127] (transformers.js
// quantizes graphs with a Conv, CLIP's vision tower, to uint8): a fixed
// b−128 put the latter in [−128, −1], where no pair is safe for the
// VPMADDUBSW kernel and the GEMM ran on the int16 layout, ~28% slower.
func quadShifts(k, n int, b []byte, ldb int, signed bool) []int32 {
	lo, hi := make([]int32, n), make([]int32, n)
	for j := range n {
		lo[j], hi[j] = 255, -128
	}
	for p := range k {
		for j, v := range b[p*ldb : p*ldb+n] {
			x := byteValue(v, signed)
			lo[j], hi[j] = min(lo[j], x), max(hi[j], x)
		}
	}
	for j := range lo {
		lo[j] = (lo[j] + hi[j] + 1) >> 1
	}
	return lo
}

// byteValue reads a weight byte as int8 (signed) or uint8.
func byteValue(v byte, signed bool) int32 {
	if signed {
		return int32(int8(v))
	}
	return int32(v)
}

// abs8 and abs32 are branch-free: the weights' signs are random, a branch
// on them mispredicts half the time.
func abs8(v int8) int32 { return abs32(int32(v)) }

func abs32(x int32) int32 {
	m := x >> 31
	return (x ^ m) - m
}

// blockQ returns the quad-layout panels of rows [p0, p0+pb.kq).
func (pb *PackedB8) blockQ(p0 int) []int8 {
	nPad := len(pb.dc)
	kLen := min(pb.kq, pb.k-p0)
	return pb.q[p0*nPad : p0*nPad+ceilDiv(kLen, 4)*4*nPad]
}

// gemmQBuffers are gemmU8Quad's shared double-buffered packed A and row
// sums, the per-block column corrections and the threads' staging tiles,
// recycled across calls.
type gemmQBuffers struct {
	a      [2][]uint8
	rs     [2][]int32
	cc     []int32
	edge   [][gemmMR * gemmQW]int32
	strips []*gemm8Strip
}

var gemmQScratch = sync.Pool{New: func() any { return new(gemmQBuffers) }}

type gemmQRun struct {
	m       int
	a       []uint8
	lda     int
	pb      *PackedB8
	c       []int32
	ldc     int
	threads int
	bar     barrier
	buf     *gemmQBuffers
	kern    quadKernel
	kernF   quadKernelF // nil: none (see gemmU8)
	epi     *gemm8Epi   // nil: C is the result (GemmU8)
}

// quadKernel computes the first rows rows of a 6×32 tile on the quad
// layout (see kernelQ); rs holds MR row sums (zero past rows), and with
// rows < MR, c has room for MR rows.
type quadKernel func(rows, kq int, a []uint8, b []int8, c []int32, ldc int, accumulate bool, rs, dc, cc []int32)

// quadKernelF computes a whole 6×32 tile on the quad layout (one K block)
// and finishes it as an int8 Linear without activation does: y[r·ldy+j] =
// float(C)·scale[j] + bias[j] + res[r·ldr+j], rounded as dequantTile
// rounds; bias and res may be nil.
type quadKernelF func(kq int, a []uint8, b []int8, rs, dc, cc []int32, y []float32, ldy int, scale, bias, res []float32, ldr int)

// gemmU8Quad is gemmU8 on the quad layout.
func gemmU8Quad(p *Pool, kern quadKernel, kernF quadKernelF, m int, a []uint8, lda int, aZero uint8, pb *PackedB8, c []int32, ldc int, epi *gemm8Epi) error {
	n, k := pb.n, pb.k
	nPad := len(pb.dc)
	if epi != nil && k > pb.kq {
		buf := partialSums(m, n)
		defer int32Scratch.Put(buf)
		c, ldc = *buf, n
	}
	threads := 1
	if 2*m*n*k >= gemmParallelFlops {
		threads = p.acquire()
	}
	// The parallel call's descriptor lives in the Pool (guarded by its
	// reservation) so that handing it to the workers allocates nothing.
	var local gemmQRun
	g := &local
	if threads > 1 {
		defer p.release()
		g = &p.gemmQ
		defer func() { *g = gemmQRun{} }()
	}
	*g = gemmQRun{m: m, a: a, lda: lda, pb: pb, c: c, ldc: ldc, kern: kern, kernF: kernF, epi: epi}
	g.threads = threads
	g.bar.n = int32(threads)
	sc := gemmQScratch.Get().(*gemmQBuffers)
	defer gemmQScratch.Put(sc)
	mRows := ceilDiv(m, gemmMR) * gemmMR
	need := mRows * ceilDiv(min(k, pb.kq), 4) * 4
	for i := range sc.a {
		if cap(sc.a[i]) < need {
			sc.a[i] = make([]uint8, need)
		}
		sc.a[i] = sc.a[i][:need]
		if cap(sc.rs[i]) < mRows {
			sc.rs[i] = make([]int32, mRows)
		}
		sc.rs[i] = sc.rs[i][:mRows]
	}
	nBlocks := ceilDiv(k, pb.kq)
	if cap(sc.cc) < nBlocks*nPad {
		sc.cc = make([]int32, nBlocks*nPad)
	}
	sc.cc = sc.cc[:nBlocks*nPad]
	a0 := int32(aZero)
	for blk := range nBlocks {
		kLen := int32(min(pb.kq, k-blk*pb.kq))
		cs, cc := pb.colSum[blk*nPad:(blk+1)*nPad], sc.cc[blk*nPad:(blk+1)*nPad]
		for j, d := range pb.dc {
			cc[j] = -a0 * (cs[j] + d*kLen)
		}
	}
	if len(sc.edge) < threads {
		sc.edge = make([][gemmMR * gemmQW]int32, threads)
	}
	if epi != nil {
		sc.strips = growStrips(sc.strips, threads)
	}
	g.buf = sc
	if threads == 1 {
		g.work(0)
	} else {
		p.run(threads, p.gemmQTask)
	}
	return nil
}

// gemmQShare runs thread t's share of the Pool's current gemmU8Quad call.
func (p *Pool) gemmQShare(t int) { p.gemmQ.work(t) }

// work is thread t's share, the scheme of gemm8Run.work: pack a share of
// A (and its row sums) per K block into alternating shared buffers, meet,
// multiply own 32-column tiles of C.
func (g *gemmQRun) work(t int) {
	T := g.threads
	n, k := g.pb.n, g.pb.k
	nPad := len(g.pb.dc)
	mPanels, nTiles := ceilDiv(g.m, gemmMR), nPad/gemmQW
	mp0, mp1, np0, np1 := 0, mPanels, 0, nTiles
	if splitAlongN(mPanels, nTiles, T) {
		np0, np1 = nTiles*t/T, nTiles*(t+1)/T
	} else {
		mp0, mp1 = mPanels*t/T, mPanels*(t+1)/T
	}
	edge := g.buf.edge[t][:]
	var st *gemm8Strip
	if g.epi != nil {
		st = g.buf.strips[t]
	}
	for step, p0 := 0, 0; p0 < k; step, p0 = step+1, p0+g.pb.kq {
		kLen := min(g.pb.kq, k-p0)
		quads := ceilDiv(kLen, 4)
		fuse := g.epi != nil && p0+kLen == k
		apack, rs := g.buf.a[step&1], g.buf.rs[step&1]
		for q := mPanels * t / T; q < mPanels*(t+1)/T; q++ {
			g.packA(apack[q*quads*gemmMR*4:(q+1)*quads*gemmMR*4], rs[q*gemmMR:(q+1)*gemmMR], q*gemmMR, p0, kLen)
		}
		g.bar.wait()
		bblk := g.pb.blockQ(p0)
		cc := g.buf.cc[step*nPad : (step+1)*nPad]
		accumulate := p0 > 0
		for ib := mp0; ib < mp1; ib += gemmMC / gemmMR {
			ie := min(ib+gemmMC/gemmMR, mp1)
			for jt := np0; jt < np1; jt++ {
				col := jt * gemmQW
				bp := bblk[jt*quads*gemmQW*4 : (jt+1)*quads*gemmQW*4]
				cols := min(gemmQW, n-col)
				r0, r1 := ib*gemmMR, min(ie*gemmMR, g.m)
				inStrip := fuse && !accumulate
				if inStrip && g.kernF != nil && cols == gemmQW {
					g.floatStrip(ib, ie, apack, bp, rs, cc, col, edge, st)
					continue
				}
				cs, ldc, base := stripSums(inStrip, st, g.c, g.ldc, r0, col)
				for ir := ib; ir < ie; ir++ {
					ap := apack[ir*quads*gemmMR*4 : (ir+1)*quads*gemmMR*4]
					row := ir * gemmMR
					rows := min(gemmMR, g.m-row)
					dst := cs[(row-base)*ldc:]
					if inStrip || rows == gemmMR && cols == gemmQW {
						g.kern(rows, quads, ap, bp, dst, ldc, accumulate, rs[row:row+gemmMR], g.pb.dc[col:], cc[col:])
						continue
					}
					g.kern(rows, quads, ap, bp, edge, gemmQW, false, rs[row:row+gemmMR], g.pb.dc[col:], cc[col:])
					for r := range rows {
						d := dst[r*ldc : r*ldc+cols]
						src := edge[r*gemmQW : r*gemmQW+cols]
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
			}
		}
	}
}

// floatStrip computes and finishes the 32-column strip at col of the row
// panels [ib, ie) with the float kernel: full panels straight into Y
// without an activation (with one, into the strip's floats, activated and
// stored after the strip as gemm8Epi.strip does); a last partial panel
// through the int32 kernel and dequantTile.
func (g *gemmQRun) floatStrip(ib, ie int, apack []uint8, bp []int8, rs, cc []int32, col int, edge []int32, st *gemm8Strip) {
	e := g.epi
	quads := len(bp) / (gemmQW * 4)
	scale := e.scale[col : col+gemmQW]
	var bias []float32
	if e.ep.Bias != nil {
		bias = e.ep.Bias[col : col+gemmQW]
	}
	direct := e.ep.Act == ActNone
	r0, r1 := ib*gemmMR, min(ie*gemmMR, g.m)
	for ir := ib; ir < ie; ir++ {
		ap := apack[ir*quads*gemmMR*4 : (ir+1)*quads*gemmMR*4]
		row := ir * gemmMR
		rows := min(gemmMR, g.m-row)
		out, ldo := st.f[(row-r0)*gemmQW:], gemmQW
		var res []float32
		if direct {
			out, ldo = e.y[row*e.ldy+col:], e.ldy
			if e.ep.Residual != nil {
				res = e.ep.Residual[row*e.ep.LdResidual+col:]
			}
		}
		if rows == gemmMR {
			g.kernF(quads, ap, bp, rs[row:row+gemmMR], g.pb.dc[col:], cc[col:], out, ldo, scale, bias, res, e.ep.LdResidual)
			continue
		}
		g.kern(gemmMR, quads, ap, bp, edge, gemmQW, false, rs[row:row+gemmMR], g.pb.dc[col:], cc[col:])
		dequantTile(out, ldo, edge, gemmQW, rows, gemmQW, scale, bias, res, e.ep.LdResidual)
	}
	if direct {
		return
	}
	e.finish(st.f[:(r1-r0)*gemmQW], r0, r1-r0, col, gemmQW)
}

// packA writes rows [r0, r0+MR) of A[:, p0:p0+kLen] as quads,
// d[(p/4·MR + r)·4 + p%4] (zero past m and past kLen), and their sums
// into rs.
func (g *gemmQRun) packA(d []uint8, rs []int32, r0, p0, kLen int) {
	rows := min(gemmMR, g.m-r0)
	if rows == gemmMR && kLen%4 == 0 {
		a := g.a[r0*g.lda+p0:]
		// No level check: the quad layout runs at AVX2 and above on
		// amd64, and on arm64 with the dot-product extension (a Pool at
		// ISAGeneric converts B to int16 pairs).
		switch {
		case hasAVX2FMA:
			packQuad6Blocks(packQuad6x16AVX2, d, rs, a, g.lda, kLen)
		case hasNEON:
			packQuad6Blocks(packQuad6x16NEON, d, rs, a, g.lda, kLen)
		default:
			packQuad6Go(d, rs, a, g.lda, kLen)
		}
		return
	}
	if rows < gemmMR || kLen%4 != 0 {
		clear(d)
	}
	clear(rs)
	full := kLen &^ 3
	for r := range rows {
		src := g.a[(r0+r)*g.lda+p0 : (r0+r)*g.lda+p0+kLen]
		rs[r] = sumBytes(src)
		for pq := range full / 4 {
			*(*[4]byte)(d[(pq*gemmMR+r)*4:]) = *(*[4]byte)(src[4*pq:])
		}
		for p := full; p < kLen; p++ {
			d[(p/4*gemmMR+r)*4+p%4] = src[p]
		}
	}
}

// packQuad6Go is packA's common full panel, six rows of a (row stride
// lda) over kLen bytes, a multiple of 4: quad by quad, the six rows'
// quads written as one sequential 24-byte run, without the index
// arithmetic and bounds checks of packA's general loop.
func packQuad6Go(d []uint8, rs []int32, a []uint8, lda, kLen int) {
	var src [gemmMR][]uint8
	for r := range src {
		src[r] = a[r*lda : r*lda+kLen]
		rs[r] = sumBytes(src[r])
	}
	s0, s1, s2, s3, s4, s5 := src[0], src[1], src[2], src[3], src[4], src[5]
	for pq := range kLen / 4 {
		e := (*[gemmMR * 4]byte)(d[pq*gemmMR*4:])
		i := 4 * pq
		*(*[4]byte)(e[0:]) = *(*[4]byte)(s0[i:])
		*(*[4]byte)(e[4:]) = *(*[4]byte)(s1[i:])
		*(*[4]byte)(e[8:]) = *(*[4]byte)(s2[i:])
		*(*[4]byte)(e[12:]) = *(*[4]byte)(s3[i:])
		*(*[4]byte)(e[16:]) = *(*[4]byte)(s4[i:])
		*(*[4]byte)(e[20:]) = *(*[4]byte)(s5[i:])
	}
}

// packQuad6Blocks is packQuad6Go with the rows' 16-byte blocks packed by
// the assembly body16 (packQuad6x16AVX2 or packQuad6x16NEON) and the last
// kLen%16 bytes in Go. AVX2 (BenchmarkPackAQuad, one core of a 2-core
// Zen 3 EPYC): 21-26 GB/s of A in cache against the Go twin's 2.0-2.4,
// 7 against 2.3 from memory; in the int8 CLIP towers it runs near the
// latter (~6 GB/s: its profiled time fell 2.5-3×).
func packQuad6Blocks(body16 func(dst, a *uint8, lda, blocks int, rs *int32), d []uint8, rs []int32, a []uint8, lda, kLen int) {
	blocks := kLen / 16
	if blocks == 0 {
		packQuad6Go(d, rs, a, lda, kLen)
		return
	}
	_ = a[5*lda+kLen-1]
	_ = d[kLen*gemmMR-1]
	_ = rs[gemmMR-1]
	body16(&d[0], &a[0], lda, blocks, &rs[0])
	if done := 16 * blocks; done < kLen {
		var tail [gemmMR]int32
		packQuad6Go(d[done*gemmMR:], tail[:], a[done:], lda, kLen-done)
		for r, s := range tail {
			rs[r] += s
		}
	}
}

// sumBytes returns Σ b, eight bytes at a time in 16-bit lanes.
func sumBytes(b []uint8) int32 {
	var total uint64
	const lo = 0x00FF00FF00FF00FF
	for len(b) >= 8 {
		// 128 words add at most 128·2·255 < 2¹⁶ to a lane.
		words := min(len(b)/8, 128)
		var acc uint64
		for i := range words {
			x := binary.LittleEndian.Uint64(b[8*i:])
			acc += x&lo + (x>>8)&lo
		}
		total += acc&0xFFFF + (acc>>16)&0xFFFF + (acc>>32)&0xFFFF + acc>>48
		b = b[8*words:]
	}
	for _, v := range b {
		total += uint64(v)
	}
	return int32(total)
}

// kernelQ runs the quad kernel for the first rows rows of a 6×32 tile
// (see kernelQ6x32VNNI512).
func kernelQ(rows, kq int, a []uint8, b []int8, c []int32, ldc int, accumulate bool, rs, dc, cc []int32) {
	_ = a[kq*gemmMR*4-1]
	_ = b[kq*gemmQW*4-1]
	_ = c[(rows-1)*ldc+gemmQW-1]
	_ = rs[rows-1]
	_ = dc[gemmQW-1]
	_ = cc[gemmQW-1]
	kernelsQByRows[rows](kq, &a[0], &b[0], &c[0], ldc, accumulate, &rs[0], &dc[0], &cc[0])
}

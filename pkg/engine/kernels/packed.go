package kernels

import "fmt"

// PackedB is a k×n right-hand GEMM operand re-laid out once into the
// micro-panel order the Sgemm micro-kernel reads, for operands (weights)
// that are multiplied many times. It is immutable and safe for concurrent
// use.
type PackedB struct {
	k, n int
	// data holds the K blocks of gemmKC rows in order; block p0 holds
	// ceil(n/NR) panels of kLen×NR values.
	data []float32
}

// PackB packs op(B), a k×n matrix stored row-major in b with row stride
// ldb (op(B) = Bᵀ when transB, i.e. b holds an n×k matrix). A Linear layer
// Y = X·Wᵀ with W stored [n, k] uses PackB(true, k, n, w, k).
func PackB(transB bool, k, n int, b []float32, ldb int) (*PackedB, error) {
	if k < 1 || n < 1 {
		return nil, fmt.Errorf("kernels: PackB: empty %d×%d operand", k, n)
	}
	rows, cols := k, n
	if transB {
		rows, cols = n, k
	}
	if ldb < cols {
		return nil, fmt.Errorf("kernels: PackB: ldb=%d < %d columns", ldb, cols)
	}
	if need := (rows-1)*ldb + cols; len(b) < need {
		return nil, fmt.Errorf("kernels: PackB: len(b)=%d < %d needed for %d×%d with ldb=%d", len(b), need, rows, cols, ldb)
	}
	nPanels := ceilDiv(n, gemmNR)
	pb := &PackedB{k: k, n: n, data: make([]float32, k*nPanels*gemmNR)}
	for p0 := 0; p0 < k; p0 += gemmKC {
		kLen := min(gemmKC, k-p0)
		packB(pb.block(p0), b, ldb, transB, p0, kLen, 0, n, 0, nPanels)
	}
	return pb, nil
}

// K and N report the shape k×n of the packed operand.
func (pb *PackedB) K() int { return pb.k }
func (pb *PackedB) N() int { return pb.n }

// block returns the packed panels of rows [p0, p0+KC) of op(B).
func (pb *PackedB) block(p0 int) []float32 {
	stride := ceilDiv(pb.n, gemmNR) * gemmNR
	kLen := min(gemmKC, pb.k-p0)
	return pb.data[p0*stride : (p0+kLen)*stride]
}

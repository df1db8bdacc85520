package index

import (
	"context"
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/clip-go/clip/pkg/engine/kernels"
)

// DefaultDupeThreshold is the cosine similarity at or above which two
// images count as near-duplicates. It is immich's default for its CLIP
// duplicate detection (machineLearning.duplicateDetection.maxDistance
// 0.01 in cosine distance, on ViT-B-32__openai embeddings; raised from
// 0.0155 in immich-app/immich pull request #10703 because looser values
// grouped merely similar photos): real CLIP weights cannot be had here to
// calibrate one ourselves.
const DefaultDupeThreshold = 0.99

// dupeBlock is the side of one block of the similarity matrix: a
// 1024×1024 float32 block (4 MiB) per worker, and operands of 1024 rows
// of dim floats that Sgemm packs once per block.
const dupeBlock = 1024

// DupeMember is one image of a near-duplicate group.
type DupeMember struct {
	Path string
	// Score is the cosine similarity with the group's first member (its
	// representative). Groups are connected components, so a member joined
	// through another can score below the threshold.
	Score float32
}

// DupeOptions tune Dupes.
type DupeOptions struct {
	Threshold float32 // pairs scoring at least this are duplicates
	Workers   int     // goroutines (≤ 0: GOMAXPROCS)
}

// Dupes groups the vectors whose pairwise cosine similarity reaches the
// threshold: the connected components (union-find) of the graph of such
// pairs, groups of one left out. Every pair is scored, as blocks of the
// matrix product V·Vᵀ (Sgemm over the float32 decoding of the stored
// vectors). A group's first member is its representative (its medoid:
// the member most similar to the others), the others follow by
// similarity to it; groups are largest first, then by representative path.
func (v *Vectors) Dupes(ctx context.Context, opt DupeOptions) ([][]DupeMember, error) {
	n, d := v.Len(), v.Dim
	if n < 2 || d == 0 {
		return nil, ctx.Err()
	}
	x := v.float32Rows()
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Block pairs (bi ≤ bj) of the upper triangle, handed out in order.
	type blockPair struct{ i, j int }
	nb := (n + dupeBlock - 1) / dupeBlock
	pairs := make(chan blockPair)
	go func() {
		defer close(pairs)
		for bi := range nb {
			for bj := bi; bj < nb; bj++ {
				select {
				case pairs <- blockPair{bi, bj}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	// Each worker keeps its own forest, so pairs are never stored nor
	// locked; the forests are merged at the end.
	forests := make([]unionFind, min(workers, nb*(nb+1)/2))
	var wg sync.WaitGroup
	for w := range forests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uf := newUnionFind(n)
			c := make([]float32, dupeBlock*dupeBlock)
			for bp := range pairs {
				i0, i1 := bp.i*dupeBlock, min((bp.i+1)*dupeBlock, n)
				j0, j1 := bp.j*dupeBlock, min((bp.j+1)*dupeBlock, n)
				m, k := i1-i0, j1-j0
				kernels.Sgemm(nil, false, true, m, k, d, 1, x[i0*d:i1*d], d, x[j0*d:j1*d], d, 0, c, k)
				for r := range m {
					row := c[r*k : (r+1)*k]
					from := 0
					if bp.i == bp.j {
						from = r + 1 // upper triangle of a diagonal block
					}
					for col := from; col < k; col++ {
						if row[col] >= opt.Threshold {
							uf.union(int32(i0+r), int32(j0+col))
						}
					}
				}
			}
			forests[w] = uf
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	all := forests[0]
	for _, uf := range forests[1:] {
		for i := range uf {
			if r := uf.find(int32(i)); r != int32(i) {
				all.union(int32(i), r)
			}
		}
	}
	members := map[int32][]int32{}
	for i := range int32(n) {
		r := all.find(i)
		members[r] = append(members[r], i)
	}
	var groups [][]DupeMember
	for _, idx := range members {
		if len(idx) < 2 {
			continue
		}
		sort.Slice(idx, func(a, b int) bool { return v.Paths[idx[a]] < v.Paths[idx[b]] })
		row := func(i int32) []float32 { return x[int(i)*d : int(i+1)*d] }
		m := medoid(idx, row)
		idx[0], idx[m] = idx[m], idx[0]
		rest := idx[1:]
		sort.Slice(rest, func(a, b int) bool { return v.Paths[rest[a]] < v.Paths[rest[b]] })
		rep := row(idx[0])
		g := make([]DupeMember, len(idx))
		for j, i := range idx {
			g[j] = DupeMember{Path: v.Paths[i], Score: cosine(rep, row(i))}
		}
		// The representative stays first even if a copy scores 1 too.
		sort.SliceStable(g[1:], func(a, b int) bool { return g[1+a].Score > g[1+b].Score })
		groups = append(groups, g)
	}
	sort.Slice(groups, func(a, b int) bool {
		if len(groups[a]) != len(groups[b]) {
			return len(groups[a]) > len(groups[b])
		}
		return groups[a][0].Path < groups[b][0].Path
	})
	return groups, nil
}

// medoidLimit bounds the groups whose representative is their medoid: the
// choice costs size² dot products.
const medoidLimit = 512

// medoid is the position in idx of the member most similar to the others
// (highest sum of similarities; the first in idx on ties), or 0 for
// groups beyond medoidLimit. Scores against the medoid show a group's
// spread better than against an arbitrary member (an outlier joined
// through a chain would make every other score low).
func medoid(idx []int32, row func(int32) []float32) int {
	if len(idx) > medoidLimit {
		return 0
	}
	best, bestSum := 0, float32(math.Inf(-1))
	for a, i := range idx {
		var sum float32
		for b, j := range idx {
			if a != b {
				sum += dot32(row(i), row(j))
			}
		}
		if sum > bestSum {
			best, bestSum = a, sum
		}
	}
	return best
}

// cosine is a·b/(|a||b|): the stored vectors are unit length only up to
// float16 rounding, and a representative should score exactly 1.
func cosine(a, b []float32) float32 {
	ab, aa, bb := dot32(a, b), dot32(a, a), dot32(b, b)
	if aa == 0 || bb == 0 {
		return 0
	}
	return float32(float64(ab) / math.Sqrt(float64(aa)*float64(bb)))
}

// float32Rows decodes every stored vector, row after row: Sgemm wants
// float32 operands, and decoding once costs n·dim where decoding per
// block would cost (n/dupeBlock)·n·dim.
func (v *Vectors) float32Rows() []float32 {
	x := make([]float32, len(v.Codes))
	t := f16to32
	for i, h := range v.Codes {
		x[i] = t[h]
	}
	return x
}

func dot32(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// unionFind is a disjoint-set forest: parent links, path halving, union
// by smaller index (deterministic roots, and shallow enough here).
type unionFind []int32

func newUnionFind(n int) unionFind {
	uf := make(unionFind, n)
	for i := range uf {
		uf[i] = int32(i)
	}
	return uf
}

func (uf unionFind) find(i int32) int32 {
	for uf[i] != i {
		uf[i] = uf[uf[i]]
		i = uf[i]
	}
	return i
}

func (uf unionFind) union(a, b int32) {
	ra, rb := uf.find(a), uf.find(b)
	switch {
	case ra < rb:
		uf[rb] = ra
	case rb < ra:
		uf[ra] = rb
	}
}

// Float32 is vector i decoded (for tests and tools).
func (v *Vectors) Float32(i int) []float32 {
	out := make([]float32, v.Dim)
	for j, h := range v.Codes[i*v.Dim : (i+1)*v.Dim] {
		out[j] = f16to32[h]
	}
	return out
}

package index

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// withCopies makes unit vectors of which some are near-copies of others
// (an original plus a little noise, as a re-encoded or resized photo, or
// four times as much: a similar but distinct photo), and some copies of
// copies, so that groups chain.
func withCopies(r *rand.Rand, originals, dim int, noise float64) [][]float32 {
	unit := func(v []float64) []float32 {
		var s float64
		for _, x := range v {
			s += x * x
		}
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x / math.Sqrt(s))
		}
		return out
	}
	var vecs [][]float32
	for range originals {
		base := make([]float64, dim)
		for i := range base {
			base[i] = r.NormFloat64()
		}
		vecs = append(vecs, unit(base))
		for range r.IntN(4) * r.IntN(2) { // half have none, the rest 0–3
			from := vecs[len(vecs)-1] // a copy of the last one: chains
			c := make([]float64, dim)
			scale := noise / math.Sqrt(float64(dim))
			if r.IntN(2) == 0 {
				scale *= 4
			}
			for i := range c {
				c[i] = float64(from[i]) + scale*r.NormFloat64()
			}
			vecs = append(vecs, unit(c))
		}
	}
	r.Shuffle(len(vecs), func(i, j int) { vecs[i], vecs[j] = vecs[j], vecs[i] })
	return vecs
}

// referenceGroups are the connected components of the pairs whose float64
// cosine reaches t, by depth-first search over an adjacency list: the
// definition, computed without the kernels, the float16 decoding or the
// union-find under test. Each group is its paths sorted, joined by ",".
func referenceGroups(paths []string, vecs [][]float32, t float64) []string {
	n := len(vecs)
	adj := make([][]int, n)
	for i := range n {
		for j := i + 1; j < n; j++ {
			if cos64(vecs[i], vecs[j]) >= t {
				adj[i] = append(adj[i], j)
				adj[j] = append(adj[j], i)
			}
		}
	}
	seen := make([]bool, n)
	var groups []string
	for i := range n {
		if seen[i] || len(adj[i]) == 0 {
			continue
		}
		var g []string
		stack := []int{i}
		seen[i] = true
		for len(stack) > 0 {
			a := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			g = append(g, paths[a])
			for _, b := range adj[a] {
				if !seen[b] {
					seen[b] = true
					stack = append(stack, b)
				}
			}
		}
		sort.Strings(g)
		groups = append(groups, strings.Join(g, ","))
	}
	sort.Strings(groups)
	return groups
}

func cos64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// gapThreshold is the middle of the widest gap between pair similarities
// within [lo, hi], and the gap's width: a threshold there is decided the
// same way by float64 and by float16 storage with float32 products.
func gapThreshold(vecs [][]float32, lo, hi float64) (float64, float64) {
	sims := []float64{lo, hi}
	for i := range vecs {
		for j := i + 1; j < len(vecs); j++ {
			if s := cos64(vecs[i], vecs[j]); s > lo && s < hi {
				sims = append(sims, s)
			}
		}
	}
	sort.Float64s(sims)
	best, width := 0.0, 0.0
	for i := 1; i < len(sims); i++ {
		if w := sims[i] - sims[i-1]; w > width {
			best, width = (sims[i]+sims[i-1])/2, w
		}
	}
	return best, width
}

// TestDupesMatchesBruteForceReference: on 2,500+ vectors (three blocks,
// so diagonal and off-diagonal blocks and a ragged edge), the groups are
// the float64 reference's, with one worker or several; the first member is
// the most central by the float64 sums, the others follow by score, and
// each score is the float64 cosine with the first.
func TestDupesMatchesBruteForceReference(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 4))
	const dim = 64
	vecs := withCopies(r, 1700, dim, 0.1)
	if len(vecs) <= 2*dupeBlock {
		t.Fatalf("only %d vectors: want more than two blocks", len(vecs))
	}
	thr, gap := gapThreshold(vecs, 0.9, 0.995)
	if gap < 0.004 { // float16 storage moves a cosine by ≤ ~5e-4 here
		t.Fatalf("widest gap %.4f at %.4f: too narrow for a threshold float16 cannot blur", gap, thr)
	}
	paths := make([]string, len(vecs))
	v := &Vectors{Dim: dim}
	for i, x := range vecs {
		paths[i] = fmt.Sprintf("/p/%05d.jpg", i)
		v.Append(paths[i], x)
	}
	want := referenceGroups(paths, vecs, thr)
	if len(want) < 100 {
		t.Fatalf("reference has only %d groups at %.4f: the test data is too easy", len(want), thr)
	}
	byPath := map[string]int{}
	for i, p := range paths {
		byPath[p] = i
	}
	for _, workers := range []int{1, 3} {
		groups, err := v.Dupes(context.Background(), DupeOptions{Threshold: float32(thr), Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for gi, g := range groups {
			var ps []string
			for _, m := range g {
				ps = append(ps, m.Path)
				ref := cos64(vecs[byPath[g[0].Path]], vecs[byPath[m.Path]])
				if math.Abs(float64(m.Score)-ref) > 2e-3 {
					t.Errorf("workers %d: %s scores %.4f against %s, reference %.4f", workers, m.Path, m.Score, g[0].Path, ref)
				}
			}
			sumSims := func(p string) (s float64) {
				for _, m := range g {
					if m.Path != p {
						s += cos64(vecs[byPath[p]], vecs[byPath[m.Path]])
					}
				}
				return s
			}
			for j, m := range g {
				if sumSims(m.Path) > sumSims(g[0].Path)+1e-3*float64(len(g)) {
					t.Errorf("workers %d: group %d: %s is more central than the representative %s", workers, gi, m.Path, g[0].Path)
				}
				if j > 1 && m.Score > g[j-1].Score {
					t.Errorf("workers %d: group %d: member %d scores above the one before it", workers, gi, j)
				}
			}
			sort.Strings(ps)
			if gi > 0 && len(g) > len(groups[gi-1]) {
				t.Errorf("workers %d: group %d (%d members) after a smaller one", workers, gi, len(g))
			}
			got = append(got, strings.Join(ps, ","))
		}
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("workers %d, threshold %.4f: %d groups, reference %d; first difference:\n%s", workers, thr, len(got), len(want), firstDiff(got, want))
		}
	}
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("got  %s\nwant %s", got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}

func TestDupesEdgeCases(t *testing.T) {
	ctx := context.Background()
	v := &Vectors{Dim: 3}
	if g, err := v.Dupes(ctx, DupeOptions{Threshold: 0.5}); err != nil || g != nil {
		t.Errorf("empty: %v, %v", g, err)
	}
	v.Append("/b", []float32{1, 0, 0})
	v.Append("/a", []float32{1, 0, 0})
	v.Append("/c", []float32{0, 1, 0})
	g, err := v.Dupes(ctx, DupeOptions{Threshold: 0.99})
	if err != nil || len(g) != 1 || len(g[0]) != 2 || g[0][0].Path != "/a" || g[0][1].Path != "/b" || g[0][0].Score != 1 || g[0][1].Score != 1 {
		t.Errorf("identical pair: %+v, %v; want one group [/a /b] scoring 1", g, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := v.Dupes(cctx, DupeOptions{Threshold: 0.99}); err == nil {
		t.Errorf("cancelled context: no error")
	}
}

func benchmarkDupes(b *testing.B, n int) {
	r := rand.New(rand.NewPCG(1, 2))
	const dim = 512
	v := &Vectors{Dim: dim}
	for i, x := range withCopies(r, n*2/3, dim, 0.1)[:n] {
		v.Append(fmt.Sprintf("/p/%07d.jpg", i), x)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Dupes(context.Background(), DupeOptions{Threshold: DefaultDupeThreshold}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(n-1)/2/b.Elapsed().Seconds()*float64(b.N)/1e6, "Mpairs/s")
}

// BenchmarkDupes10k and BenchmarkDupes100k: all pairs of 10,000 and
// 100,000 vectors of 512 (ViT-B/32's width).
func BenchmarkDupes10k(b *testing.B)  { benchmarkDupes(b, 10_000) }
func BenchmarkDupes100k(b *testing.B) { benchmarkDupes(b, 100_000) }

// Package clipsynth makes synthetic vectors shaped like CLIP image
// embeddings, for the index's tests and benchmarks: unit vectors made of a
// direction they all share, one of a few hundred cluster centres, and
// noise, so that neighbours score close together (the hard case for a
// lossy encoding and for top-k), unlike independent random vectors.
package clipsynth

import (
	"math"
	"math/rand/v2"
)

// Centres is the number of clusters.
const Centres = 300

// Generator draws vectors of one shape (one shared direction, one set of
// centres) from its random source.
type Generator struct {
	r       *rand.Rand
	dim     int
	common  []float64
	centres [][]float64
	buf     []float64
}

// New returns a generator of dim-dimensional vectors whose shape (shared
// direction and centres) is drawn from r, as are the vectors after.
func New(r *rand.Rand, dim int) *Generator {
	g := &Generator{r: r, dim: dim, buf: make([]float64, dim)}
	g.common = g.gauss(make([]float64, dim))
	g.centres = make([][]float64, Centres)
	for i := range g.centres {
		g.centres[i] = g.gauss(make([]float64, dim))
	}
	return g
}

// gauss fills v with a random unit vector.
func (g *Generator) gauss(v []float64) []float64 {
	for i := range v {
		v[i] = g.r.NormFloat64()
	}
	return unit(v)
}

func unit(v []float64) []float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	s = math.Sqrt(s)
	for i := range v {
		v[i] /= s
	}
	return v
}

// Next fills dst (dim values) with the next vector: 0.6·shared + 0.6·centre
// + 0.5·noise, normalised.
func (g *Generator) Next(dst []float32) {
	c := g.centres[g.r.IntN(len(g.centres))]
	noise := g.gauss(g.buf)
	for j := range noise {
		noise[j] = 0.6*g.common[j] + 0.6*c[j] + 0.5*noise[j]
	}
	for j, x := range unit(noise) {
		dst[j] = float32(x)
	}
}

// Vectors returns n vectors.
func (g *Generator) Vectors(n int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, g.dim)
		g.Next(out[i])
	}
	return out
}

// WithSource returns a generator of the same shape drawing its vectors
// from r (queries near an index's clusters that are not its vectors).
func (g *Generator) WithSource(r *rand.Rand) *Generator {
	h := *g
	h.r, h.buf = r, make([]float64, g.dim)
	return &h
}

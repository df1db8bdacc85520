package index

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/clip-go/clip/pkg/clip"
)

// Query is one search of `clip search` or the server's /v1/search: a text
// (put into each template, the prompts' embeddings averaged), the
// embedding of an example image, or both (the two averaged).
type Query struct {
	Text      string
	Templates []string  // each with {} for the text; none: the text as is
	Image     []float32 // the example image's L2-normalised embedding; nil: none
}

// ErrEmptyQuery is Check's answer to a query with neither text nor image.
var ErrEmptyQuery = errors.New("nothing to search for: give a text query, an example image, or both")

// Check reports a query that cannot run, before any model work: nothing
// to search for, or a template without its {}.
func (q Query) Check() error {
	if strings.TrimSpace(q.Text) == "" && q.Image == nil {
		return ErrEmptyQuery
	}
	for _, t := range q.Templates {
		if !strings.Contains(t, "{}") {
			return fmt.Errorf("template %q has no {} for the query", t)
		}
	}
	return nil
}

// Prompts are the texts to embed for the query (none without a text).
func (q Query) Prompts() []string {
	text := strings.TrimSpace(q.Text)
	if text == "" {
		return nil
	}
	if len(q.Templates) == 0 {
		return []string{text}
	}
	out := make([]string, len(q.Templates))
	for i, t := range q.Templates {
		out[i] = clip.FillTemplate(t, text)
	}
	return out
}

// Vector embeds the query's text through enc and combines it with the
// example image: the L2-normalised mean of the prompt embeddings, then of
// that and the image embedding.
func (q Query) Vector(ctx context.Context, enc clip.TextEncoder) ([]float32, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	var parts [][]float32
	if prompts := q.Prompts(); len(prompts) > 0 {
		embs, err := enc.EncodeTexts(ctx, prompts)
		if err != nil {
			return nil, err
		}
		if len(embs) != len(prompts) {
			return nil, fmt.Errorf("text encoder returned %d embeddings for %d prompts", len(embs), len(prompts))
		}
		parts = append(parts, MeanUnit(embs))
	}
	if q.Image != nil {
		parts = append(parts, q.Image)
	}
	for _, p := range parts[1:] {
		if len(p) != len(parts[0]) {
			return nil, fmt.Errorf("text embedding has %d dimensions, image embedding %d", len(parts[0]), len(p))
		}
	}
	return MeanUnit(parts), nil
}

// MeanUnit is the L2-normalised mean of vectors of one length (a single
// unit vector comes back as it is, up to rounding).
func MeanUnit(vs [][]float32) []float32 {
	sum := make([]float32, len(vs[0]))
	for _, v := range vs {
		for i, x := range v {
			sum[i] += x
		}
	}
	return clip.Normalize(sum)
}

// Under returns a filter keeping the paths at or below prefix, on path
// boundaries ("/photos/a" keeps "/photos/a/x.jpg", not "/photos/ab.jpg");
// nil for an empty prefix (keep all). Index paths are absolute, with
// sep as their separator.
func Under(prefix string, sep byte) func(path string) bool {
	if prefix == "" {
		return nil
	}
	dir := strings.TrimRight(prefix, string(sep))
	if dir == "" {
		return nil // the root: everything
	}
	return func(p string) bool {
		return p == dir || (len(p) > len(dir) && p[len(dir)] == sep && strings.HasPrefix(p, dir))
	}
}

// Record is one search result as `clip search --format json` and the
// server's /v1/search answer it.
type Record struct {
	Schema int     `json:"schema"`
	File   string  `json:"file"`
	Score  float32 `json:"score"`
}

// Records turns hits into records, scores kept to four decimals (float16
// storage makes the rest noise).
func Records(hits []Hit) []Record {
	recs := make([]Record, len(hits))
	for i, h := range hits {
		recs[i] = Record{Schema: clip.SchemaVersion, File: h.Path, Score: RoundScore(h.Score)}
	}
	return recs
}

// RoundScore keeps four decimals of a score computed from stored vectors:
// float16 storage makes the rest noise.
func RoundScore(x float32) float32 { return float32(math.Round(float64(x)*1e4) / 1e4) }

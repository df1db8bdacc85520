package index

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestUnder(t *testing.T) {
	keep := Under("/photos/2024/", '/')
	for p, want := range map[string]bool{
		"/photos/2024": true, "/photos/2024/a.jpg": true, "/photos/2024/x/b.jpg": true,
		"/photos/2024-old/a.jpg": false, "/photos/202": false, "/other/a.jpg": false,
	} {
		if got := keep(p); got != want {
			t.Errorf("Under(/photos/2024/)(%s) = %v, want %v", p, got, want)
		}
	}
	if Under("", '/') != nil || Under("/", '/') != nil {
		t.Error("an empty or root prefix keeps everything (nil filter)")
	}
}

func TestSearchKeep(t *testing.T) {
	v := &Vectors{Dim: 2}
	v.Append("/a/1", []float32{1, 0})
	v.Append("/b/2", []float32{0.8, 0.6})
	v.Append("/a/3", []float32{0, 1})
	hits := v.Search([]float32{1, 0}, SearchOptions{Keep: Under("/a", '/')})
	if len(hits) != 2 || hits[0].Path != "/a/1" || hits[1].Path != "/a/3" {
		t.Errorf("Keep /a: %+v", hits)
	}
}

// prefixEncoder embeds a prompt as (1, len) normalised, recording prompts.
type prefixEncoder struct{ got []string }

func (e *prefixEncoder) EncodeTexts(_ context.Context, texts []string) ([][]float32, error) {
	e.got = append(e.got, texts...)
	out := make([][]float32, len(texts))
	for i, s := range texts {
		n := float32(math.Hypot(1, float64(len(s))))
		out[i] = []float32{1 / n, float32(len(s)) / n}
	}
	return out, nil
}

func TestQueryVector(t *testing.T) {
	ctx := context.Background()
	if err := (Query{}).Check(); !errors.Is(err, ErrEmptyQuery) {
		t.Errorf("empty query: %v", err)
	}
	if err := (Query{Text: "dog", Templates: []string{"a photo"}}).Check(); err == nil || !strings.Contains(err.Error(), `"a photo" has no {}`) {
		t.Errorf("template without {}: %v", err)
	}
	// Templates: each filled, embeddings averaged, renormalised.
	enc := &prefixEncoder{}
	v, err := Query{Text: " ab ", Templates: []string{"{}", "x {} y"}}.Vector(ctx, enc)
	if err != nil || strings.Join(enc.got, "|") != "ab|x ab y" {
		t.Fatalf("prompts %q, %v", enc.got, err)
	}
	// (1,2)/√5 and (1,6)/√37 averaged: direction (0.4472+0.1644, 0.8944+0.9864).
	a, b := 1/math.Sqrt(5)+1/math.Sqrt(37), 2/math.Sqrt(5)+6/math.Sqrt(37)
	n := math.Hypot(a, b)
	if math.Abs(float64(v[0])-a/n) > 1e-6 || math.Abs(float64(v[1])-b/n) > 1e-6 {
		t.Errorf("templated text: %v, want (%.6f, %.6f)", v, a/n, b/n)
	}
	// Image only: the embedding itself; text and image: their normalised mean.
	if v, _ := (Query{Image: []float32{0, 1}}).Vector(ctx, enc); v[0] != 0 || v[1] != 1 {
		t.Errorf("image only: %v", v)
	}
	v, _ = Query{Text: "", Image: []float32{0, 1}}.Vector(ctx, enc)
	if v[1] != 1 {
		t.Errorf("blank text is no text: %v", v)
	}
	v, _ = Query{Text: "a", Image: []float32{0, -1}}.Vector(ctx, enc) // (1,1)/√2 + (0,-1)
	a, b = 1/math.Sqrt2, 1/math.Sqrt2-1
	n = math.Hypot(a, b)
	if math.Abs(float64(v[0])-a/n) > 1e-6 || math.Abs(float64(v[1])-b/n) > 1e-6 {
		t.Errorf("text and image: %v, want (%.6f, %.6f)", v, a/n, b/n)
	}
	if _, err := (Query{Text: "a", Image: []float32{0, 1, 0}}).Vector(ctx, enc); err == nil {
		t.Error("text and image of different sizes: no error")
	}
}

func TestRecordsRound(t *testing.T) {
	r := Records([]Hit{{Path: "/a", Score: 0.123456}})
	if len(r) != 1 || r[0].Schema != 1 || r[0].File != "/a" || r[0].Score != 0.1235 {
		t.Errorf("%+v", r)
	}
}

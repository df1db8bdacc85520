package clip

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mapEncoder embeds each prompt as a fixed vector; calls counts the prompts it was asked for.
type mapEncoder struct {
	vecs  map[string][]float32
	calls int
}

func (e *mapEncoder) EncodeTexts(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, ok := e.vecs[t]
		if !ok {
			v = []float32{0, 0, 1}
		}
		out[i] = Normalize(append([]float32(nil), v...))
		e.calls++
	}
	return out, nil
}

func TestZeroShotSoftmaxOfScaledCosine(t *testing.T) {
	enc := &mapEncoder{vecs: map[string][]float32{
		"a photo of a cat.": {1, 0, 0},
		"a photo of a dog.": {0, 1, 0},
	}}
	z, err := NewZeroShot(context.Background(), enc, []Label{{Name: "cat"}, {Name: "dog"}}, nil, SoftmaxScoring(100))
	if err != nil {
		t.Fatal(err)
	}
	// An image at angle a from "cat" in the cat/dog plane: cosines cos a and sin a,
	// so P(cat) = 1 / (1 + exp(100 (sin a - cos a))).
	a := 0.7
	img := []float32{float32(math.Cos(a)), float32(math.Sin(a)), 0}
	got, err := z.Classify(img)
	if err != nil {
		t.Fatal(err)
	}
	wantCat := 1 / (1 + math.Exp(100*(math.Sin(a)-math.Cos(a))))
	if got[0].Label != "cat" || math.Abs(got[0].Probability-wantCat) > 1e-5 {
		t.Errorf("top = %+v, want cat with %.6f", got[0], wantCat)
	}
	if math.Abs(got[0].Similarity-math.Cos(a)) > 1e-6 || math.Abs(got[1].Similarity-math.Sin(a)) > 1e-6 {
		t.Errorf("similarities %v %v, want cos/sin of %v", got[0].Similarity, got[1].Similarity, a)
	}
	if s := got[0].Probability + got[1].Probability; math.Abs(s-1) > 1e-12 {
		t.Errorf("probabilities sum to %v", s)
	}
}

func TestZeroShotEnsemblesPromptsByMeanOfNormalised(t *testing.T) {
	enc := &mapEncoder{vecs: map[string][]float32{
		"x cat": {1, 0, 0}, "y cat": {0, 10, 0}, // unnormalised on purpose: each is normalised first
		"x dog": {0, 0, 1}, "y dog": {0, 0, 1},
	}}
	z, err := NewZeroShot(context.Background(), enc, []Label{{Name: "cat"}, {Name: "dog"}}, []string{"x {}", "y {}"}, SoftmaxScoring(1))
	if err != nil {
		t.Fatal(err)
	}
	// cat's class vector is normalise((1,0,0)+(0,1,0)) = (1,1,0)/√2.
	got, _ := z.Classify([]float32{1, 0, 0})
	for _, s := range got {
		if s.Label == "cat" && math.Abs(s.Similarity-1/math.Sqrt2) > 1e-6 {
			t.Errorf("cat similarity %v, want 1/√2", s.Similarity)
		}
	}
	if enc.calls != 4 {
		t.Errorf("encoded %d prompts, want 4 distinct", enc.calls)
	}
}

func TestZeroShotExplicitPromptsAndErrors(t *testing.T) {
	p, err := Prompts([]Label{{Name: "cat", Prompts: []string{"a kitten", "a tabby"}}, {Name: "dog"}}, []string{"{} here", "none"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p[0], "|") != "a kitten|a tabby" || strings.Join(p[1], "|") != "dog here|none dog" {
		t.Errorf("prompts = %q", p)
	}
	for _, labels := range [][]Label{nil, {{Name: ""}}, {{Name: "a"}, {Name: "a"}}} {
		if _, err := Prompts(labels, nil); err == nil {
			t.Errorf("Prompts(%v) accepted", labels)
		}
	}
	z, _ := NewZeroShot(context.Background(), &mapEncoder{}, []Label{{Name: "a"}}, nil, SoftmaxScoring(100))
	if _, err := z.Classify([]float32{1, 0}); err == nil {
		t.Error("dimension mismatch accepted")
	}
}

func TestTemplateSets(t *testing.T) {
	for name, n := range map[string]int{"imagenet80": 80, "imagenet7": 7, "none": 1} {
		ts, err := TemplateSet(name)
		if err != nil || len(ts) != n {
			t.Errorf("%s: %d templates, err %v; want %d", name, len(ts), err, n)
		}
		for _, tpl := range ts {
			if !strings.Contains(tpl, "{}") {
				t.Errorf("%s: template %q has no placeholder", name, tpl)
			}
		}
	}
	if _, err := TemplateSet("imagenet81"); err == nil {
		t.Error("unknown set accepted")
	}
}

func TestTextCacheSecondRunEncodesNothing(t *testing.T) {
	dir := t.TempDir()
	enc := &mapEncoder{vecs: map[string][]float32{"a photo of a cat.": {1, 2, 3}}}
	c1, err := OpenTextCache(dir, "model1")
	if err != nil {
		t.Fatal(err)
	}
	first, err := c1.Wrap(enc).EncodeTexts(context.Background(), []string{"a photo of a cat.", "b"})
	if err != nil || enc.calls != 2 {
		t.Fatalf("first run: err %v, %d encodes", err, enc.calls)
	}
	c2, _ := OpenTextCache(dir, "model1")
	second, err := c2.Wrap(enc).EncodeTexts(context.Background(), []string{"b", "a photo of a cat."})
	if err != nil || enc.calls != 2 || c2.Hits != 2 {
		t.Fatalf("second run: err %v, %d encodes (want none new), %d hits", err, enc.calls-2, c2.Hits)
	}
	for i := range first[0] {
		if first[0][i] != second[1][i] {
			t.Fatalf("cached embedding differs: %v vs %v", first[0], second[1])
		}
	}
	// Another model must not see these prompts.
	c3, _ := OpenTextCache(dir, "model2")
	if c3.Len() != 0 {
		t.Errorf("model2 cache has %d entries", c3.Len())
	}
}

func TestTextCacheTornTail(t *testing.T) {
	dir := t.TempDir()
	enc := &mapEncoder{}
	c, _ := OpenTextCache(dir, "m")
	if _, err := c.Wrap(enc).EncodeTexts(context.Background(), []string{"one", "two"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "m.bin")
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, b[:len(b)-5], 0o644); err != nil { // crash mid-record
		t.Fatal(err)
	}
	c2, _ := OpenTextCache(dir, "m")
	if c2.Len() != 1 {
		t.Fatalf("after a torn tail: %d entries, want 1", c2.Len())
	}
	if _, err := c2.Wrap(enc).EncodeTexts(context.Background(), []string{"three"}); err != nil {
		t.Fatal(err)
	}
	c3, _ := OpenTextCache(dir, "m")
	if c3.Len() != 2 {
		t.Errorf("append after a torn tail: %d entries, want 2 (one, three)", c3.Len())
	}
}

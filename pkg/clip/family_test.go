package clip

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/engine"
	"github.com/clip-go/clip/pkg/onnx"
	"github.com/clip-go/clip/pkg/tokenizer"
)

// SigLIP scores each label on its own: P = sigmoid(cos·scale + bias), so
// adding a label changes no other label's probability and they need not
// sum to 1.
func TestZeroShotSigmoidIsPerLabel(t *testing.T) {
	enc := &mapEncoder{vecs: map[string][]float32{
		"This is a photo of cat.": {1, 0, 0},
		"This is a photo of dog.": {0, 1, 0},
		"This is a photo of car.": {0, 0, 1},
	}}
	sc := Scoring{Sigmoid: true, LogitScale: 117.33, LogitBias: -12.93}
	tmpl := []string{FamilySigLIP.DefaultTemplate()}
	a := 0.3
	img := []float32{float32(math.Cos(a)), float32(math.Sin(a)), 0}
	two, err := NewZeroShot(context.Background(), enc, []Label{{Name: "cat"}, {Name: "dog"}}, tmpl, sc)
	if err != nil {
		t.Fatal(err)
	}
	three, err := NewZeroShot(context.Background(), enc, []Label{{Name: "cat"}, {Name: "dog"}, {Name: "car"}}, tmpl, sc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"cat": 1 / (1 + math.Exp(-(117.33*math.Cos(a) - 12.93))),
		"dog": 1 / (1 + math.Exp(-(117.33*math.Sin(a) - 12.93))),
		"car": 1 / (1 + math.Exp(12.93)),
	}
	for _, z := range []*ZeroShot{two, three} {
		got, err := z.Classify(img)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Label != "cat" {
			t.Errorf("best label %q, want cat", got[0].Label)
		}
		for _, s := range got {
			if math.Abs(s.Probability-want[s.Label])/want[s.Label] > 1e-5 {
				t.Errorf("%d labels: P(%s) = %.9g, want %.9g", len(got), s.Label, s.Probability, want[s.Label])
			}
		}
	}
}

func TestSigmoidDoesNotOverflow(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{{0, 0.5}, {800, 1}, {-800, 0}, {-30, math.Exp(-30) / (1 + math.Exp(-30))}} {
		if got := sigmoid(c.x); got != c.want && math.Abs(got-c.want) > 1e-300+1e-15*c.want {
			t.Errorf("sigmoid(%g) = %g, want %g", c.x, got, c.want)
		}
	}
}

func TestFamilyFromConfig(t *testing.T) {
	for _, c := range []struct{ config, want string }{
		{`{"model_type": "siglip"}`, "siglip"},
		{`{"model_type": "siglip_text_model"}`, "siglip"},
		{`{"model_type": "clip"}`, "clip"},
		{``, "clip"}, // no config.json: a BPE tokenizer's text tower stays CLIP
	} {
		dir := t.TempDir()
		if c.config != "" {
			if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(c.config), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		tok := mustTinyShapesTokenizer(t)
		got, err := detectFamily(dir, tok, &encoder{textOut: "pooler_output"})
		if err != nil || string(got) != c.want {
			t.Errorf("config %q: family %q, %v; want %q", c.config, got, err, c.want)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": `), 0o644)
	if _, err := detectFamily(dir, mustTinyShapesTokenizer(t), nil); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("malformed config.json: %v, want an error naming it", err)
	}
}

// Without a combined export, logit_scale (a log value) and logit_bias come
// from config.json; with neither, loading fails rather than guess a bias.
func TestSigmoidScoringSources(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": "siglip", "logit_scale": 4.765, "logit_bias": -12.93}`), 0o644)
	s, err := sigmoidScoring(Files{Dir: dir})
	if err != nil || !s.Sigmoid || math.Abs(s.LogitScale-math.Exp(4.765)) > 1e-9 || s.LogitBias != -12.93 {
		t.Errorf("config.json scoring %+v, %v", s, err)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": "siglip"}`), 0o644)
	if _, err := sigmoidScoring(Files{Dir: dir}); err == nil || !strings.Contains(err.Error(), "logit_bias") {
		t.Errorf("no scale/bias anywhere: %v, want an error", err)
	}
}

// SigLIP's text tower pools the last position: every sequence is padded to
// the fixed length, not to the batch's longest.
func TestAddTextPadsToFixedLength(t *testing.T) {
	in := map[string]*engine.Tensor{}
	e := &encoder{ids: "input_ids", idsType: onnx.Int64}
	addText(in, e, [][]int{{5, 6, 1}, {7, 1}}, 1, 8)
	ids := in["input_ids"]
	want := []int64{5, 6, 1, 1, 1, 1, 1, 1, 7, 1, 1, 1, 1, 1, 1, 1}
	if len(ids.Shape) != 2 || ids.Shape[0] != 2 || ids.Shape[1] != 8 {
		t.Fatalf("shape %v, want [2 8]", ids.Shape)
	}
	for i, v := range want {
		if ids.Int64[i] != v {
			t.Fatalf("ids %v, want %v", ids.Int64, want)
		}
	}
}

func mustTinyShapesTokenizer(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load(filepath.Join("..", "..", "testdata", "models", "tiny-shapes"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

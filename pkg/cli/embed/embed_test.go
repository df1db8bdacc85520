package embed_test

import (
	"context"
	"encoding/json"
	"github.com/clip-go/clip/internal/testmodels"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/npy"
)

const repoRoot = "../../.."

func tinyModel(t *testing.T) string { return testmodels.TinyShapes(t) }

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	home := t.TempDir()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string {
		if k == "CLIP_HOME" {
			return home
		}
		return ""
	}}
	code := cli.Run(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

type rec struct {
	File, Text string
	Embedding  []float32
	Row        *int
	Error      string
}

func decode(t *testing.T, s string) []rec {
	var out []rec
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var r rec
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		out = append(out, r)
	}
	return out
}

// TestEmbedMatchesOnnxruntimeLogits checks image and text embeddings
// against onnxruntime's logits_per_image on the tiny model (golden
// testdata/golden/zeroshot/tiny-shapes.json): logit = scale × cos.
func TestEmbedMatchesOnnxruntimeLogits(t *testing.T) {
	model := tinyModel(t)
	var g struct {
		Labels   []string
		Template string
		Images   []struct {
			File        string
			Onnxruntime struct{ Logits []float64 }
		}
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "golden", "zeroshot", "tiny-shapes.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &g)
	var files []string
	for _, im := range g.Images[:8] {
		files = append(files, filepath.Join(repoRoot, "testdata", "shapes", im.File))
	}
	code, out, errOut := run(t, append([]string{"embed", "--model", model, "--offline", "-q"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	imgs := decode(t, out)
	args := []string{"embed", "--model", model, "--offline", "-q"}
	for _, l := range g.Labels {
		args = append(args, "--text", strings.ReplaceAll(g.Template, "{}", l))
	}
	code, out, errOut = run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	texts := decode(t, out)
	if len(imgs) != 8 || len(texts) != len(g.Labels) {
		t.Fatalf("%d image and %d text records", len(imgs), len(texts))
	}
	// The tiny model's trained logit scale (REFERENCE.md): recover it from
	// the first logit, then every other logit must agree with it.
	dot := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	scale := g.Images[0].Onnxruntime.Logits[0] / dot(imgs[0].Embedding, texts[0].Embedding)
	worst := 0.0
	for i := range imgs {
		if n := math.Sqrt(dot(imgs[i].Embedding, imgs[i].Embedding)); math.Abs(n-1) > 1e-5 {
			t.Errorf("image %d embedding has norm %v", i, n)
		}
		for j := range texts {
			d := math.Abs(scale*dot(imgs[i].Embedding, texts[j].Embedding) - g.Images[i].Onnxruntime.Logits[j])
			worst = math.Max(worst, d)
		}
	}
	t.Logf("logit scale %.4f, max |logit - onnxruntime| %.2g", scale, worst)
	if math.Abs(scale-16.0532) > 1e-2 || worst > 1e-3 {
		t.Errorf("embeddings disagree with onnxruntime: scale %v, max logit diff %v", scale, worst)
	}
}

func TestEmbedNpyAndErrors(t *testing.T) {
	model := tinyModel(t)
	good, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "shapes", "red-*.png"))
	broken := filepath.Join(t.TempDir(), "broken.jpg")
	os.WriteFile(broken, []byte("text, not a JPEG"), 0o644)
	outFile := filepath.Join(t.TempDir(), "e.npy")
	args := append([]string{"embed", "--model", model, "--offline", "-q", "--out", outFile, good[0], broken}, good[1:]...)
	code, out, _ := run(t, args...)
	if code != cmdutil.ExitInputErrors {
		t.Fatalf("exit %d, want 3", code)
	}
	recs := decode(t, out)
	if len(recs) != len(good)+1 || recs[1].Error == "" || recs[1].Row != nil || *recs[2].Row != 1 || recs[0].Embedding != nil {
		t.Fatalf("records %+v", recs)
	}
	a, err := npy.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Shape) != 2 || a.Shape[0] != int64(len(good)) || a.Shape[1] != 32 {
		t.Errorf("npy shape %v, want [%d 32]", a.Shape, len(good))
	}
	// The matrix rows are the jsonl embeddings.
	_, jl, _ := run(t, "embed", "--model", model, "--offline", "-q", good[0])
	first := decode(t, jl)[0].Embedding
	for i, v := range first {
		if a.Float32s()[i] != v {
			t.Fatalf("npy row 0 differs from the jsonl embedding at %d", i)
		}
	}
	if code, _, _ := run(t, "embed", "--model", model); code != cmdutil.ExitUsage {
		t.Errorf("nothing to embed: exit %d, want 2", code)
	}
}

func TestEmbedTextsFile(t *testing.T) {
	model := tinyModel(t)
	p := filepath.Join(t.TempDir(), "texts.txt")
	os.WriteFile(p, []byte("  a photo of a red circle. \r\n\n   \na photo of a blue square.\n"), 0o644)
	code, out, errOut := run(t, "embed", "--model", model, "--offline", "-q", "--texts-file", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := decode(t, out)
	if len(recs) != 2 || recs[0].Text != "a photo of a red circle." || recs[1].Text != "a photo of a blue square." || len(recs[0].Embedding) != 32 {
		t.Errorf("records %+v", recs)
	}
}

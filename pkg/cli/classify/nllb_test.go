package classify_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
)

// NLLB-CLIP-SigLIP in immich's layout end to end, with labels in English,
// German (Latin), Russian (Cyrillic), Chinese and Japanese (CJK): with
// --language each label is immich's "{code}{label}", and each label's own
// sigmoid probability is onnxruntime's within 1e-5. Without --language
// (auto) the Cyrillic and CJK labels get the same codes from their script.
func TestClassifyNLLBMatchesReference(t *testing.T) {
	model, g := testmodels.TinyNLLB(t)
	var files []string
	for _, im := range g.Images {
		files = append(files, im.File)
	}
	for _, c := range []struct {
		lang string
		args []string
	}{
		{"en", []string{"--language", "en"}}, {"de", []string{"--language", "de"}},
		{"ru", []string{"--language", "rus_Cyrl"}}, {"zh", []string{"--language", "zh-CN"}}, {"ja", []string{"--language", "ja"}},
		{"ru", nil}, {"zh", nil}, {"ja", nil},
	} {
		ref := g.Languages[c.lang]
		t.Run(c.lang+strings.Join(c.args, ""), func(t *testing.T) {
			recs := classifyShapes(t, model, ref.Labels, files, c.args...)
			var maxDiff float64
			for i, im := range g.Images {
				got := map[string]float64{}
				for _, s := range recs[i].Labels {
					got[s.Label] = s.Probability
				}
				for j, l := range ref.Labels {
					d := math.Abs(got[l] - ref.Probabilities[i][j])
					maxDiff = math.Max(maxDiff, d)
					if d > 1e-5 {
						t.Errorf("%s: P(%s) = %.7f, onnxruntime %.7f", im.File, l, got[l], ref.Probabilities[i][j])
					}
				}
			}
			t.Logf("max |P - P_onnxruntime| %.2g", maxDiff)
		})
	}
}

// A --language that is no language is a usage error (exit 2) before the
// model loads; an NLLB model whose files lack the trained logit_scale and
// logit_bias (immich's own) cannot give probabilities: exit 4 naming
// config.json.
func TestClassifyNLLBErrors(t *testing.T) {
	model, g := testmodels.TinyNLLB(t)
	img := filepath.Join(repoRoot, "testdata", "shapes", g.Images[0].File)
	r := run(t, t.TempDir(), "", "classify", "--model", model, "--offline", "-q", "--no-cache", "--language", "klingon",
		"--labels", "red circle", img)
	if r.code != 2 || !strings.Contains(r.stderr, "--language") {
		t.Errorf("--language klingon: exit %d, %q; want 2 naming the flag", r.code, r.stderr)
	}
	dir := testmodels.CopyModel(t, model, testmodels.ImmichFiles...)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"init_logit_bias": -10, "text_cfg": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, t.TempDir(), "", "classify", "--model", dir, "--offline", "-q", "--no-cache", "--labels", "red circle", img)
	if r.code != 4 || !strings.Contains(r.stderr, "config.json") || !strings.Contains(r.stderr, "logit_bias") {
		t.Errorf("no trained logit values: exit %d, %q; want 4 naming config.json", r.code, r.stderr)
	}
}

// The summary's provenance records the language code put before every
// label, since the probabilities depend on it.
func TestClassifyNLLBSummaryLanguage(t *testing.T) {
	model, g := testmodels.TinyNLLB(t)
	summary := filepath.Join(t.TempDir(), "summary.json")
	r := run(t, t.TempDir(), "", "classify", "--model", model, "--offline", "-q", "--no-cache", "--language", "de",
		"--summary", summary, "--labels", g.Languages["de"].Labels[0], filepath.Join(repoRoot, "testdata", "shapes", g.Images[0].File))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Model struct {
			Family   string `json:"family"`
			Language string `json:"language"`
		} `json:"model"`
	}
	if err := json.Unmarshal(b, &s); err != nil || s.Model.Family != "nllb-siglip" || s.Model.Language != "deu_Latn" {
		t.Errorf("summary model %+v (%v), want family nllb-siglip, language deu_Latn", s.Model, err)
	}
}

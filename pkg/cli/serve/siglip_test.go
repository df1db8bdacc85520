package serve

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// A SigLIP model served: /v1/models names its family and sigmoid scoring,
// and /v1/classify without a template uses SigLIP's default prompt and
// per-label sigmoid probabilities, as onnxruntime computes them
// (testdata/golden/zeroshot/tiny-siglip.json).
func TestServeSiglip(t *testing.T) {
	model, _ := filepath.Abs(filepath.Join(repoRoot, "testdata", "models", "tiny-siglip"))
	b, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "golden", "zeroshot", "tiny-siglip.json"))
	if err != nil {
		t.Fatalf("golden: %v (run scripts/fixtures/make_tiny_siglip.py)", err)
	}
	var g struct {
		Labels []string `json:"labels"`
		Images []struct {
			File          string    `json:"file"`
			Probabilities []float64 `json:"probabilities"`
		} `json:"images"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	r := startServe(t, model, func(o *ServeOptions) { o.NoCache = true })
	resp, err := http.Get(r.url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var c struct {
		Models []struct {
			Family    string  `json:"family"`
			Scoring   string  `json:"scoring"`
			LogitBias float64 `json:"logit_bias"`
		} `json:"models"`
	}
	if err := json.Unmarshal(body, &c); err != nil || len(c.Models) != 1 {
		t.Fatalf("/v1/models: %v %s", err, body)
	}
	if m := c.Models[0]; m.Family != "siglip" || m.Scoring != "sigmoid" || m.LogitBias == 0 {
		t.Errorf("/v1/models: family %q, scoring %q, logit_bias %g; want siglip, sigmoid and the trained bias", m.Family, m.Scoring, m.LogitBias)
	}
	var files []string
	for _, im := range g.Images[:4] {
		files = append(files, filepath.Join(repoRoot, "testdata", "shapes", im.File))
	}
	got := postFiles(t, r.url, files, map[string][]string{"labels": g.Labels})
	if len(got.Results) != len(files) {
		t.Fatalf("%d results for %d files", len(got.Results), len(files))
	}
	for i, rec := range got.Results {
		want := map[string]float64{}
		for j, l := range g.Labels {
			want[l] = g.Images[i].Probabilities[j]
		}
		for _, s := range rec.Labels {
			if d := math.Abs(s.Probability - want[s.Label]); d > 1e-5 {
				t.Errorf("%s %s: %.7f, onnxruntime %.7f", rec.File, s.Label, s.Probability, want[s.Label])
			}
		}
	}
}

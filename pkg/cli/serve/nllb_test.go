package serve

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
)

// An NLLB-CLIP-SigLIP model served with --language de: /v1/models names
// its family, and /v1/classify scores German labels (immich's
// "deu_Latn{label}") as onnxruntime does.
func TestServeNLLBLanguage(t *testing.T) {
	model, g := testmodels.TinyNLLB(t)
	r := startServe(t, model, func(o *ServeOptions) { o.NoCache = true; o.Language = "de" })
	resp, err := http.Get(r.url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var c struct {
		Models []struct {
			Family  string `json:"family"`
			Scoring string `json:"scoring"`
		} `json:"models"`
	}
	if err := json.Unmarshal(body, &c); err != nil || len(c.Models) != 1 {
		t.Fatalf("/v1/models: %v %s", err, body)
	}
	if m := c.Models[0]; m.Family != "nllb-siglip" || m.Scoring != "sigmoid" {
		t.Errorf("/v1/models: family %q, scoring %q; want nllb-siglip, sigmoid", m.Family, m.Scoring)
	}
	ref := g.Languages["de"]
	var files []string
	for _, im := range g.Images[:4] {
		files = append(files, filepath.Join(repoRoot, "testdata", "shapes", im.File))
	}
	got := postFiles(t, r.url, files, map[string][]string{"labels": ref.Labels})
	if len(got.Results) != len(files) {
		t.Fatalf("%d results for %d files", len(got.Results), len(files))
	}
	for i, rec := range got.Results {
		want := map[string]float64{}
		for j, l := range ref.Labels {
			want[l] = ref.Probabilities[i][j]
		}
		for _, s := range rec.Labels {
			if d := math.Abs(s.Probability - want[s.Label]); d > 1e-5 {
				t.Errorf("%s %s: %.7f, onnxruntime %.7f", rec.File, s.Label, s.Probability, want[s.Label])
			}
		}
	}
}

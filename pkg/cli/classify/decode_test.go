package classify_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// A large JPEG is decoded reduced by default (Pillow's draft) and in full
// with --exact-decode; --summary says which, and the two classify alike.
func TestClassifyExactDecodeFlag(t *testing.T) {
	model := tinyModel(t)
	img := filepath.Join(repoRoot, "testdata", "images", "retina_2mp.jpg")
	home := t.TempDir()
	probs := map[string]float64{}
	for _, mode := range []string{"reduced", "exact"} {
		sum := filepath.Join(t.TempDir(), "summary.json")
		args := []string{"classify", "--model", model, "--offline", "--labels", labels, "-q", "--summary", sum, img}
		if mode == "exact" {
			args = append(args, "--exact-decode")
		}
		r := run(t, home, "", args...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", mode, r.code, r.stderr)
		}
		b, err := os.ReadFile(sum)
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Model struct {
				Decode string `json:"decode"`
			} `json:"model"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if s.Model.Decode != mode {
			t.Errorf("summary model.decode = %q, want %q", s.Model.Decode, mode)
		}
		recs := records(t, r.stdout)
		if len(recs) != 1 {
			t.Fatalf("%s: %d records", mode, len(recs))
		}
		if recs[0].Probability == nil {
			t.Fatalf("%s: no probability: %+v", mode, recs[0])
		}
		probs[mode] = *recs[0].Probability
	}
	// Same label, probabilities within a fraction of a percent (the inputs
	// differ by about 0.1/255 on average).
	if d := math.Abs(probs["reduced"] - probs["exact"]); d > 0.01 || probs["reduced"] == 0 {
		t.Errorf("probabilities reduced %v, exact %v", probs["reduced"], probs["exact"])
	}
}

package embed_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
)

// `clip embed --text` with an NLLB model puts --language's code in front
// of each text: the German labels' embeddings are onnxruntime's on
// immich's "deu_Latn{label}", and a bad --language is exit 2.
func TestEmbedNLLBLanguage(t *testing.T) {
	model, g := testmodels.TinyNLLB(t)
	ref := g.Languages["de"]
	code, out, errOut := run(t, append([]string{"embed", "--model", model, "--offline", "--language", "de", "--text"}, ref.Labels[:3]...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d records for 3 texts:\n%s", len(lines), out)
	}
	for i, line := range lines {
		var r struct {
			Text      string    `json:"text"`
			Embedding []float64 `json:"embedding"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		want := ref.TextEmbeddings[i]
		var norm float64
		for _, v := range want {
			norm += float64(v) * float64(v)
		}
		norm = math.Sqrt(norm)
		for j, v := range r.Embedding {
			if d := math.Abs(v - float64(want[j])/norm); d > 1e-5 {
				t.Fatalf("%q dimension %d: %v, onnxruntime %v", r.Text, j, v, float64(want[j])/norm)
			}
		}
	}
	if code, _, errOut := run(t, "embed", "--model", model, "--offline", "--language", "xx", "--text", "Kreis"); code != 2 ||
		!strings.Contains(errOut, "--language") {
		t.Errorf("--language xx: exit %d, %q; want 2", code, errOut)
	}
}

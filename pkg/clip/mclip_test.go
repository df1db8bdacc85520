package clip

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
)

// The tiny M-CLIP fixture in immich's layout (scripts/fixtures/make_tiny_mclip.py):
// the family is read from its files, texts are padded to the graph's fixed
// 77 with <pad> and run one at a time, and the ids and text embeddings are
// onnxruntime's reference's.
func TestMCLIPTextTowerMatchesOnnxruntime(t *testing.T) {
	dir, g := testmodels.TinyMCLIP(t)
	files, err := FilesInDir(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(context.Background(), files, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Family() != FamilyMCLIP || m.TextPadLength() != 77 || !slices.Equal(m.DefaultTemplates(), []string{"{}"}) {
		t.Errorf("family %q, pad %d, templates %q; want m-clip, 77, [{}]", m.Family(), m.TextPadLength(), m.DefaultTemplates())
	}
	if s := m.Scoring(); s.Sigmoid || s.LogitScale != 100 {
		t.Errorf("scoring %+v, want softmax at CLIP's 100 (immich's files carry no scale)", s)
	}
	n := 0
	for lang, ref := range g.Languages {
		for i, label := range ref.Labels {
			ids := m.Tokenizer.Truncate(m.Tokenizer.Encode(label), 77)
			for len(ids) < 77 {
				ids = append(ids, m.Tokenizer.PadID())
			}
			if !slices.Equal(ids, ref.IDs[i]) {
				t.Errorf("%s %q: ids %v, reference %v", lang, label, ids, ref.IDs[i])
			}
		}
		n += checkTextEmbeddings(t, m, lang, ref.Labels, ref.TextEmbeddings)
	}
	if n < 100 {
		t.Errorf("checked %d texts, want the golden's 5 languages × 24 labels", n)
	}
}

// checkTextEmbeddings embeds labels and compares them with onnxruntime's
// (normalised) within 1e-5; it returns how many it checked.
func checkTextEmbeddings(t *testing.T, m *Model, lang string, labels []string, ref [][]float32) int {
	t.Helper()
	embs, err := m.EncodeTexts(context.Background(), labels)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range embs {
		want := Normalize(append([]float32(nil), ref[i]...))
		for j := range e {
			if d := math.Abs(float64(e[j] - want[j])); d > 1e-5 {
				t.Fatalf("%s %q: embedding[%d] = %g, onnxruntime %g", lang, labels[i], j, e[j], want[j])
			}
		}
	}
	return len(embs)
}

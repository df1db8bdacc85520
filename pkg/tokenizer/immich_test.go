package tokenizer

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
)

// TestImmichContextLength: in immich's layout the tokenizer in textual/
// pads and truncates every text to the root config.json's
// text_cfg.context_length (immich's enable_padding/enable_truncation),
// not to tokenizer_config.json's model_max_length (512 for XLM-R). The
// padded ids equal the tiny M-CLIP golden's, made with SentencePiece by
// scripts/fixtures/make_tiny_mclip.py in immich's way.
func TestImmichContextLength(t *testing.T) {
	dir, g := testmodels.TinyMCLIP(t)
	tok, err := Load(filepath.Join(dir, "textual"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.ContextLength() != 77 || tok.PadLength() != 77 || tok.PadID() != 1 {
		t.Fatalf("context %d, pad length %d, pad id %d; want 77, 77, 1", tok.ContextLength(), tok.PadLength(), tok.PadID())
	}
	n := 0
	for lang, ref := range g.Languages {
		ids, _ := tok.EncodeBatch(ref.Labels, tok.PadLength())
		for i := range ids {
			if !slices.Equal(ids[i], ref.IDs[i]) {
				t.Errorf("%s %q: %v, want %v", lang, ref.Labels[i], ids[i], ref.IDs[i])
			}
			n++
		}
	}
	if n < 100 {
		t.Errorf("%d labels checked, want the golden's 120", n)
	}
	long := tok.Encode(strings.Repeat("кошка на крыше ", 100))
	if len(long) != 77 || long[0] != 0 || long[76] != 2 {
		t.Errorf("a long text encodes to %d ids starting %d ending %d; want 77, <s>, </s>", len(long), long[0], long[len(long)-1])
	}
}

// immich's nllb-clip-*-siglip configs leave text_cfg.context_length out
// (their text towers are Hugging Face's); immich then pads and truncates
// to 77 (text_cfg.get("context_length", 77)), not to NLLB's
// model_max_length of 1024. The ids are transformers.js's (tiny-nllb's
// golden).
func TestImmichContextLengthDefault(t *testing.T) {
	dir, g := testmodels.TinyNLLB(t)
	tok, err := Load(filepath.Join(dir, "textual"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.ContextLength() != 77 || tok.PadLength() != 77 || tok.PadID() != 1 {
		t.Fatalf("context %d, pad length %d, pad id %d; want 77, 77, 1", tok.ContextLength(), tok.PadLength(), tok.PadID())
	}
	ref := g.Languages["de"]
	if ids := tok.Encode(ref.Code + ref.Labels[0]); !slices.Equal(ids, ref.IDs[0]) {
		t.Errorf("%q: %v, transformers.js %v", ref.Code+ref.Labels[0], ids, ref.IDs[0])
	}
	long := tok.Encode("deu_Latn" + strings.Repeat("rotes Quadrat ", 100))
	eng, _ := tok.ID("eng_Latn")
	deu, _ := tok.ID("deu_Latn")
	if len(long) != 77 || long[0] != eng || long[1] != deu || long[76] != 2 {
		t.Errorf("a long text encodes to %d ids starting %v ending %d; want 77, eng_Latn deu_Latn, </s>", len(long), long[:2], long[len(long)-1])
	}
}

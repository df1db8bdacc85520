package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMetaspaceVariants: the "unk" fixture with its Metaspace set to each
// prepend_scheme ("always", "first", "never", the older add_prefix_space)
// and split on and off encodes texts with added tokens at the start, in
// the middle and at the end exactly as transformers.js does
// (testdata/unigram/ids-tjs-metaspace.json, scripts/metaspace_golden.py):
// "first" prefixes "▁" only to the text's opening section, never to one
// after an added token.
func TestMetaspaceVariants(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(unigramDir, "ids-tjs-metaspace.json"))
	if err != nil {
		t.Fatalf("%v (regenerate with scripts/metaspace_golden.py)", err)
	}
	var g struct {
		BaseSHA256 string   `json:"base_sha256"`
		Texts      []string `json:"texts"`
		Variants   map[string]struct {
			PreTokenizer map[string]any `json:"pre_tokenizer"`
			IDs          [][]int        `json:"ids"`
		} `json:"variants"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	base := readGzip(t, filepath.Join(unigramDir, "unk.tokenizer.json.gz"))
	if sum := sha256.Sum256(base); hex.EncodeToString(sum[:]) != g.BaseSHA256 {
		t.Fatal("ids-tjs-metaspace.json was made from another unk.tokenizer.json; rerun scripts/metaspace_golden.py")
	}
	if len(g.Variants) < 5 {
		t.Fatalf("%d variants in the golden, want 5", len(g.Variants))
	}
	for name, v := range g.Variants {
		t.Run(name, func(t *testing.T) {
			dir, _ := unigramModelDir(t, "unk")
			rewriteTokenizerJSON(t, dir, func(doc map[string]any) { doc["pre_tokenizer"] = v.PreTokenizer })
			tok, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			for i, text := range g.Texts {
				if got := tok.EncodeAll(text); !slices.Equal(got, v.IDs[i]) {
					t.Errorf("%+q: got %v, transformers.js %v", text, got, v.IDs[i])
				}
			}
		})
	}
}

// TestBPEFuseUnk: a BPE tokenizer.json in NLLB's form (Metaspace, fuse_unk,
// a language-code token first) encodes runs of unknown characters as one
// <unk>, as transformers.js does (testdata/unigram/ids-tjs-fuseunk.json).
func TestBPEFuseUnk(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(unigramDir, "ids-tjs-fuseunk.json"))
	if err != nil {
		t.Fatalf("%v (regenerate with scripts/metaspace_golden.py)", err)
	}
	var g struct {
		TokenizerJSON json.RawMessage `json:"tokenizer_json"`
		Texts         []string        `json:"texts"`
		IDs           [][]int         `json:"ids"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, TokenizerJSONFile), g.TokenizerJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	fused := 0
	for i, text := range g.Texts {
		got := tok.EncodeAll(text)
		if !slices.Equal(got, g.IDs[i]) {
			t.Errorf("%+q: got %v, transformers.js %v", text, got, g.IDs[i])
		}
		if strings.Contains(text, "YYY") || strings.Contains(text, "ééé") {
			fused++
		}
	}
	if fused < 2 {
		t.Errorf("the golden has %d texts with runs of unknown characters, want at least 2", fused)
	}
}

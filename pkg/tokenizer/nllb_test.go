package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestNLLBCorpus: NLLB's tokenizer (SentencePiece BPE in tokenizer.json:
// Precompiled normaliser, Metaspace, BPE merges ranked by the merged
// piece's score, language codes as added tokens, TemplateProcessing
// "eng_Latn $A </s>"), on the tiny NLLB fixture's tokenizer, against
// SentencePiece's and transformers.js's ids on the tokenizer corpus
// (scripts/fixtures/make_tiny_nllb.py).
func TestNLLBCorpus(t *testing.T) {
	corpus, corpusHash := readCorpus(t)
	dir := filepath.Join("..", "..", "testdata", "models", "tiny-nllb", "textual")
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, TokenizerJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	tj := hex.EncodeToString(sum[:])
	spm := readNLLBGolden(t, "ids-spm-nllb.json.gz", corpusHash, tj, len(corpus.Texts))
	tjs := readNLLBGolden(t, "ids-tjs-nllb.json.gz", corpusHash, tj, len(corpus.Texts))
	space, ok := tok.ID("\u2581")
	if !ok {
		t.Fatal("no ▁ piece")
	}
	sameSPM, sameTJS, trailing := 0, 0, 0
	for i, text := range corpus.Texts {
		got := tok.EncodeAll(text)
		if slices.Equal(got, tjs.IDs[i]) {
			sameTJS++
		} else if slices.Equal(tjs.IDs[i], spm.IDs[i]) {
			t.Errorf("text %d %+q: transformers.js and SentencePiece agree on %v, got %v", i, text, spm.IDs[i], got)
		}
		if slices.Equal(got, spm.IDs[i]) {
			sameSPM++
			continue
		}
		// The converted normaliser (Precompiled, then " {2,}" → " ") keeps
		// one trailing space where SentencePiece strips it, and Metaspace
		// makes it a last ▁: transformers.js does the same.
		n := len(got)
		if n >= 2 && got[n-2] == space && slices.Equal(append(slices.Clone(got[:n-2]), got[n-1]), spm.IDs[i]) {
			trailing++
			continue
		}
		t.Errorf("text %d %+q:\n got %v\n SentencePiece %v\n transformers.js %v", i, text, got, spm.IDs[i], tjs.IDs[i])
	}
	if sameSPM+trailing != len(corpus.Texts) || sameTJS < len(corpus.Texts)*9/10 {
		t.Errorf("identical to SentencePiece %d (+%d with a trailing ▁), to transformers.js %d, of %d", sameSPM, trailing, sameTJS, len(corpus.Texts))
	}
	t.Logf("%d texts; identical ids: SentencePiece %d (and %d more but a trailing ▁), transformers.js %d (where not, it differs from SentencePiece too: its NFKC stand-in for the Precompiled charsmap)",
		len(corpus.Texts), sameSPM, trailing, sameTJS)
}

func readNLLBGolden(t testing.TB, file, corpusHash, tjHash string, n int) unigramGolden {
	t.Helper()
	// The goldens sit beside the Unigram ones' reader: same fields.
	return readUnigramGolden(t, filepath.Join("..", "nllb", file), corpusHash, tjHash, n)
}

package tokenizer

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzEncode: for any input, no panic; every id within the vocabulary;
// always SOT … EOT; never longer than the context; Encode is EncodeAll
// truncated. Run long with: go test -fuzz FuzzEncode ./pkg/tokenizer
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "Hello World!", "it's 2024", "ΟΔΥΣΣΕΥΣ", "İ", "👨‍👩‍👧‍👦",
		"<|endoftext|>", "<|startoftext|", "a\ufeff!b", "a\u0085b", "e\u0301", "\xff\xfe", "\x00",
		strings.Repeat("ab", 100), "'s'S'''", "ﬁ ǅ", "\u3000\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		toks := realTokenizers(t)
		for name, tok := range toks {
			all := tok.EncodeAll(text)
			ids := tok.Encode(text)
			if len(ids) < 2 || ids[0] != tok.SOT() || ids[len(ids)-1] != tok.EOT() {
				t.Fatalf("%s: Encode(%q) = %v: not SOT … EOT", name, text, ids)
			}
			if len(ids) > tok.ContextLength() {
				t.Fatalf("%s: Encode(%q) has %d ids, context is %d", name, text, len(ids), tok.ContextLength())
			}
			for _, id := range all {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("%s: EncodeAll(%q) has id %d outside [0, %d)", name, text, id, tok.VocabSize())
				}
			}
			if !slices.Equal(ids, truncated(all, tok.ContextLength())) {
				t.Fatalf("%s: Encode(%q) = %v is not EncodeAll truncated (%v)", name, text, ids, all)
			}
		}
		if a, b := toks["tokenizer.json"].EncodeAll(text), toks["openai-gz"].EncodeAll(text); !slices.Equal(a, b) {
			t.Fatalf("tokenizer.json and OpenAI gz disagree on %q: %v vs %v", text, a, b)
		}
	})
}

// benchText is about 1 MB: the corpus joined by newlines, repeated. The
// node benchmark (scripts/reference/tokenize_bench.mjs) builds the same.
func benchText(b *testing.B, texts []string) string {
	b.Helper()
	joined := strings.Join(texts, "\n") + "\n"
	var sb strings.Builder
	for sb.Len() < 1_000_000 {
		sb.WriteString(joined)
	}
	return sb.String()
}

func benchTokenizer(b *testing.B) *Tokenizer {
	b.Helper()
	gz := sharedVocab(b)
	dir := b.TempDir()
	if err := writeCLIPHFDirs(gz, dir); err != nil {
		b.Fatal(err)
	}
	tok, err := Load(dir + "/fast")
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// BenchmarkEncodeCorpus: tokens per second over the whole corpus (the
// merge cache warm after the first pass, as transformers.js's is).
func BenchmarkEncodeCorpus(b *testing.B) {
	tok := benchTokenizer(b)
	c, _ := readCorpus(b)
	tokens := 0
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for _, text := range c.Texts {
			tokens += len(tok.EncodeAll(text))
		}
	}
	b.ReportMetric(float64(tokens)/time.Since(start).Seconds(), "tokens/s")
}

// BenchmarkEncode1MB: one ~1 MB string, untruncated.
func BenchmarkEncode1MB(b *testing.B) {
	tok := benchTokenizer(b)
	c, _ := readCorpus(b)
	text := benchText(b, c.Texts)
	b.SetBytes(int64(len(text)))
	tokens := 0
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		tokens += len(tok.EncodeAll(text))
	}
	b.ReportMetric(float64(tokens)/time.Since(start).Seconds(), "tokens/s")
}

// BenchmarkEncode1MBOneWord: a single 1 MB word, where BPE merging is
// O(n log n) (a naive merge loop would be quadratic).
func BenchmarkEncode1MBOneWord(b *testing.B) {
	tok := benchTokenizer(b)
	var sb strings.Builder
	for i := 0; sb.Len() < 1_000_000; i++ {
		sb.WriteByte("etaoinshrdlucmfwyp"[(i*7+i/3)%18])
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.EncodeAll(text)
	}
}

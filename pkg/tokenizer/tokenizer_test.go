package tokenizer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The reference vectors of issue 5 (OpenAI's clip.tokenize and Hugging
// Face's CLIPTokenizer agree on them).
var referenceVectors = []struct {
	text string
	ids  []int
}{
	{"Hello World!", []int{49406, 3306, 1002, 256, 49407}},
	{"a diagram", []int{49406, 320, 22697, 49407}},
	{"This is a photo of tiger", []int{49406, 589, 533, 320, 1125, 539, 6531, 49407}},
	{"2024", []int{49406, 273, 271, 273, 275, 49407}},
}

// realTokenizers loads CLIP's vocabulary every way Load can. They are
// built once per test binary: writing and parsing 3.7 MB of files for
// each test would dominate the package's test time.
func realTokenizers(t *testing.T) map[string]*Tokenizer {
	t.Helper()
	gz := sharedVocab(t)
	realVocab.once.Do(func() { realVocab.toks, realVocab.err = buildRealTokenizers(gz) })
	if realVocab.err != nil {
		t.Fatal(realVocab.err)
	}
	return realVocab.toks
}

var realVocab struct {
	once sync.Once
	toks map[string]*Tokenizer
	err  error
}

func buildRealTokenizers(gz string) (map[string]*Tokenizer, error) {
	dir, err := os.MkdirTemp("", "clip-tokenizer-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := writeCLIPHFDirs(gz, dir); err != nil {
		return nil, err
	}
	gzDir := filepath.Join(dir, "gz")
	if err := os.MkdirAll(gzDir, 0o755); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(gz)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(gzDir, OpenAIVocabFile), data, 0o644); err != nil {
		return nil, err
	}
	if err := writeCLIPHFDirsRegex(gz, filepath.Join(dir, "noregex"), false); err != nil {
		return nil, err
	}
	out := map[string]*Tokenizer{}
	for name, d := range map[string]string{"tokenizer.json": "fast", "vocab.json+merges.txt": "slow", "openai-gz": "gz",
		"tokenizer.json use_regex=false": "noregex/fast"} {
		tok, err := Load(filepath.Join(dir, d))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = tok
	}
	return out, nil
}

func TestReferenceVectors(t *testing.T) {
	for name, tok := range realTokenizers(t) {
		if strings.Contains(name, "use_regex") {
			continue
		}
		for _, v := range referenceVectors {
			if got := tok.Encode(v.text); !slices.Equal(got, v.ids) {
				t.Errorf("%s: Encode(%q) = %v, want %v", name, v.text, got, v.ids)
			}
		}
		if tok.SOT() != 49406 || tok.EOT() != 49407 || tok.ContextLength() != 77 || tok.VocabSize() != 49408 {
			t.Errorf("%s: SOT %d EOT %d context %d vocab %d, want 49406 49407 77 49408",
				name, tok.SOT(), tok.EOT(), tok.ContextLength(), tok.VocabSize())
		}
	}
}

func TestLoadPicksFilesInOrder(t *testing.T) {
	toks := realTokenizers(t)
	for name, want := range map[string]string{
		"tokenizer.json":        TokenizerJSONFile,
		"vocab.json+merges.txt": VocabJSONFile,
		"openai-gz":             OpenAIVocabFile,
	} {
		if got := filepath.Base(toks[name].Source()); got != want {
			t.Errorf("%s: loaded from %s, want %s", name, got, want)
		}
	}
	// PadID: the HF pad token, or OpenAI's 0.
	if toks["tokenizer.json"].PadID() != 49407 || toks["openai-gz"].PadID() != 0 {
		t.Errorf("PadID: tokenizer.json %d (want 49407), openai-gz %d (want 0)",
			toks["tokenizer.json"].PadID(), toks["openai-gz"].PadID())
	}
}

func TestTokens(t *testing.T) {
	tok := realTokenizers(t)["tokenizer.json"]
	got := tok.Tokens([]int{49406, 3306, 1002, 256, 49407, 999999})
	want := []string{"<|startoftext|>", "hello</w>", "world</w>", "!</w>", "<|endoftext|>", "<unk:999999>"}
	if !slices.Equal(got, want) {
		t.Errorf("Tokens = %q, want %q", got, want)
	}
}

func TestEncodeBatchPadsAndMasks(t *testing.T) {
	for name, tok := range realTokenizers(t) {
		pad := tok.PadID()
		ids, mask := tok.EncodeBatch([]string{"a diagram", "Hello World!"}, 0)
		wantIDs := [][]int{{49406, 320, 22697, 49407, pad}, {49406, 3306, 1002, 256, 49407}}
		wantMask := [][]int{{1, 1, 1, 1, 0}, {1, 1, 1, 1, 1}}
		if !slices.EqualFunc(ids, wantIDs, slices.Equal) || !slices.EqualFunc(mask, wantMask, slices.Equal) {
			t.Errorf("%s: EncodeBatch(longest) = %v / %v, want %v / %v", name, ids, mask, wantIDs, wantMask)
		}
		ids, mask = tok.EncodeBatch([]string{"a diagram"}, 77)
		if len(ids[0]) != 77 || ids[0][3] != 49407 || ids[0][4] != pad || ids[0][76] != pad || mask[0][3] != 1 || mask[0][4] != 0 {
			t.Errorf("%s: EncodeBatch(77) = %v / %v", name, ids[0], mask[0])
		}
		// Cut shorter than the sequence: EOT stays last.
		ids, mask = tok.EncodeBatch([]string{"This is a photo of tiger"}, 4)
		if want := []int{49406, 589, 533, 49407}; !slices.Equal(ids[0], want) || !slices.Equal(mask[0], []int{1, 1, 1, 1}) {
			t.Errorf("%s: EncodeBatch(4) = %v / %v, want %v", name, ids[0], mask[0], want)
		}
	}
}

func TestTruncationKeepsEOT(t *testing.T) {
	tok := realTokenizers(t)["tokenizer.json"]
	long := strings.Repeat("tiger ", 200)
	ids := tok.Encode(long)
	if len(ids) != 77 || ids[0] != 49406 || ids[76] != 49407 {
		t.Fatalf("Encode(200 words): len %d, first %d, last %d", len(ids), ids[0], ids[len(ids)-1])
	}
	for _, id := range ids[1:76] {
		if id != 6531 { // "tiger</w>", from the reference vector
			t.Fatalf("Encode(200 words) = %v", ids)
		}
	}
	if all := tok.EncodeAll(long); len(all) != 202 {
		t.Errorf("EncodeAll(200 words): %d ids, want 202", len(all))
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestUnsupportedTokenizers(t *testing.T) {
	cases := map[string]map[string]string{
		"wordpiece model":        {TokenizerJSONFile: `{"model": {"type": "WordPiece", "vocab": {"a": 0}}}`},
		"unigram without unk_id": {TokenizerJSONFile: `{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}`},
		"metaspace prepend sometimes": {TokenizerJSONFile: `{"pre_tokenizer": {"type": "Metaspace", "prepend_scheme": "sometimes"},
			"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`},
		"lookahead regex": {TokenizerJSONFile: `{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\s+(?!\\S)"}, "behavior": "Isolated"},
			"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`},
		"gpt2 class with vocab.json": {VocabJSONFile: `{"a": 0}`, MergesFile: "#version: 0.2\n",
			tokenizerConfigFile: `{"tokenizer_class": "GPT2Tokenizer"}`},
	}
	for name, files := range cases {
		dir := writeFiles(t, files)
		_, err := Load(dir)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err = %v, want an unsupported-tokenizer error", name, err)
			continue
		}
		if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "unsupported tokenizer") {
			t.Errorf("%s: error %q should name the file and say unsupported tokenizer", name, err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing dir: %v", err)
	}
	empty := t.TempDir()
	if _, err := Load(empty); err == nil || !strings.Contains(err.Error(), "no tokenizer found") {
		t.Errorf("empty dir: %v", err)
	}
	bad := writeFiles(t, map[string]string{TokenizerJSONFile: `{"model": `})
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), TokenizerJSONFile) {
		t.Errorf("truncated tokenizer.json: %v", err)
	}
	huge := writeFiles(t, map[string]string{TokenizerJSONFile: `{"model": {"type": "BPE", "vocab": {"a": 2000000000}, "merges": []}}`})
	if _, err := Load(huge); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("id 2e9 in a one-token vocabulary: %v", err)
	}
	short := writeFiles(t, map[string]string{"v.txt": "header\na b\n"})
	if _, err := LoadOpenAIVocab(filepath.Join(short, "v.txt")); err == nil || !strings.Contains(err.Error(), "48894") {
		t.Errorf("short OpenAI vocabulary: %v", err)
	}
}

// A hand-made tokenizer.json: BPE without byte-level, TemplateProcessing,
// a String-pattern Split, lstrip on an added token, context length from
// config.json. The expected ids follow from the merges by hand.
func TestTokenizerJSONFollowsTheFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		TokenizerJSONFile: `{
 "added_tokens": [{"id": 9, "content": "[S]", "special": true, "normalized": false},
                  {"id": 10, "content": "[M]", "special": true, "normalized": false, "lstrip": true}],
 "normalizer": {"type": "Lowercase"},
 "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Removed", "invert": false},
 "post_processor": {"type": "TemplateProcessing",
   "single": [{"SpecialToken": {"id": "[S]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[S]", "type_id": 0}}],
   "special_tokens": {"[S]": {"id": "[S]", "ids": [9], "tokens": ["[S]"]}}},
 "model": {"type": "BPE", "unk_token": "?", "end_of_word_suffix": "",
   "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "?": 5, "ca": 6},
   "merges": [["a", "b"], "ab c", "c a"]}}`,
		modelConfigFile: `{"text_config": {"max_position_embeddings": 5}}`,
	})
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text string
		want []int
	}{
		{"ABC", []int{9, 4, 9}},
		{"cab", []int{9, 2, 3, 9}},            // "a b" (rank 0) beats "c a" (rank 2)
		{"abx c", []int{9, 3, 5, 2, 9}},       // x is unknown
		{"ab   [M] c", []int{9, 3, 10, 2, 9}}, // [M] strips the spaces before it
		{"a b c a b", []int{9, 0, 1, 2, 9}},   // context length 5 from config.json
	} {
		if got := tok.Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if tok.SOT() != 9 || tok.EOT() != 9 || tok.ContextLength() != 5 {
		t.Errorf("SOT %d EOT %d context %d, want 9 9 5", tok.SOT(), tok.EOT(), tok.ContextLength())
	}
}

// The heap merge (long words) and the scan (short words) must agree.
func TestMergeLongAgreesWithMergeShort(t *testing.T) {
	tok := realTokenizers(t)["openai-gz"]
	m := tok.model
	rng := rand.New(rand.NewPCG(1, 2))
	letters := "abcdefghijklmnopqrstuvwxyz'!é猫😀"
	runes := []rune(letters)
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		for k := rng.IntN(shortWordSymbols) + 2; b.Len() < k; {
			b.WriteRune(runes[rng.IntN(len(runes))])
		}
		word := b.String()
		if len(word) > shortWordSymbols {
			word = word[:shortWordSymbols]
		}
		short := m.mergeShort(m.initialSymbols(word))
		long := m.mergeLong(m.initialSymbols(word))
		if !slices.Equal(short, long) {
			t.Fatalf("word %q: scan %v, heap %v", word, short, long)
		}
	}
}

func TestConcurrentEncode(t *testing.T) {
	tok := realTokenizers(t)["tokenizer.json"]
	c, _ := readCorpus(t)
	want := make([][]int, len(c.Texts))
	for i, text := range c.Texts {
		want[i] = tok.EncodeAll(text)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(c.Texts); i += 2 {
				if got := tok.EncodeAll(c.Texts[i]); !slices.Equal(got, want[i]) {
					errs <- c.Texts[i]
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for text := range errs {
		t.Errorf("concurrent EncodeAll(%q) differs", abbreviate(text))
	}
}

func TestPatternSubset(t *testing.T) {
	p, err := compilePattern(clipSplitPattern)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	s := "it's 2024: naïve ¡¡hola!! 猫's"
	p.findAll(s, func(a, b int) { got = append(got, s[a:b]) })
	want := []string{"it", "'s", "2", "0", "2", "4", ":", "naïve", "¡¡", "hola", "!!", "猫", "'s"}
	if !slices.Equal(got, want) {
		t.Errorf("CLIP split of %q = %q, want %q", s, got, want)
	}
	for _, bad := range []string{`a(b)`, `\s+(?!\S)`, `a+b`, `[a`, `\p{Nope}`, `a|`, `x?`} {
		if _, err := compilePattern(bad); err == nil {
			t.Errorf("compilePattern(%q) accepted a pattern outside the subset", bad)
		}
	}
}

// ByteLevel's use_regex (GPT-2's split, with JavaScript's \s) matters for
// U+FEFF, which CLIP's split keeps inside punctuation runs. Expected ids
// from transformers.js 4.3.2 on files from scripts/tokenizer_files.py
// with and without --no-byte-level-regex.
func TestByteLevelUseRegex(t *testing.T) {
	toks := realTokenizers(t)
	for _, c := range []struct {
		tokenizer, text string
		want            []int
	}{
		{"tokenizer.json", "a\ufeff!b", []int{49406, 320, 171, 119, 379, 256, 321, 49407}},
		{"tokenizer.json", "\ufeff'", []int{49406, 171, 119, 379, 262, 49407}},
		{"tokenizer.json use_regex=false", "a\ufeff!b", []int{49406, 320, 171, 119, 123, 256, 321, 49407}},
		{"tokenizer.json use_regex=false", "\ufeff'", []int{49406, 171, 119, 123, 262, 49407}},
		{"tokenizer.json use_regex=false", "x\ufeff\ufeff", []int{49406, 343, 171, 119, 123, 171, 119, 379, 49407}},
	} {
		if got := toks[c.tokenizer].Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("%s: Encode(%+q) = %v, want %v", c.tokenizer, c.text, got, c.want)
		}
	}
}

package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The corpus and golden ids come from scripts/tokenizer_corpus.py and
// scripts/reference/tokenize.mjs (transformers.js); see
// testdata/golden/tokenizer/README.md.
const (
	goldenDir       = "../../testdata/golden/tokenizer"
	sharedVocabPath = "../../../shared/clip-vocab/bpe_simple_vocab_16e6.txt.gz"
	tinyShapesDir   = "../../testdata/models/tiny-shapes"
)

type corpusFile struct {
	Count int      `json:"count"`
	Texts []string `json:"texts"`
}

type goldenIDs struct {
	Tool                string  `json:"tool"`
	TransformersVersion string  `json:"transformers_version"`
	CorpusSHA256        string  `json:"corpus_sha256"`
	TokenizerJSONSHA256 string  `json:"tokenizer_json_sha256"`
	ModelMaxLength      int     `json:"model_max_length"`
	PadTokenID          *int    `json:"pad_token_id"`
	IDs                 [][]int `json:"ids"`
}

func readCorpus(t testing.TB) (corpusFile, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldenDir, "corpus.json"))
	if err != nil {
		t.Fatalf("corpus: %v (regenerate with scripts/tokenizer_corpus.py)", err)
	}
	var c corpusFile
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("corpus.json: %v", err)
	}
	if len(c.Texts) != c.Count || c.Count < 2000 {
		t.Fatalf("corpus.json: %d texts, count says %d, want ≥ 2000", len(c.Texts), c.Count)
	}
	sum := sha256.Sum256(data)
	return c, hex.EncodeToString(sum[:])
}

func readGolden(t testing.TB, name, corpusHash string, n int) goldenIDs {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatalf("golden ids: %v (regenerate with scripts/tokenizer_golden.sh)", err)
	}
	var g goldenIDs
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if g.CorpusSHA256 != corpusHash {
		t.Fatalf("%s was made from another corpus.json (sha256 %s, corpus is %s): regenerate it", name, g.CorpusSHA256, corpusHash)
	}
	if len(g.IDs) != n {
		t.Fatalf("%s: %d encodings for %d texts", name, len(g.IDs), n)
	}
	return g
}

// sharedVocab is OpenAI's vocabulary from ../shared, which tests skip
// without — except in CI, where its absence is a failure.
func sharedVocab(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(sharedVocabPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("OpenAI vocabulary missing at %s (../shared relative to the project root): %v", sharedVocabPath, err)
		}
		t.Skipf("OpenAI vocabulary not at %s (../shared relative to the project root); skipping", sharedVocabPath)
	}
	return sharedVocabPath
}

// truncated is what Encode must give for a full reference encoding: at
// most n ids, the last one still EOT.
func truncated(full []int, n int) []int {
	if len(full) <= n {
		return full
	}
	return append(slices.Clone(full[:n-1]), full[len(full)-1])
}

// compareCorpus checks every text of the corpus against the reference.
func compareCorpus(t *testing.T, tok *Tokenizer, texts []string, g goldenIDs) {
	t.Helper()
	bad := 0
	for i, text := range texts {
		want := g.IDs[i]
		got := tok.EncodeAll(text)
		if !slices.Equal(got, want) {
			bad++
			if bad <= 8 {
				t.Errorf("text %d %+q:\n got %v\nwant %v", i, abbreviate(text), abbreviateIDs(got), abbreviateIDs(want))
			}
			continue
		}
		if got, want := tok.Encode(text), truncated(want, tok.ContextLength()); !slices.Equal(got, want) {
			bad++
			if bad <= 8 {
				t.Errorf("text %d %+q truncated:\n got %v\nwant %v", i, abbreviate(text), got, want)
			}
		}
	}
	t.Logf("%d/%d texts identical to %s %s (%.2f%%)", len(texts)-bad, len(texts), g.Tool, g.TransformersVersion,
		100*float64(len(texts)-bad)/float64(len(texts)))
}

func abbreviate(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

func abbreviateIDs(ids []int) string {
	if len(ids) > 40 {
		return fmt.Sprint(ids[:40]) + fmt.Sprintf("… (%d ids)", len(ids))
	}
	return fmt.Sprint(ids)
}

// TestCorpusRealVocab: every corpus text, through each way of loading
// CLIP's real vocabulary, gives transformers.js's ids.
func TestCorpusRealVocab(t *testing.T) {
	c, hash := readCorpus(t)
	g := readGolden(t, "ids-real.json", hash, len(c.Texts))
	toks := realTokenizers(t)
	loaders := []struct {
		name    string
		wantPad int
	}{
		{"tokenizer.json", *g.PadTokenID},
		{"vocab.json+merges.txt", *g.PadTokenID},
		{"openai-gz", 0},
	}
	for _, l := range loaders {
		t.Run(l.name, func(t *testing.T) {
			tok := toks[l.name]
			if tok.ContextLength() != g.ModelMaxLength {
				t.Errorf("ContextLength = %d, transformers.js says %d", tok.ContextLength(), g.ModelMaxLength)
			}
			if tok.PadID() != l.wantPad {
				t.Errorf("PadID = %d, want %d", tok.PadID(), l.wantPad)
			}
			if tok.SOT() != g.IDs[0][0] || tok.EOT() != g.IDs[0][len(g.IDs[0])-1] {
				t.Errorf("SOT, EOT = %d, %d; transformers.js puts %d … %d", tok.SOT(), tok.EOT(), g.IDs[0][0], g.IDs[0][len(g.IDs[0])-1])
			}
			compareCorpus(t, tok, c.Texts, g)
		})
	}
}

// scriptFilesDir is where scripts/tokenizer_golden.sh leaves the Hugging
// Face files transformers.js read for ids-real.json (git-ignored).
const scriptFilesDir = "../../tmp/tokenizer/clip-vit-base-patch32"

// TestCorpusRealVocabScriptFiles: the very files transformers.js read
// (checked by hash), through both Hugging Face loading paths. Skipped
// unless scripts/tokenizer_golden.sh has run in this work tree.
func TestCorpusRealVocabScriptFiles(t *testing.T) {
	tj, err := os.ReadFile(filepath.Join(scriptFilesDir, TokenizerJSONFile))
	if err != nil {
		t.Skipf("no %s (scripts/tokenizer_golden.sh writes it)", scriptFilesDir)
	}
	c, hash := readCorpus(t)
	g := readGolden(t, "ids-real.json", hash, len(c.Texts))
	if sum := sha256.Sum256(tj); hex.EncodeToString(sum[:]) != g.TokenizerJSONSHA256 {
		t.Skipf("%s is not the tokenizer.json ids-real.json was made from", scriptFilesDir)
	}
	slow := t.TempDir()
	for _, name := range []string{VocabJSONFile, MergesFile, tokenizerConfigFile, specialTokensFile} {
		data, err := os.ReadFile(filepath.Join(scriptFilesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(slow, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []struct{ name, dir string }{{"tokenizer.json", scriptFilesDir}, {"vocab.json+merges.txt", slow}} {
		t.Run(d.name, func(t *testing.T) {
			tok, err := Load(d.dir)
			if err != nil {
				t.Fatal(err)
			}
			if tok.PadID() != *g.PadTokenID || tok.ContextLength() != g.ModelMaxLength {
				t.Errorf("PadID %d, ContextLength %d; transformers.js says %d, %d", tok.PadID(), tok.ContextLength(), *g.PadTokenID, g.ModelMaxLength)
			}
			compareCorpus(t, tok, c.Texts, g)
		})
	}
}

// TestCorpusTinyShapes: the same corpus through the tiny test model's own
// tokenizer (a vocabulary of a few hundred merges, and its own context
// length), loaded from tokenizer.json and from vocab.json + merges.txt.
func TestCorpusTinyShapes(t *testing.T) {
	goldenPath := filepath.Join(goldenDir, "ids-tiny-shapes.json")
	tj, err := os.ReadFile(filepath.Join(tinyShapesDir, TokenizerJSONFile))
	if err != nil {
		t.Skipf("no tiny-shapes model at %s (made by make fixtures)", tinyShapesDir)
	}
	if _, err := os.Stat(goldenPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tiny-shapes model present but %s missing: run scripts/tokenizer_golden.sh", goldenPath)
		}
		t.Skipf("no %s (made by scripts/tokenizer_golden.sh)", goldenPath)
	}
	c, hash := readCorpus(t)
	g := readGolden(t, "ids-tiny-shapes.json", hash, len(c.Texts))
	if sum := sha256.Sum256(tj); hex.EncodeToString(sum[:]) != g.TokenizerJSONSHA256 {
		t.Fatalf("%s was made from another tiny-shapes tokenizer.json: run scripts/tokenizer_golden.sh", goldenPath)
	}
	slow := t.TempDir()
	for _, name := range []string{VocabJSONFile, MergesFile, tokenizerConfigFile, specialTokensFile, modelConfigFile} {
		data, err := os.ReadFile(filepath.Join(tinyShapesDir, name))
		if err != nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(slow, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []struct{ name, path string }{{"tokenizer.json", tinyShapesDir}, {"vocab.json+merges.txt", slow}} {
		t.Run(dir.name, func(t *testing.T) {
			tok, err := Load(dir.path)
			if err != nil {
				t.Fatal(err)
			}
			if tok.ContextLength() != g.ModelMaxLength {
				t.Errorf("ContextLength = %d, transformers.js says %d", tok.ContextLength(), g.ModelMaxLength)
			}
			if g.PadTokenID != nil && tok.PadID() != *g.PadTokenID {
				t.Errorf("PadID = %d, transformers.js says %d", tok.PadID(), *g.PadTokenID)
			}
			compareCorpus(t, tok, c.Texts, g)
		})
	}
}

// writeCLIPHFDirs writes, from OpenAI's vocabulary, the Hugging Face files
// of openai/clip-vit-base-patch32: dir/fast holds tokenizer.json and the
// configs, dir/slow vocab.json + merges.txt and the configs. (The real
// files are 3.7 MB, too big to commit; transformers.js made the golden ids
// from the same files written by scripts/tokenizer_files.py.)
func writeCLIPHFDirs(gz, dir string) error { return writeCLIPHFDirsRegex(gz, dir, true) }

// writeCLIPHFDirsRegex is writeCLIPHFDirs with ByteLevel's use_regex set.
func writeCLIPHFDirsRegex(gz, dir string, useRegex bool) error {
	tok, err := LoadOpenAIVocab(gz)
	if err != nil {
		return err
	}
	vocab := tok.model.vocab
	merges, err := readOpenAIMerges(gz)
	if err != nil {
		return err
	}
	mergeStrings := make([]string, len(merges))
	var mergesTxt strings.Builder
	mergesTxt.WriteString("#version: 0.2\n")
	for i, m := range merges {
		mergeStrings[i] = m[0] + " " + m[1]
		mergesTxt.WriteString(mergeStrings[i] + "\n")
	}
	sot, eot := vocab[clipStartOfText], vocab[clipEndOfText]
	added := func(id int, content string, normalized bool) map[string]any {
		return map[string]any{"id": id, "content": content, "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": normalized, "special": true}
	}
	tj := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil,
		"added_tokens": []any{added(sot, clipStartOfText, true), added(eot, clipEndOfText, false)},
		"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "NFC"},
			map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": `\s+`}, "content": " "},
			map[string]any{"type": "Lowercase"},
		}},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": clipSplitPattern}, "behavior": "Removed", "invert": true},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": useRegex},
		}},
		"post_processor": map[string]any{"type": "RobertaProcessing", "sep": []any{clipEndOfText, eot},
			"cls": []any{clipStartOfText, sot}, "trim_offsets": false, "add_prefix_space": false},
		"decoder": map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": clipEndOfText, "continuing_subword_prefix": "",
			"end_of_word_suffix": clipEndOfWord, "fuse_unk": false, "byte_fallback": false, "vocab": vocab, "merges": mergeStrings},
	}
	config := map[string]any{"model_max_length": 77, "pad_token": clipEndOfText, "bos_token": clipStartOfText,
		"eos_token": clipEndOfText, "unk_token": clipEndOfText, "tokenizer_class": "CLIPTokenizer"}
	write := func(sub, name string, v any) error {
		path := filepath.Join(dir, sub, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		data, isString := []byte(nil), false
		if s, ok := v.(string); ok {
			data, isString = []byte(s), true
		}
		if !isString {
			if data, err = json.Marshal(v); err != nil {
				return err
			}
		}
		return os.WriteFile(path, data, 0o644)
	}
	return errors.Join(
		write("fast", TokenizerJSONFile, tj),
		write("fast", tokenizerConfigFile, config),
		write("slow", VocabJSONFile, vocab),
		write("slow", MergesFile, mergesTxt.String()),
		write("slow", tokenizerConfigFile, config),
	)
}

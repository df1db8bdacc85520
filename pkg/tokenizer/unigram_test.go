package tokenizer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The Unigram fixtures and goldens come from scripts/unigram_golden.sh:
// two SentencePiece models trained by scripts/unigram_fixtures.py
// (nmt_nfkc normalization, byte fallback on in one and off in the other),
// converted to tokenizer.json by that script, with SentencePiece's own ids
// and transformers.js's ids on the corpus of testdata/golden/tokenizer.
const unigramDir = "testdata/unigram"

// xlmr is the tiny M-CLIP fixture's tokenizer (scripts/fixtures/make_tiny_mclip.py):
// XLM-R's form, <s> … </s> by RobertaProcessing and SentencePiece's ids
// shifted by fairseq's offset.
var unigramModels = []string{"bytefallback", "unk", "xlmr"}

// unigramModelDir writes the named fixture as a model directory
// (tokenizer.json is stored gzipped: the charsmap alone is ~240 kB).
func unigramModelDir(t testing.TB, name string) (dir string, tokenizerJSONHash string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tj := readGzip(t, filepath.Join(unigramDir, name+".tokenizer.json.gz"))
	cfg, err := os.ReadFile(filepath.Join(unigramDir, name+".tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for file, data := range map[string][]byte{TokenizerJSONFile: tj, tokenizerConfigFile: cfg} {
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(tj)
	return dir, hex.EncodeToString(sum[:])
}

func readGzip(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (regenerate with scripts/unigram_golden.sh)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return data
}

type unigramGolden struct {
	Tool                string  `json:"tool"`
	CorpusSHA256        string  `json:"corpus_sha256"`
	TokenizerJSONSHA256 string  `json:"tokenizer_json_sha256"`
	IDs                 [][]int `json:"ids"`
}

func readUnigramGolden(t testing.TB, file, corpusHash, tjHash string, n int) unigramGolden {
	t.Helper()
	var g unigramGolden
	if err := json.NewDecoder(bytes.NewReader(readGzip(t, filepath.Join(unigramDir, file)))).Decode(&g); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if g.CorpusSHA256 != corpusHash || g.TokenizerJSONSHA256 != tjHash || len(g.IDs) != n {
		t.Fatalf("%s was made from another corpus or tokenizer.json (%d ids for %d texts); rerun scripts/unigram_golden.sh", file, len(g.IDs), n)
	}
	return g
}

// TestUnigramCorpus: every corpus text encodes to exactly SentencePiece's
// ids (encode + </s>), byte fallback on and off, except where
// SentencePiece's float32 path scores break a tie differently from the
// float64 sums of the tokenizers library and transformers.js: there the
// two segmentations must score the same to within float32 rounding, and
// tie breaks as there. Where ids differ from transformers.js's, they are
// therefore SentencePiece's: transformers.js approximates the Precompiled
// normalizer with NFKC, ignores byte fallback and does not fuse unknown
// characters (see testdata/unigram/README.md).
func TestUnigramCorpus(t *testing.T) {
	corpus, corpusHash := readCorpus(t)
	for _, name := range unigramModels {
		t.Run(name, func(t *testing.T) {
			dir, tjHash := unigramModelDir(t, name)
			tok, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			spm := readUnigramGolden(t, "ids-spm-"+name+".json.gz", corpusHash, tjHash, len(corpus.Texts))
			tjs := readUnigramGolden(t, "ids-tjs-"+name+".json.gz", corpusHash, tjHash, len(corpus.Texts))
			sameSPM, sameTJS, ties, exactTies := 0, 0, 0, 0
			for i, text := range corpus.Texts {
				got := tok.EncodeAll(text)
				okSPM, okTJS := slices.Equal(got, spm.IDs[i]), slices.Equal(got, tjs.IDs[i])
				if okSPM {
					sameSPM++
				}
				if okTJS {
					sameTJS++
				}
				if !okSPM {
					a, b := tok.unigramScore(got), tok.unigramScore(spm.IDs[i])
					if d := a - b; d < -1e-5*max(-a, 1) || d > 1e-5*max(-a, 1) {
						t.Errorf("text %d %+q: ids differ from SentencePiece's by more than a tie (score %g vs %g):\n got %v\nwant %v\ntransformers.js %v",
							i, text, a, b, got, spm.IDs[i], tjs.IDs[i])
					}
					if samePieces(got, spm.IDs[i]) {
						// An exact tie: the same pieces in another order
						// (three apostrophes as ' + '' or '' + '), which
						// SentencePiece's Viterbi breaks one way and the
						// tokenizers library (immich runs it) and
						// transformers.js the other.
						exactTies++
						continue
					}
					ties++
				}
			}
			if ties > 2 {
				t.Errorf("%d float32 ties: more than rounding explains", ties)
			}
			t.Logf("%s: %d texts; identical ids: SentencePiece %d, transformers.js %d; float32 ties %d; exact ties (same pieces, other order) %d",
				name, len(corpus.Texts), sameSPM, sameTJS, ties, exactTies)
		})
	}
}

// samePieces reports whether a and b hold the same ids in some order.
func samePieces(a, b []int) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// unigramScore is the total score of a segmentation (unknown pieces cost
// the unknown score; byte pieces and specials are left out).
func (t *Tokenizer) unigramScore(ids []int) float64 {
	total := 0.0
	for _, id := range ids {
		switch {
		case id == t.unigram.unk:
			total += t.unigram.unkScore
		case id == t.eot, id == t.sot:
		case t.unigram.byteIDs != nil && slices.Contains(t.unigram.byteIDs, id):
		default:
			total += t.unigram.scores[id]
		}
	}
	return total
}

// rewriteTokenizerJSON edits the fixture's tokenizer.json in dir.
func rewriteTokenizerJSON(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, TokenizerJSONFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnigramLengths: the context length and padding come from
// tokenizer_config.json's model_max_length and pad_token, and
// tokenizer.json's truncation and padding override them (SigLIP pads to
// 64 with the pad id); truncation keeps </s> last.
func TestUnigramLengths(t *testing.T) {
	corpus, corpusHash := readCorpus(t)
	dir, tjHash := unigramModelDir(t, "unk")
	spm := readUnigramGolden(t, "ids-spm-unk.json.gz", corpusHash, tjHash, len(corpus.Texts))
	long := -1
	for i, ids := range spm.IDs {
		if len(ids) > 80 {
			long = i
			break
		}
	}
	if long < 0 {
		t.Fatal("no corpus text longer than 80 ids")
	}
	want := spm.IDs[long]

	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ContextLength() != 64 || tok.PadID() != 1 || tok.PadLength() != 0 || tok.EOT() != 1 || tok.SOT() != -1 {
		t.Errorf("from tokenizer_config.json: context %d, pad id %d, pad length %d, eot %d, sot %d; want 64, 1 (</s>), 0, 1, -1",
			tok.ContextLength(), tok.PadID(), tok.PadLength(), tok.EOT(), tok.SOT())
	}
	if got := tok.Encode(corpus.Texts[long]); !slices.Equal(got, append(slices.Clone(want[:63]), 1)) {
		t.Errorf("Encode truncated to 64:\n got %v\nwant %v + [1]", got, want[:63])
	}

	rewriteTokenizerJSON(t, dir, func(doc map[string]any) {
		doc["truncation"] = map[string]any{"direction": "Right", "max_length": 8, "strategy": "LongestFirst", "stride": 0}
		doc["padding"] = map[string]any{"strategy": map[string]any{"Fixed": 16}, "direction": "Right",
			"pad_id": 0, "pad_type_id": 0, "pad_token": "<pad>"}
	})
	tok, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ContextLength() != 8 || tok.PadID() != 0 || tok.PadLength() != 16 {
		t.Errorf("from tokenizer.json: context %d, pad id %d, pad length %d; want 8, 0, 16",
			tok.ContextLength(), tok.PadID(), tok.PadLength())
	}
	ids, mask := tok.EncodeBatch([]string{corpus.Texts[long], ""}, tok.PadLength())
	wantRow := append(slices.Clone(want[:7]), 1, 0, 0, 0, 0, 0, 0, 0, 0)
	if !slices.Equal(ids[0], wantRow) || !slices.Equal(ids[1], []int{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("EncodeBatch padded to 16:\n got %v\n     %v\nwant %v\n     [1 0 …]", ids[0], ids[1], wantRow)
	}
	if mask[0][7] != 1 || mask[0][8] != 0 || mask[1][0] != 1 || mask[1][1] != 0 {
		t.Errorf("attention mask %v %v", mask[0], mask[1])
	}
}

// TestUnigramBadFiles: a malformed Unigram tokenizer.json is one error
// naming the file, never a panic.
func TestUnigramBadFiles(t *testing.T) {
	cases := []struct {
		name string
		edit func(doc map[string]any)
		want string
	}{
		{"charsmap not base64", func(doc map[string]any) {
			doc["normalizer"].(map[string]any)["normalizers"].([]any)[0].(map[string]any)["precompiled_charsmap"] = "!!"
		}, "not base64"},
		{"charsmap truncated", func(doc map[string]any) {
			doc["normalizer"].(map[string]any)["normalizers"].([]any)[0].(map[string]any)["precompiled_charsmap"] = "AAEAAAAA"
		}, "does not fit"},
		{"vocab entry not a pair", func(doc map[string]any) {
			doc["model"].(map[string]any)["vocab"].([]any)[5] = "x"
		}, "model.vocab[5]"},
		{"unk_id outside", func(doc map[string]any) { doc["model"].(map[string]any)["unk_id"] = 5000 }, "unk_id 5000"},
		{"no unk_id", func(doc map[string]any) { delete(doc["model"].(map[string]any), "unk_id") }, "without unk_id"},
		{"prepend scheme unknown", func(doc map[string]any) {
			doc["pre_tokenizer"].(map[string]any)["prepend_scheme"] = "sometimes"
		}, `prepend_scheme "sometimes"`},
		{"pad_id outside", func(doc map[string]any) {
			doc["padding"] = map[string]any{"strategy": "BatchLongest", "pad_id": -3}
		}, "pad_id -3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, _ := unigramModelDir(t, "unk")
			rewriteTokenizerJSON(t, dir, c.edit)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), TokenizerJSONFile) {
				t.Errorf("Load: %v; want an error naming %s and saying %q", err, TokenizerJSONFile, c.want)
			}
		})
	}
}

// TestUnigramComponents checks the SentencePiece conversion's pieces on
// hand-worked inputs.
func TestUnigramComponents(t *testing.T) {
	run, ok := parseCharRun(" {2,}")
	if !ok {
		t.Fatal(`parseCharRun(" {2,}") not recognised`)
	}
	if got := run.replacer("▁")("  a  b c   d "); got != "▁a▁b c▁d " {
		t.Errorf(`Replace " {2,}" → "▁": got %q`, got)
	}
	for _, re := range []string{`\s+`, ` {2}`, `a{0,}`, `ab{2,}`} {
		if _, ok := parseCharRun(re); ok {
			t.Errorf("parseCharRun(%q) accepted", re)
		}
	}
	var pieces []string
	metaspaceStep("▁", prependAlways, true)("hello  big world", false, func(s string) { pieces = append(pieces, s) })
	if want := []string{"▁hello", "▁", "▁big", "▁world"}; !slices.Equal(pieces, want) {
		t.Errorf("Metaspace split: got %q, want %q", pieces, want)
	}
	pieces = nil
	metaspaceStep("▁", prependNever, false)("a b", true, func(s string) { pieces = append(pieces, s) })
	if want := []string{"a▁b"}; !slices.Equal(pieces, want) {
		t.Errorf("Metaspace never/no split: got %q, want %q", pieces, want)
	}
	pieces = nil
	whitespaceSplitStep("\u3000a\tb \u00a0c\u2028", false, func(s string) { pieces = append(pieces, s) })
	if want := []string{"a", "b", "c"}; !slices.Equal(pieces, want) {
		t.Errorf("WhitespaceSplit: got %q, want %q", pieces, want)
	}
}

// FuzzUnigramEncode: any text, valid UTF-8 or not, encodes without
// panicking to ids inside the vocabulary, ending in </s>.
func FuzzUnigramEncode(f *testing.F) {
	for _, s := range []string{"", " ", "a\xffb", "\xe2\x96", "👨\u200d👩", "ＡＢＣ  x", "\x00\x01", "<0x41>"} {
		f.Add(s)
	}
	dir, _ := unigramModelDir(f, "bytefallback")
	tok, err := Load(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.EncodeAll(s)
		if len(ids) == 0 || ids[len(ids)-1] != 1 {
			t.Fatalf("%q: %v does not end in </s>", s, ids)
		}
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("%q: id %d outside the vocabulary", s, id)
			}
		}
	})
}

func BenchmarkUnigramEncodeCorpus(b *testing.B) {
	corpus, _ := readCorpus(b)
	dir, _ := unigramModelDir(b, "bytefallback")
	tok, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	tokens := 0
	for _, text := range corpus.Texts {
		tokens += len(tok.EncodeAll(text))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, text := range corpus.Texts {
			tok.EncodeAll(text)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// TestUnigramAddedTokens: special tokens written in the text are matched
// as added tokens, as transformers.js and the tokenizers library do
// (SentencePiece itself reads them as plain text); each section between
// them gets its own "▁" prefix. Expected ids from transformers.js 4.3.2 on
// the "unk" fixture.
func TestUnigramAddedTokens(t *testing.T) {
	dir, _ := unigramModelDir(t, "unk")
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string][]int{
		"a </s> b":          {3, 157, 1, 3, 220, 1},
		"x<pad>y":           {3, 389, 0, 3, 379, 1},
		"<unk>":             {2, 1},
		"  hello   world  ": {3, 523, 126, 1},
	} {
		if got := tok.EncodeAll(text); !slices.Equal(got, want) {
			t.Errorf("%q: got %v, want %v", text, got, want)
		}
	}
}

// FuzzPrecompiledCharsmap: a corrupt charsmap is an error or normalizes
// without panicking, never reading outside its bytes.
func FuzzPrecompiledCharsmap(f *testing.F) {
	f.Add([]byte{4, 0, 0, 0, 0, 1, 0, 0, 'a', 0}, "abc")
	f.Add([]byte{8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x61, 0x01, 0, 0, 'x', 0}, "a\xff")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		cm, err := parsePrecompiledCharsmap(data)
		if err != nil {
			return
		}
		_ = cm.normalize(text)
	})
}

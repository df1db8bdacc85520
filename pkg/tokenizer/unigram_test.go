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
	"testing"
)

// The Unigram fixtures and goldens come from scripts/unigram_golden.sh:
// two SentencePiece models trained by scripts/unigram_fixtures.py
// (nmt_nfkc normalization, byte fallback on in one and off in the other),
// converted to tokenizer.json by that script, with SentencePiece's own ids
// and transformers.js's ids on the corpus of testdata/golden/tokenizer.
const unigramDir = "testdata/unigram"

var unigramModels = []string{"bytefallback", "unk"}

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
			sameSPM, sameTJS, ties := 0, 0, 0
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
					ties++
				}
			}
			if ties > 2 {
				t.Errorf("%d float32 ties: more than rounding explains", ties)
			}
			t.Logf("%s: %d texts; identical ids: SentencePiece %d, transformers.js %d; float32 ties %d",
				name, len(corpus.Texts), sameSPM, sameTJS, ties)
		})
	}
}

// unigramScore is the total score of a segmentation (unknown pieces cost
// the unknown score; byte pieces and specials are left out).
func (t *Tokenizer) unigramScore(ids []int) float64 {
	total := 0.0
	for _, id := range ids {
		switch {
		case id == t.unigram.unk:
			total += t.unigram.unkScore
		case id == t.eot:
		case t.unigram.byteIDs != nil && slices.Contains(t.unigram.byteIDs, id):
		default:
			total += t.unigram.scores[id]
		}
	}
	return total
}

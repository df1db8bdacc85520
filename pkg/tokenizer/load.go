package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File names a model directory may hold, in the order Load tries them.
const (
	TokenizerJSONFile = "tokenizer.json"
	VocabJSONFile     = "vocab.json"
	MergesFile        = "merges.txt"
	OpenAIVocabFile   = "bpe_simple_vocab_16e6.txt.gz"

	tokenizerConfigFile = "tokenizer_config.json"
	specialTokensFile   = "special_tokens_map.json"
	modelConfigFile     = "config.json"
)

// CLIP's constants, used only where the files leave a value unsaid.
const (
	defaultContextLength = 77
	clipMerges           = 49152 - 256 - 2 // merge lines of OpenAI's vocabulary CLIP uses
	clipStartOfText      = "<|startoftext|>"
	clipEndOfText        = "<|endoftext|>"
	clipEndOfWord        = "</w>"
)

// ErrUnsupported marks a tokenizer this package does not implement.
var ErrUnsupported = errors.New("unsupported tokenizer")

func unsupported(file, format string, a ...any) error {
	return fmt.Errorf("%s: %w: %s", file, ErrUnsupported, fmt.Sprintf(format, a...))
}

// Load reads the tokenizer of the model directory dir: tokenizer.json if
// present, else vocab.json + merges.txt, else OpenAI's
// bpe_simple_vocab_16e6.txt.gz.
func Load(dir string) (*Tokenizer, error) {
	cfg, err := readDirConfig(dir)
	if err != nil {
		return nil, err
	}
	tj := filepath.Join(dir, TokenizerJSONFile)
	if fileExists(tj) {
		return loadTokenizerJSON(tj, cfg)
	}
	vj, mt := filepath.Join(dir, VocabJSONFile), filepath.Join(dir, MergesFile)
	if fileExists(vj) && fileExists(mt) {
		return loadVocabMerges(vj, mt, cfg)
	}
	gz := filepath.Join(dir, OpenAIVocabFile)
	if fileExists(gz) {
		return LoadOpenAIVocab(gz)
	}
	if !fileExists(dir) {
		return nil, fmt.Errorf("tokenizer: model directory %s does not exist", dir)
	}
	return nil, fmt.Errorf("%s: no tokenizer found (want %s, %s + %s, or %s)",
		dir, TokenizerJSONFile, VocabJSONFile, MergesFile, OpenAIVocabFile)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// LoadOpenAIVocab reads OpenAI's bpe_simple_vocab_16e6.txt.gz: a header
// line, then merges, of which CLIP uses the first 48894. The vocabulary is
// built as CLIP builds it; padding uses id 0 and the context length is 77,
// as in OpenAI's clip.tokenize.
func LoadOpenAIVocab(gzPath string) (*Tokenizer, error) {
	merges, err := readOpenAIMerges(gzPath)
	if err != nil {
		return nil, err
	}
	vocab, err := clipVocab(merges, gzPath)
	if err != nil {
		return nil, err
	}
	t, err := clipPipeline(vocab, merges, gzPath, dirConfig{})
	if err != nil {
		return nil, err
	}
	t.padID = 0
	t.contextLen = defaultContextLength
	return t, nil
}

// readOpenAIMerges reads the merges CLIP uses: lines 2 to 48895 (the first
// line is a header, which a public Go port once read as a merge, shifting
// every merged id by one).
func readOpenAIMerges(gzPath string) ([][2]string, error) {
	f, err := os.Open(gzPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(gzPath, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: not gzip data: %w", gzPath, err)
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	merges := make([][2]string, 0, clipMerges)
	line := 0
	for len(merges) < clipMerges && sc.Scan() {
		line++
		if line == 1 {
			continue // the header ("#version: 0.2"), not a merge
		}
		parts := strings.Fields(sc.Text())
		if len(parts) != 2 {
			return nil, fmt.Errorf("%s:%d: want a merge of two symbols, got %q", gzPath, line, sc.Text())
		}
		merges = append(merges, [2]string{parts[0], parts[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", gzPath, err)
	}
	if len(merges) < clipMerges {
		return nil, fmt.Errorf("%s: has %d merges, CLIP needs %d", gzPath, len(merges), clipMerges)
	}
	return merges, nil
}

// clipVocab builds CLIP's vocabulary from its merges: the 256 byte-level
// characters, the same with </w>, each merge joined, then the two special
// tokens.
func clipVocab(merges [][2]string, source string) (map[string]int, error) {
	vocab := make(map[string]int, 512+len(merges)+2)
	add := func(tok string) error {
		if _, dup := vocab[tok]; dup {
			return fmt.Errorf("%s: merges make token %q twice", source, tok)
		}
		vocab[tok] = len(vocab)
		return nil
	}
	order := byteLevelOrder()
	for _, b := range order {
		_ = add(string(byteToRune[b]))
	}
	for _, b := range order {
		_ = add(string(byteToRune[b]) + clipEndOfWord)
	}
	for _, m := range merges {
		if err := add(m[0] + m[1]); err != nil {
			return nil, err
		}
	}
	for _, tok := range []string{clipStartOfText, clipEndOfText} {
		if err := add(tok); err != nil {
			return nil, err
		}
	}
	return vocab, nil
}

// byteLevelOrder is the order of bytes in GPT-2's bytes_to_unicode table
// (printable bytes first), which is the order of CLIP's first 256 ids.
func byteLevelOrder() []int {
	order := make([]int, 0, 256)
	for b := 0; b < 256; b++ {
		if byteToRune[b] == rune(b) {
			order = append(order, b)
		}
	}
	for b := 0; b < 256; b++ {
		if byteToRune[b] != rune(b) {
			order = append(order, b)
		}
	}
	return order
}

// dirConfig is what tokenizer_config.json, special_tokens_map.json and
// config.json say about the tokenizer.
type dirConfig struct {
	class          string
	bos, eos, pad  string
	unk            string
	hasUnk, hasPad bool
	maxLen         int // 0: unknown
	// immichLen is the context length of immich's layout (the tokenizer in
	// textual/, open_clip's config.json at the root): immich pads and
	// truncates every text to its text_cfg.context_length, whatever
	// tokenizer.json says. 0 outside that layout.
	immichLen int
}

func readDirConfig(dir string) (dirConfig, error) {
	var c dirConfig
	var tc struct {
		TokenizerClass string          `json:"tokenizer_class"`
		ModelMaxLength *float64        `json:"model_max_length"`
		BOS            json.RawMessage `json:"bos_token"`
		EOS            json.RawMessage `json:"eos_token"`
		PAD            json.RawMessage `json:"pad_token"`
		UNK            json.RawMessage `json:"unk_token"`
	}
	if err := readJSONIfExists(filepath.Join(dir, tokenizerConfigFile), &tc); err != nil {
		return c, err
	}
	var sm struct {
		BOS json.RawMessage `json:"bos_token"`
		EOS json.RawMessage `json:"eos_token"`
		PAD json.RawMessage `json:"pad_token"`
		UNK json.RawMessage `json:"unk_token"`
	}
	if err := readJSONIfExists(filepath.Join(dir, specialTokensFile), &sm); err != nil {
		return c, err
	}
	c.class = tc.TokenizerClass
	pick := func(a, b json.RawMessage) (string, bool) {
		if s, ok := tokenContent(a); ok {
			return s, true
		}
		return tokenContent(b)
	}
	c.bos, _ = pick(tc.BOS, sm.BOS)
	c.eos, _ = pick(tc.EOS, sm.EOS)
	c.pad, c.hasPad = pick(tc.PAD, sm.PAD)
	c.unk, c.hasUnk = pick(tc.UNK, sm.UNK)
	// transformers writes a huge number when the length is unset.
	if tc.ModelMaxLength != nil && *tc.ModelMaxLength >= 1 && *tc.ModelMaxLength < 1e6 {
		c.maxLen = int(*tc.ModelMaxLength)
	}
	var mc struct {
		ModelType             string `json:"model_type"`
		MaxPositionEmbeddings int    `json:"max_position_embeddings"`
		TextConfig            struct {
			MaxPositionEmbeddings int `json:"max_position_embeddings"`
		} `json:"text_config"`
	}
	if err := readJSONIfExists(filepath.Join(dir, modelConfigFile), &mc); err != nil {
		return c, err
	}
	positions := mc.TextConfig.MaxPositionEmbeddings
	if positions == 0 && mc.ModelType == "clip_text_model" {
		positions = mc.MaxPositionEmbeddings
	}
	if positions > 0 && (c.maxLen == 0 || positions < c.maxLen) {
		c.maxLen = positions // the text model cannot take more positions than it has
	}
	if filepath.Base(dir) == "textual" && !fileExists(filepath.Join(dir, modelConfigFile)) {
		var oc struct {
			TextCfg *struct {
				ContextLength int `json:"context_length"`
			} `json:"text_cfg"`
		}
		if err := readJSONIfExists(filepath.Join(filepath.Dir(dir), modelConfigFile), &oc); err != nil {
			return c, err
		}
		if oc.TextCfg != nil {
			// immich: text_cfg.get("context_length", 77); the configs of
			// Hugging Face text towers (nllb-clip-*-siglip) leave it out.
			c.immichLen = oc.TextCfg.ContextLength
			if c.immichLen <= 0 {
				c.immichLen = defaultContextLength
			}
		}
	}
	return c, nil
}

// tokenContent reads a token given as a string or as {"content": ...}.
func tokenContent(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Content != nil {
		return *obj.Content, true
	}
	return "", false
}

func readJSONIfExists(path string, v any) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// isCLIPClass reports whether a tokenizer_class is CLIP's (or unsaid).
func isCLIPClass(class string) bool {
	switch class {
	case "", "CLIPTokenizer", "CLIPTokenizerFast":
		return true
	}
	return false
}

// loadVocabMerges reads the slow tokenizer's files. Their semantics are
// CLIP's, so the tokenizer_config must not name another tokenizer.
func loadVocabMerges(vocabPath, mergesPath string, cfg dirConfig) (*Tokenizer, error) {
	if !isCLIPClass(cfg.class) {
		return nil, unsupported(filepath.Join(filepath.Dir(vocabPath), tokenizerConfigFile),
			"tokenizer_class %q with vocab.json + merges.txt (only CLIPTokenizer is implemented)", cfg.class)
	}
	data, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(data, &vocab); err != nil {
		return nil, fmt.Errorf("%s: %w", vocabPath, err)
	}
	if err := checkIDs(vocabPath, vocab, len(vocab)); err != nil {
		return nil, err
	}
	data, err = os.ReadFile(mergesPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var merges [][2]string
	for n, line := range bytes.Split(data, []byte("\n")) {
		text := strings.TrimRight(string(line), "\r")
		if n == 0 && strings.HasPrefix(text, "#") || text == "" {
			continue // "#version: 0.2" header
		}
		parts := strings.Split(text, " ")
		if len(parts) != 2 {
			return nil, fmt.Errorf("%s:%d: want a merge of two symbols, got %q", mergesPath, n+1, text)
		}
		merges = append(merges, [2]string{parts[0], parts[1]})
	}
	return clipPipeline(vocab, merges, vocabPath, cfg)
}

// clipPipeline is the tokenizer transformers' CLIP converter builds: NFC,
// whitespace runs to one space, lowercase; CLIP's split pattern; byte-level
// BPE with </w>; SOT … EOT around the text.
func clipPipeline(vocab map[string]int, merges [][2]string, source string, cfg dirConfig) (*Tokenizer, error) {
	bos, eos, unk, pad := clipStartOfText, clipEndOfText, clipEndOfText, clipEndOfText
	if cfg.bos != "" {
		bos = cfg.bos
	}
	if cfg.eos != "" {
		eos = cfg.eos
	}
	if cfg.hasUnk {
		unk = cfg.unk
	}
	if cfg.hasPad {
		pad = cfg.pad
	}
	bosID, ok := vocab[bos]
	if !ok {
		return nil, fmt.Errorf("%s: start-of-text token %q is not in the vocabulary", source, bos)
	}
	eosID, ok := vocab[eos]
	if !ok {
		return nil, fmt.Errorf("%s: end-of-text token %q is not in the vocabulary", source, eos)
	}
	unkID := -1
	if id, ok := vocab[unk]; ok {
		unkID = id
	}
	split, err := compilePattern(clipSplitPattern)
	if err != nil {
		return nil, err
	}
	t := &Tokenizer{
		model:     newBPEModel(vocab, merges, clipEndOfWord, unkID, true),
		normalize: []normalizer{normalizeNFC, collapseWhitespace, lowercase},
		preSteps:  []preStep{splitStep(split, keepMatches), byteLevelStep(false, true)},
		prefix:    []int{bosID},
		suffix:    []int{eosID},
		sot:       bosID,
		eot:       eosID,
		source:    source,
	}
	t.setAdded([]addedToken{
		{content: bos, id: bosID, normalized: true},
		{content: eos, id: eosID, normalized: false},
	})
	t.contextLen = cfg.maxLen
	if t.contextLen == 0 {
		t.contextLen = defaultContextLength
	}
	t.padID = eosID
	if id, ok := t.ID(pad); ok {
		t.padID = id
	}
	return t, nil
}

// clipSplitPattern is CLIP's pre-tokenizer pattern (the special tokens of
// OpenAI's version are handled as added tokens instead).
const clipSplitPattern = `'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`

// setAdded installs the added tokens: those marked normalized are matched
// in normalized text (under their normalized spelling), the others in the
// raw text.
func (t *Tokenizer) setAdded(added []addedToken) {
	t.addedIDs = make(map[string]int, 2*len(added))
	t.rawAdded, t.normAdded = nil, nil
	t.strip = nil
	for _, at := range added {
		t.addedIDs[at.content] = at.id
		if at.id >= len(t.model.tokens) {
			grown := make([]string, at.id+1)
			copy(grown, t.model.tokens)
			t.model.tokens = grown
		}
		t.model.tokens[at.id] = at.content
		if at.lstrip || at.rstrip {
			if t.strip == nil {
				t.strip = make(map[string]addedToken)
			}
			t.strip[at.content] = at
		}
		if at.normalized && len(t.normalize) > 0 {
			n := at.content
			for _, f := range t.normalize {
				n = f(n)
			}
			t.addedIDs[n] = at.id
			t.normAdded = append(t.normAdded, n)
			if at.lstrip || at.rstrip {
				t.strip[n] = at
			}
		} else {
			t.rawAdded = append(t.rawAdded, at.content)
		}
	}
}

// maxTokenID bounds ids for n tokens: ids may leave gaps, but an id far
// past the token count would make the id → token table huge.
func maxTokenID(n int) int { return 2*n + 1024 }

// checkIDs rejects negative ids and ids absurdly larger than the vocabulary.
func checkIDs(path string, vocab map[string]int, n int) error {
	for tok, id := range vocab {
		if id < 0 || id > maxTokenID(n) {
			return fmt.Errorf("%s: token %q has id %d, outside 0..%d", path, tok, id, maxTokenID(n))
		}
	}
	return nil
}

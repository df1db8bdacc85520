package tokenizer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// loadUnigramJSON builds a tokenizer from a tokenizer.json whose model is
// Unigram (SentencePiece models converted by transformers: T5, SigLIP,
// XLM-R): model.vocab is a list of [piece, score] pairs, the id being the
// position.
func loadUnigramJSON(path string, f *hfFile, cfg dirConfig) (*Tokenizer, error) {
	m := &f.Model
	var entries []json.RawMessage
	if err := json.Unmarshal(m.Vocab, &entries); err != nil {
		return nil, fmt.Errorf("%s: model.vocab: want a list of [piece, score] pairs: %w", path, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s: model.vocab is empty", path)
	}
	pieces := make([]string, len(entries))
	scores := make([]float64, len(entries))
	vocab := make(map[string]int, len(entries))
	for i, raw := range entries {
		var pair []json.RawMessage
		if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 ||
			json.Unmarshal(pair[0], &pieces[i]) != nil || json.Unmarshal(pair[1], &scores[i]) != nil {
			return nil, fmt.Errorf("%s: model.vocab[%d] is not a [piece, score] pair", path, i)
		}
		vocab[pieces[i]] = i // a repeated piece keeps its last id, as the tokenizers library's map does
	}
	if m.UnkID == nil {
		// Without unk_id the tokenizers library fails on unknown characters;
		// refuse the file up front instead.
		return nil, unsupported(path, "Unigram model without unk_id")
	}
	unk := *m.UnkID
	if unk < 0 || unk >= len(pieces) {
		return nil, fmt.Errorf("%s: model.unk_id %d is outside the vocabulary of %d pieces", path, unk, len(pieces))
	}

	t := &Tokenizer{source: path, sot: -1, eot: -1}
	var err error
	if t.normalize, err = parseNormalizer(f.Normalizer, path); err != nil {
		return nil, err
	}
	byteLevel := false
	if t.preSteps, byteLevel, err = parsePreTokenizer(f.PreTokenizer, path); err != nil {
		return nil, err
	}
	if byteLevel {
		return nil, unsupported(path, "ByteLevel pre-tokenizer with a Unigram model")
	}
	t.unigram = newUnigramModel(pieces, scores, unk, m.ByteFallback)
	t.model = &bpeModel{vocab: vocab, tokens: pieces, numIDs: len(pieces), unk: unk}
	return finishHFTokenizer(t, f, path, cfg)
}

func parsePrecompiled(c *hfComponent, path string) ([]normalizer, error) {
	if c.PrecompiledCharsmap == nil || *c.PrecompiledCharsmap == "" {
		return nil, nil // an empty charsmap changes nothing
	}
	data, err := base64.StdEncoding.DecodeString(*c.PrecompiledCharsmap)
	if err != nil {
		return nil, fmt.Errorf("%s: Precompiled normalizer: precompiled_charsmap is not base64: %w", path, err)
	}
	cm, err := parsePrecompiledCharsmap(data)
	if err != nil {
		return nil, fmt.Errorf("%s: Precompiled normalizer: %w", path, err)
	}
	return []normalizer{cm.normalize}, nil
}

// parseMetaspace reads the Metaspace pre-tokenizer: prepend_scheme
// "always" / "first" / "never" (or the older add_prefix_space), split
// (default on).
func parseMetaspace(c *hfComponent, path string) (preStep, error) {
	replacement := "\u2581"
	if c.Replacement != nil {
		replacement = *c.Replacement
	}
	if replacement == "" {
		return nil, fmt.Errorf("%s: Metaspace pre-tokenizer with an empty replacement", path)
	}
	prepend := prependNever
	if c.AddPrefixSpace {
		prepend = prependAlways
	}
	if c.PrependScheme != nil {
		switch *c.PrependScheme {
		case "always":
			prepend = prependAlways
		case "first":
			prepend = prependFirst
		case "never":
			prepend = prependNever
		default:
			return nil, unsupported(path, "Metaspace prepend_scheme %q", *c.PrependScheme)
		}
	}
	split := c.Split == nil || *c.Split
	return metaspaceStep(replacement, prepend, split), nil
}

// charRun is a Replace pattern "X{n,}": n or more of one character, as in
// SentencePiece conversions' Replace(" {2,}", "▁").
type charRun struct {
	char string
	min  int
}

var charRunPattern = regexp.MustCompile(`^(\\?[^\\{}()\[\]|*+?.^$])\{([0-9]+),\}$`)

func parseCharRun(re string) (charRun, bool) {
	m := charRunPattern.FindStringSubmatch(re)
	if m == nil {
		return charRun{}, false
	}
	n, err := strconv.Atoi(m[2])
	if err != nil || n < 1 {
		return charRun{}, false
	}
	return charRun{char: strings.TrimPrefix(m[1], `\`), min: n}, true
}

// replacer replaces each maximal run of at least min chars with content.
func (r charRun) replacer(content string) normalizer {
	return func(s string) string {
		if !strings.Contains(s, strings.Repeat(r.char, r.min)) {
			return s
		}
		var b strings.Builder
		for len(s) > 0 {
			n := 0
			for strings.HasPrefix(s[n*len(r.char):], r.char) {
				n++
			}
			switch {
			case n >= r.min:
				b.WriteString(content)
				s = s[n*len(r.char):]
			case n > 0:
				b.WriteString(s[:n*len(r.char)])
				s = s[n*len(r.char):]
			default:
				i := strings.Index(s, r.char)
				if i < 0 {
					i = len(s)
				}
				b.WriteString(s[:i])
				s = s[i:]
			}
		}
		return b.String()
	}
}

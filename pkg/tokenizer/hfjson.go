package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// The parts of a Hugging Face tokenizer.json this package reads.
type hfFile struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized *bool  `json:"normalized"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Truncation *struct {
		MaxLength int `json:"max_length"`
	} `json:"truncation"`
	Padding *struct {
		Strategy json.RawMessage `json:"strategy"`
		PadID    *int            `json:"pad_id"`
	} `json:"padding"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Model         struct {
		Type                    string            `json:"type"`
		Vocab                   json.RawMessage   `json:"vocab"`
		Merges                  []json.RawMessage `json:"merges"`
		UnkToken                *string           `json:"unk_token"`
		EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
		ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
		ContinuingSubwordSuffix *string           `json:"continuing_subword_suffix"`
		Dropout                 *float64          `json:"dropout"`
		ByteFallback            bool              `json:"byte_fallback"`
		IgnoreMerges            bool              `json:"ignore_merges"`
		FuseUnk                 bool              `json:"fuse_unk"`
		UnkID                   *int              `json:"unk_id"` // Unigram
	} `json:"model"`
}

// hfComponent is any normalizer, pre-tokenizer or post-processor entry.
type hfComponent struct {
	Type          string            `json:"type"`
	Normalizers   []json.RawMessage `json:"normalizers"`
	PreTokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	Pattern       *struct {
		Regex  *string `json:"Regex"`
		String *string `json:"String"`
	} `json:"pattern"`
	Content        *string `json:"content"`
	Behavior       string  `json:"behavior"`
	Invert         bool    `json:"invert"`
	AddPrefixSpace bool    `json:"add_prefix_space"`
	UseRegex       *bool   `json:"use_regex"`
	StripLeft      *bool   `json:"strip_left"`
	StripRight     *bool   `json:"strip_right"`
	// Precompiled
	PrecompiledCharsmap *string `json:"precompiled_charsmap"`
	// Metaspace
	Replacement   *string `json:"replacement"`
	PrependScheme *string `json:"prepend_scheme"`
	Split         *bool   `json:"split"`
	// RobertaProcessing / BertProcessing
	CLS []json.RawMessage `json:"cls"`
	SEP []json.RawMessage `json:"sep"`
	// TemplateProcessing
	Single        []json.RawMessage `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
}

func loadTokenizerJSON(path string, cfg dirConfig) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := &f.Model
	if m.Type == "" && len(m.Merges) > 0 {
		m.Type = "BPE" // old files leave the type out
	}
	if m.Type == "Unigram" {
		return loadUnigramJSON(path, &f, cfg)
	}
	if m.Type != "BPE" {
		return nil, unsupported(path, "model type %q (only BPE is implemented)", m.Type)
	}
	if m.Dropout != nil && *m.Dropout != 0 {
		return nil, unsupported(path, "BPE dropout %g is not deterministic", *m.Dropout)
	}
	if m.ByteFallback {
		return nil, unsupported(path, "BPE byte_fallback")
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return nil, unsupported(path, "BPE continuing_subword_prefix %q", *m.ContinuingSubwordPrefix)
	}
	if m.ContinuingSubwordSuffix != nil && *m.ContinuingSubwordSuffix != "" {
		return nil, unsupported(path, "BPE continuing_subword_suffix %q", *m.ContinuingSubwordSuffix)
	}
	var vocab map[string]int
	if err := json.Unmarshal(m.Vocab, &vocab); err != nil {
		return nil, fmt.Errorf("%s: model.vocab: %w", path, err)
	}
	if err := checkIDs(path, vocab, len(vocab)+len(f.AddedTokens)); err != nil {
		return nil, err
	}
	merges := make([][2]string, 0, len(m.Merges))
	for i, raw := range m.Merges {
		var s string
		var pair []string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			// "a b": split at spaces, first two parts, as transformers.js does.
			parts := strings.SplitN(s, " ", 3)
			if len(parts) < 2 {
				return nil, fmt.Errorf("%s: model.merges[%d] = %q is not two symbols", path, i, s)
			}
			merges = append(merges, [2]string{parts[0], parts[1]})
		case json.Unmarshal(raw, &pair) == nil && len(pair) == 2:
			merges = append(merges, [2]string{pair[0], pair[1]})
		default:
			return nil, fmt.Errorf("%s: model.merges[%d] is neither \"a b\" nor [\"a\", \"b\"]", path, i)
		}
	}
	suffix := ""
	if m.EndOfWordSuffix != nil {
		suffix = *m.EndOfWordSuffix
	}
	unk := -1
	if m.UnkToken != nil {
		id, ok := vocab[*m.UnkToken]
		if !ok {
			return nil, fmt.Errorf("%s: unk_token %q is not in the vocabulary", path, *m.UnkToken)
		}
		unk = id
	}

	t := &Tokenizer{source: path, sot: -1, eot: -1}
	if t.normalize, err = parseNormalizer(f.Normalizer, path); err != nil {
		return nil, err
	}
	byteLevel := false
	if t.preSteps, byteLevel, err = parsePreTokenizer(f.PreTokenizer, path); err != nil {
		return nil, err
	}
	t.model = newBPEModel(vocab, merges, suffix, unk, byteLevel)
	t.model.ignoreMerges = m.IgnoreMerges
	t.model.fuseUnk = m.FuseUnk
	return finishHFTokenizer(t, &f, path, cfg)
}

// finishHFTokenizer installs what every tokenizer.json model shares: added
// tokens, the post-processor's special ids, context length and padding.
func finishHFTokenizer(t *Tokenizer, f *hfFile, path string, cfg dirConfig) (*Tokenizer, error) {
	var err error
	vocab := t.model.vocab
	var added []addedToken
	for _, a := range f.AddedTokens {
		if a.ID < 0 || a.ID > maxTokenID(len(vocab)+len(f.AddedTokens)) {
			return nil, fmt.Errorf("%s: added token %q has id %d, outside the vocabulary", path, a.Content, a.ID)
		}
		if a.SingleWord {
			return nil, unsupported(path, "added token %q with single_word", a.Content)
		}
		normalized := !a.Special // transformers.js's default
		if a.Normalized != nil {
			normalized = *a.Normalized
		}
		added = append(added, addedToken{content: a.Content, id: a.ID, normalized: normalized,
			lstrip: a.LStrip, rstrip: a.RStrip})
	}
	t.setAdded(added)

	if t.prefix, t.suffix, err = parsePostProcessor(f.PostProcessor, path, t); err != nil {
		return nil, err
	}
	if len(t.prefix) > 0 {
		t.sot = t.prefix[0]
	} else if id, ok := t.ID(cfg.bos); ok && cfg.bos != "" {
		t.sot = id
	}
	if len(t.suffix) > 0 {
		t.eot = t.suffix[len(t.suffix)-1]
	} else if id, ok := t.ID(cfg.eos); ok && cfg.eos != "" {
		t.eot = id
	}
	t.contextLen = cfg.maxLen
	if f.Truncation != nil && f.Truncation.MaxLength > 0 {
		t.contextLen = f.Truncation.MaxLength
	}
	if t.contextLen == 0 {
		t.contextLen = defaultContextLength
	}
	if cfg.immichLen > 0 {
		// immich: enable_truncation and enable_padding to the model's
		// context length override the file's.
		t.contextLen, t.padTo = cfg.immichLen, cfg.immichLen
	}
	if f.Padding != nil {
		var fixed struct {
			Fixed int `json:"Fixed"`
		}
		if json.Unmarshal(f.Padding.Strategy, &fixed) == nil && fixed.Fixed > 0 && cfg.immichLen == 0 {
			t.padTo = fixed.Fixed
		}
		if id := f.Padding.PadID; id != nil {
			if *id < 0 || *id >= len(t.model.tokens) {
				return nil, fmt.Errorf("%s: padding.pad_id %d is outside the vocabulary", path, *id)
			}
			t.padID = *id
			return t, nil
		}
	}
	switch {
	case cfg.hasPad:
		id, ok := t.ID(cfg.pad)
		if !ok {
			return nil, fmt.Errorf("%s: pad token %q is not in the vocabulary", path, cfg.pad)
		}
		t.padID = id
	case t.eot >= 0:
		t.padID = t.eot // CLIPTokenizer's default pad token is <|endoftext|>
	}
	return t, nil
}

func parseComponent(raw json.RawMessage, path, what string) (*hfComponent, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", path, what, err)
	}
	return &c, nil
}

func parseNormalizer(raw json.RawMessage, path string) ([]normalizer, error) {
	c, err := parseComponent(raw, path, "normalizer")
	if c == nil || err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var out []normalizer
		for _, sub := range c.Normalizers {
			n, err := parseNormalizer(sub, path)
			if err != nil {
				return nil, err
			}
			out = append(out, n...)
		}
		return out, nil
	case "NFC":
		return []normalizer{normalizeNFC}, nil
	case "NFD":
		return []normalizer{normalizeNFD}, nil
	case "NFKC":
		return []normalizer{normalizeNFKC}, nil
	case "NFKD":
		return []normalizer{normalizeNFKD}, nil
	case "Lowercase":
		return []normalizer{lowercase}, nil
	case "Precompiled":
		return parsePrecompiled(c, path)
	case "Strip":
		left := c.StripLeft == nil || *c.StripLeft
		right := c.StripRight == nil || *c.StripRight
		return []normalizer{func(s string) string {
			if left {
				s = strings.TrimLeftFunc(s, isJSWhiteSpace)
			}
			if right {
				s = strings.TrimRightFunc(s, isJSWhiteSpace)
			}
			return s
		}}, nil
	case "Replace":
		content := ""
		if c.Content != nil {
			content = *c.Content
		}
		if c.Pattern == nil {
			return nil, fmt.Errorf("%s: Replace normalizer without a pattern", path)
		}
		if c.Pattern.String != nil {
			from := *c.Pattern.String
			return []normalizer{func(s string) string { return strings.ReplaceAll(s, from, content) }}, nil
		}
		if c.Pattern.Regex == nil {
			return nil, fmt.Errorf("%s: Replace normalizer pattern is neither Regex nor String", path)
		}
		if *c.Pattern.Regex == `\s+` && content == " " {
			return []normalizer{collapseWhitespace}, nil
		}
		if run, ok := parseCharRun(*c.Pattern.Regex); ok {
			return []normalizer{run.replacer(content)}, nil
		}
		p, err := compilePattern(*c.Pattern.Regex)
		if err != nil {
			return nil, unsupported(path, "Replace normalizer: %v", err)
		}
		return []normalizer{func(s string) string { return p.replaceAll(s, content) }}, nil
	}
	return nil, unsupported(path, "normalizer type %q", c.Type)
}

// parsePreTokenizer returns the steps and whether the last is ByteLevel
// (which makes the BPE model work on byte-level symbols).
func parsePreTokenizer(raw json.RawMessage, path string) ([]preStep, bool, error) {
	c, err := parseComponent(raw, path, "pre_tokenizer")
	if c == nil || err != nil {
		return nil, false, err
	}
	switch c.Type {
	case "Sequence":
		var steps []preStep
		byteLevel := false
		for i, sub := range c.PreTokenizers {
			s, bl, err := parsePreTokenizer(sub, path)
			if err != nil {
				return nil, false, err
			}
			if byteLevel {
				return nil, false, unsupported(path, "pre-tokenizer %d follows ByteLevel", i)
			}
			steps = append(steps, s...)
			byteLevel = bl
		}
		return steps, byteLevel, nil
	case "Metaspace":
		step, err := parseMetaspace(c, path)
		return []preStep{step}, false, err
	case "WhitespaceSplit":
		return []preStep{whitespaceSplitStep}, false, nil
	case "ByteLevel":
		useRegex := c.UseRegex == nil || *c.UseRegex
		return []preStep{byteLevelStep(c.AddPrefixSpace, useRegex)}, true, nil
	case "Split":
		if c.Pattern == nil {
			return nil, false, fmt.Errorf("%s: Split pre-tokenizer without a pattern", path)
		}
		var p *pattern
		switch {
		case c.Pattern.Regex != nil:
			if p, err = compilePattern(*c.Pattern.Regex); err != nil {
				return nil, false, unsupported(path, "Split pre-tokenizer: %v", err)
			}
		case c.Pattern.String != nil && *c.Pattern.String != "":
			p = literalPattern(*c.Pattern.String)
		default:
			return nil, false, fmt.Errorf("%s: Split pre-tokenizer pattern is neither Regex nor String", path)
		}
		keep := keepMatches
		switch {
		case c.Invert:
		case strings.EqualFold(c.Behavior, "Removed"):
			keep = keepGaps
		case strings.EqualFold(c.Behavior, "Isolated"):
			keep = keepBoth
		default:
			return nil, false, unsupported(path, "Split pre-tokenizer behavior %q", c.Behavior)
		}
		return []preStep{splitStep(p, keep)}, false, nil
	}
	return nil, false, unsupported(path, "pre-tokenizer type %q", c.Type)
}

// literalPattern matches one fixed string.
func literalPattern(s string) *pattern {
	var items []patternItem
	for _, r := range s {
		items = append(items, patternItem{literal: r})
	}
	return &pattern{source: s, branches: [][]patternItem{items}}
}

// parsePostProcessor returns the ids put before and after the text.
func parsePostProcessor(raw json.RawMessage, path string, t *Tokenizer) (prefix, suffix []int, err error) {
	c, err := parseComponent(raw, path, "post_processor")
	if c == nil || err != nil {
		return nil, nil, err
	}
	tokenID := func(pair []json.RawMessage, field string) (int, error) {
		var id int
		if len(pair) != 2 || json.Unmarshal(pair[1], &id) != nil {
			return 0, fmt.Errorf("%s: post_processor.%s is not [token, id]", path, field)
		}
		return id, nil
	}
	switch c.Type {
	case "RobertaProcessing", "BertProcessing":
		if len(c.CLS) == 0 || len(c.SEP) == 0 {
			return nil, nil, fmt.Errorf("%s: %s needs cls and sep", path, c.Type)
		}
		cls, err := tokenID(c.CLS, "cls")
		if err != nil {
			return nil, nil, err
		}
		sep, err := tokenID(c.SEP, "sep")
		if err != nil {
			return nil, nil, err
		}
		return []int{cls}, []int{sep}, nil
	case "TemplateProcessing":
		seenSeq := false
		for _, item := range c.Single {
			var it struct {
				Sequence     *struct{ ID string } `json:"Sequence"`
				SpecialToken *struct{ ID string } `json:"SpecialToken"`
			}
			if err := json.Unmarshal(item, &it); err != nil {
				return nil, nil, fmt.Errorf("%s: post_processor.single: %w", path, err)
			}
			switch {
			case it.Sequence != nil:
				seenSeq = true
			case it.SpecialToken != nil:
				st, ok := c.SpecialTokens[it.SpecialToken.ID]
				if !ok {
					return nil, nil, fmt.Errorf("%s: post_processor: special token %q not defined", path, it.SpecialToken.ID)
				}
				if seenSeq {
					suffix = append(suffix, st.IDs...)
				} else {
					prefix = append(prefix, st.IDs...)
				}
			}
		}
		return prefix, suffix, nil
	case "Sequence":
		for _, sub := range c.Processors {
			p, s, err := parsePostProcessor(sub, path, t)
			if err != nil {
				return nil, nil, err
			}
			prefix, suffix = append(prefix, p...), append(s, suffix...)
		}
		return prefix, suffix, nil
	case "ByteLevel":
		return nil, nil, nil // offsets only
	}
	return nil, nil, unsupported(path, "post-processor type %q", c.Type)
}

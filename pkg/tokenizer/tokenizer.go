// Package tokenizer turns text into CLIP token ids exactly as the model's
// own tokenizer does (Hugging Face tokenizer.json, vocab.json + merges.txt,
// or OpenAI's bpe_simple_vocab_16e6.txt.gz), with transformers.js as the
// reference: normalization, pre-tokenization, byte-level BPE with the
// "</w>" end-of-word suffix, special tokens, truncation and padding.
//
// A Tokenizer is immutable after loading and safe for concurrent use.
package tokenizer

import (
	"fmt"
	"strings"
)

// Tokenizer encodes text into token ids for one model.
type Tokenizer struct {
	model      *bpeModel     // for Unigram tokenizers only the vocabulary (vocab, tokens)
	unigram    *unigramModel // set for Unigram tokenizers: encodes the words
	normalize  []normalizer
	preSteps   []preStep
	addedIDs   map[string]int // added-token content (and normalized content) → id
	rawAdded   []string       // added tokens matched in the raw text
	normAdded  []string       // added tokens matched after normalization
	strip      map[string]addedToken
	prefix     []int // ids the post-processor puts first (SOT)
	suffix     []int // ids the post-processor puts last (EOT)
	sot, eot   int
	contextLen int
	padID      int
	padTo      int    // fixed padding length the file asks for, 0 if none
	source     string // file the tokenizer was read from, for messages
}

// addedToken is a token matched as a whole in the text, never split by BPE.
type addedToken struct {
	content    string
	id         int
	normalized bool // matched in normalized text rather than raw text
	lstrip     bool
	rstrip     bool
}

// ContextLength is the model's maximum sequence length (77 for CLIP).
func (t *Tokenizer) ContextLength() int { return t.contextLen }

// PadID is the id used to pad sequences: the model's pad token for Hugging
// Face tokenizers (<|endoftext|> for CLIP), 0 for OpenAI's vocabulary.
func (t *Tokenizer) PadID() int { return t.padID }

// PadLength is the fixed length tokenizer.json's padding asks for
// (strategy Fixed, e.g. 64 for SigLIP, whose text tower pools the last
// position), 0 when it asks for none.
func (t *Tokenizer) PadLength() int { return t.padTo }

// ModelType is the tokenizer model's kind as tokenizer.json names it:
// "Unigram" (SentencePiece) or "BPE".
func (t *Tokenizer) ModelType() string {
	if t.unigram != nil {
		return "Unigram"
	}
	return "BPE"
}

// SOT is the start-of-text id, -1 if the tokenizer adds none.
func (t *Tokenizer) SOT() int { return t.sot }

// EOT is the end-of-text id, -1 if the tokenizer adds none.
func (t *Tokenizer) EOT() int { return t.eot }

// VocabSize is one more than the largest token id.
func (t *Tokenizer) VocabSize() int { return len(t.model.tokens) }

// Source names the file the tokenizer was loaded from.
func (t *Tokenizer) Source() string { return t.source }

// Encode returns SOT, the text's tokens, EOT; sequences longer than the
// context length lose tokens from the end of the text, never EOT. No
// padding.
func (t *Tokenizer) Encode(text string) []int {
	return t.encode(text, t.contextLen)
}

// EncodeAll is Encode without truncation.
func (t *Tokenizer) EncodeAll(text string) []int {
	return t.encode(text, -1)
}

// encode builds prefix + content + suffix; maxLen < 0 means no limit.
func (t *Tokenizer) encode(text string, maxLen int) []int {
	limit := -1
	if maxLen >= 0 {
		limit = max(maxLen-len(t.prefix)-len(t.suffix), 0)
	}
	out := make([]int, 0, 16)
	out = append(out, t.prefix...)
	out = t.appendContent(out, text, limit)
	return append(out, t.suffix...)
}

// EncodeBatch encodes every text and pads them to one length: padTo, or
// the longest sequence when padTo is 0. A sequence longer than padTo is
// cut to padTo keeping EOT last. mask is 1 for real tokens, 0 for padding.
func (t *Tokenizer) EncodeBatch(texts []string, padTo int) (ids [][]int, mask [][]int) {
	ids = make([][]int, len(texts))
	longest := 0
	for i, text := range texts {
		ids[i] = t.Encode(text)
		longest = max(longest, len(ids[i]))
	}
	width := padTo
	if width <= 0 {
		width = longest
	}
	mask = make([][]int, len(texts))
	for i, seq := range ids {
		if len(seq) > width {
			seq = t.cut(seq, width)
		}
		row := make([]int, width)
		m := make([]int, width)
		copy(row, seq)
		for j := range row {
			if j < len(seq) {
				m[j] = 1
			} else {
				row[j] = t.padID
			}
		}
		ids[i], mask[i] = row, m
	}
	return ids, mask
}

// cut shortens an encoded sequence to n ids, keeping the suffix (EOT).
func (t *Tokenizer) cut(seq []int, n int) []int {
	keep := min(len(t.suffix), n)
	out := make([]int, 0, n)
	out = append(out, seq[:n-keep]...)
	return append(out, seq[len(seq)-keep:]...)
}

// Tokens returns the vocabulary string of each id ("hello</w>", with
// bytes in GPT-2's byte-level alphabet); unknown ids read "<unk:ID>".
func (t *Tokenizer) Tokens(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if id >= 0 && id < len(t.model.tokens) && t.model.tokens[id] != "" {
			out[i] = t.model.tokens[id]
		} else {
			out[i] = fmt.Sprintf("<unk:%d>", id)
		}
	}
	return out
}

// ID returns the id of a vocabulary or added token.
func (t *Tokenizer) ID(token string) (int, bool) {
	if id, ok := t.addedIDs[token]; ok {
		return id, true
	}
	id, ok := t.model.vocab[token]
	return id, ok
}

// appendContent appends the ids of text (no special tokens from the
// post-processor), stopping once limit ids are there (limit < 0: never).
//
// The order follows transformers.js: added tokens that are not normalized
// are cut out of the raw text; each remaining section is normalized; added
// tokens that are normalized are cut out of that; what is left is
// pre-tokenized and encoded word by word.
func (t *Tokenizer) appendContent(out []int, text string, limit int) []int {
	start := len(out)
	full := func() bool { return limit >= 0 && len(out)-start >= limit }
	// atStart: nothing of the text came before this section (Metaspace's
	// prepend_scheme "first" prefixes only there).
	atStart := true
	t.splitAdded(text, t.rawAdded, func(section string, isAdded bool) bool {
		first := atStart
		atStart = false
		if isAdded {
			out = append(out, t.addedIDs[section])
			return !full()
		}
		if id, ok := t.addedIDs[section]; ok {
			out = append(out, id)
			return !full()
		}
		for _, n := range t.normalize {
			section = n(section)
		}
		if section == "" {
			return true
		}
		keepGoing := true
		t.splitAdded(section, t.normAdded, func(sub string, isAdded bool) bool {
			subFirst := first
			first = false
			if id, ok := t.addedIDs[sub]; ok {
				out = append(out, id)
				keepGoing = !full()
				return keepGoing
			}
			t.preTokenize(sub, subFirst, func(word string) bool {
				if t.unigram != nil {
					out = t.unigram.appendWord(out, word)
				} else {
					out = t.model.appendWord(out, word)
				}
				keepGoing = !full()
				return keepGoing
			})
			return keepGoing
		})
		return keepGoing
	})
	if limit >= 0 && len(out)-start > limit {
		out = out[:start+limit]
	}
	return out
}

// preTokenize runs the pre-tokenizer steps over s and calls word for each
// final piece until it returns false. atStart says s begins the text; after
// a step, only the first piece cut from it still does.
func (t *Tokenizer) preTokenize(s string, atStart bool, word func(string) bool) {
	if len(t.preSteps) == 0 {
		word(s)
		return
	}
	pieces := []string{s}
	for _, step := range t.preSteps {
		next := make([]string, 0, len(pieces)*2)
		for i, p := range pieces {
			step(p, atStart && i == 0, func(q string) {
				if q != "" {
					next = append(next, q)
				}
			})
		}
		pieces = next
	}
	for _, p := range pieces {
		if !word(p) {
			return
		}
	}
}

// splitAdded cuts s at every occurrence of the tokens (leftmost, then
// longest, as transformers.js's DictionarySplitter does) and calls fn with
// the sections in order, until fn returns false. lstrip/rstrip tokens trim
// the whitespace of their neighbours.
func (t *Tokenizer) splitAdded(s string, tokens []string, fn func(section string, isAdded bool) bool) {
	if len(tokens) == 0 {
		fn(s, false)
		return
	}
	type section struct {
		text    string
		isAdded bool
	}
	var sections []section
	// next[k] is where tokens[k] next occurs at or after pos (-1: never),
	// so each token is searched for with strings.Index rather than tried
	// at every byte.
	next := make([]int, len(tokens))
	for k, tok := range tokens {
		next[k] = strings.Index(s, tok)
	}
	last := 0
	for pos := 0; ; {
		at, match := -1, ""
		for k, tok := range tokens {
			if next[k] >= 0 && next[k] < pos {
				if i := strings.Index(s[pos:], tok); i >= 0 {
					next[k] = pos + i
				} else {
					next[k] = -1
				}
			}
			if n := next[k]; n >= 0 && (at < 0 || n < at || n == at && len(tok) > len(match)) {
				at, match = n, tok
			}
		}
		if at < 0 {
			break
		}
		if at > last {
			sections = append(sections, section{s[last:at], false})
		}
		sections = append(sections, section{match, true})
		pos = at + len(match)
		last = pos
	}
	if last < len(s) {
		sections = append(sections, section{s[last:], false})
	}
	if len(t.strip) > 0 {
		for i, sec := range sections {
			at, ok := t.strip[sec.text]
			if !sec.isAdded || !ok {
				continue
			}
			if at.lstrip && i > 0 && !sections[i-1].isAdded {
				sections[i-1].text = strings.TrimRightFunc(sections[i-1].text, isJSWhiteSpace)
			}
			if at.rstrip && i+1 < len(sections) && !sections[i+1].isAdded {
				sections[i+1].text = strings.TrimLeftFunc(sections[i+1].text, isJSWhiteSpace)
			}
		}
	}
	for _, sec := range sections {
		if sec.text == "" {
			continue
		}
		if !fn(sec.text, sec.isAdded) {
			return
		}
	}
}

// Truncate shortens an encoded sequence to at most n ids, dropping text
// tokens from the end and keeping the post-processor's closing tokens
// (EOT, </s>), as the tokenizers library's truncation does.
func (t *Tokenizer) Truncate(ids []int, n int) []int {
	if len(ids) <= n {
		return ids
	}
	return t.cut(ids, n)
}

package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// preStep is one pre-tokenizer: it cuts a piece of normalized text into
// smaller pieces, each of which the BPE model encodes as one word. atStart
// says the piece begins the text (no added token or other piece before
// it), which Metaspace's prepend_scheme "first" asks.
type preStep func(piece string, atStart bool, emit func(string))

// splitBehavior says what a Split pre-tokenizer keeps.
type splitBehavior int

const (
	keepMatches splitBehavior = iota // invert: true — the matches are the pieces
	keepGaps                         // "Removed": the text between matches
	keepBoth                         // "Isolated": matches and gaps, in order
)

func splitStep(p *pattern, keep splitBehavior) preStep {
	return func(s string, _ bool, emit func(string)) {
		last := 0
		p.findAll(s, func(start, end int) {
			if keep != keepMatches && start > last {
				emit(s[last:start])
			}
			if keep != keepGaps {
				emit(s[start:end])
			}
			last = end
		})
		if keep != keepMatches && last < len(s) {
			emit(s[last:])
		}
	}
}

// byteLevelStep is the ByteLevel pre-tokenizer. The byte → symbol mapping
// itself happens in the BPE model; here only the optional prefix space and
// GPT-2's split (use_regex) are applied.
func byteLevelStep(addPrefixSpace, useRegex bool) preStep {
	return func(s string, _ bool, emit func(string)) {
		if addPrefixSpace && !strings.HasPrefix(s, " ") {
			s = " " + s
		}
		if useRegex {
			gpt2Split(s, emit)
			return
		}
		emit(s)
	}
}

// Character kinds of GPT-2's split pattern.
const (
	kindLetter = iota // \p{L}
	kindNumber        // \p{N}
	kindSpace         // JavaScript's \s
	kindOther         // [^\s\p{L}\p{N}]
)

func runeKind(r rune) int {
	if r < utf8.RuneSelf {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			return kindLetter
		case r >= '0' && r <= '9':
			return kindNumber
		case r == ' ' || r >= '\t' && r <= '\r':
			return kindSpace
		}
		return kindOther
	}
	switch {
	case unicode.IsLetter(r):
		return kindLetter
	case unicode.IsNumber(r):
		return kindNumber
	case isJSWhiteSpace(r):
		return kindSpace
	}
	return kindOther
}

// gpt2Split implements, by hand and without backtracking, the pattern
// transformers.js hard-codes for ByteLevel's use_regex:
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// with JavaScript's \s (which, unlike Unicode White_Space, includes
// U+FEFF and excludes U+0085).
func gpt2Split(s string, emit func(string)) {
	for i := 0; i < len(s); {
		r, _ := utf8.DecodeRuneInString(s[i:])
		if r == '\'' {
			if n := contractionLen(s[i:]); n > 0 {
				emit(s[i : i+n])
				i += n
				continue
			}
		}
		start, runStart, kind := i, i, runeKind(r)
		if r == ' ' && i+1 < len(s) {
			r2, _ := utf8.DecodeRuneInString(s[i+1:])
			if k := runeKind(r2); k != kindSpace {
				runStart, kind = i+1, k
			}
		}
		end := runEnd(s, runStart, kind)
		if kind == kindSpace && end < len(s) {
			// \s+(?!\S): leave the last space for the word that follows;
			// a single space that cannot do so is matched by \s+.
			_, lastSize := utf8.DecodeLastRuneInString(s[start:end])
			if end-lastSize > start {
				end -= lastSize
			}
		}
		emit(s[start:end])
		i = end
	}
}

// runEnd returns the end of the run of runes of kind starting at i.
func runEnd(s string, i, kind int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if runeKind(r) != kind {
			break
		}
		i += size
	}
	return i
}

// contractionLen matches 's|'t|'re|'ve|'m|'ll|'d at the start of s.
func contractionLen(s string) int {
	if len(s) < 2 {
		return 0
	}
	switch s[1] {
	case 's', 't', 'm', 'd':
		return 2
	case 'r', 'v':
		if len(s) >= 3 && s[2] == 'e' {
			return 3
		}
	case 'l':
		if len(s) >= 3 && s[2] == 'l' {
			return 3
		}
	}
	return 0
}

// prependScheme is when Metaspace puts a replacement in front of a piece.
type prependScheme int

const (
	prependNever  prependScheme = iota
	prependAlways               // every piece (the older add_prefix_space: true)
	prependFirst                // only the piece that begins the text, not one after an added token
)

// metaspaceStep is the Metaspace pre-tokenizer: spaces become the
// replacement ("▁"), one is put in front unless the piece starts with one
// (as the prepend scheme says), and with split each "▁" starts a new piece.
func metaspaceStep(replacement string, prepend prependScheme, split bool) preStep {
	return func(s string, atStart bool, emit func(string)) {
		s = strings.ReplaceAll(s, " ", replacement)
		if (prepend == prependAlways || prepend == prependFirst && atStart) && !strings.HasPrefix(s, replacement) {
			s = replacement + s
		}
		if !split {
			emit(s)
			return
		}
		start := 0
		for from := 0; from < len(s); {
			i := strings.Index(s[from:], replacement)
			if i < 0 {
				break
			}
			if at := from + i; at > start {
				emit(s[start:at])
				start = at
			}
			from += i + len(replacement)
		}
		emit(s[start:])
	}
}

// whitespaceSplitStep is the WhitespaceSplit pre-tokenizer: pieces are
// the runs of non-whitespace (Unicode White_Space, as Rust's
// char::is_whitespace).
func whitespaceSplitStep(s string, _ bool, emit func(string)) {
	for _, f := range strings.FieldsFunc(s, isWhiteSpace) {
		emit(f)
	}
}

package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer is one step of a tokenizer.json normalizer sequence.
type normalizer func(string) string

func normalizeNFC(s string) string  { return norm.NFC.String(s) }
func normalizeNFD(s string) string  { return norm.NFD.String(s) }
func normalizeNFKC(s string) string { return norm.NFKC.String(s) }
func normalizeNFKD(s string) string { return norm.NFKD.String(s) }

// collapseWhitespace replaces every run of Unicode White_Space with one
// space: CLIP's `\s+` → " " normalizer without a regex.
func collapseWhitespace(s string) string {
	if !needsCollapse(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	inSpace := false
	for _, r := range s {
		if isWhiteSpace(r) {
			if !inSpace {
				b.WriteByte(' ')
			}
			inSpace = true
			continue
		}
		inSpace = false
		b.WriteRune(r)
	}
	return b.String()
}

// needsCollapse reports whether s has whitespace other than lone spaces.
func needsCollapse(s string) bool {
	prevSpace := false
	for _, r := range s {
		if !isWhiteSpace(r) {
			prevSpace = false
			continue
		}
		if r != ' ' || prevSpace {
			return true
		}
		prevSpace = true
	}
	return false
}

// isWhiteSpace is Unicode's White_Space property, which is what \s means
// in the Hugging Face tokenizers library and in transformers.js's
// rewritten tokenizer.json patterns.
func isWhiteSpace(r rune) bool {
	if r < 0x80 {
		return r == ' ' || r >= '\t' && r <= '\r'
	}
	return unicode.Is(unicode.White_Space, r)
}

// isJSWhiteSpace is JavaScript's \s (and what String.prototype.trim
// removes): White_Space without U+0085, plus U+FEFF. transformers.js's
// byte-level split uses a hard-coded pattern with this \s.
func isJSWhiteSpace(r rune) bool {
	if r == 0xFEFF {
		return true
	}
	if r == 0x85 {
		return false
	}
	return isWhiteSpace(r)
}

// lowercase is the full Unicode lowercase mapping of String.prototype.toLowerCase
// (what transformers.js's Lowercase normalizer calls, and what Rust's
// str::to_lowercase does): the simple mappings, plus U+0130 → "i̇" and
// the context-dependent final sigma, which Go's strings.ToLower lacks.
func lowercase(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
		case r == 0x130: // LATIN CAPITAL LETTER I WITH DOT ABOVE
			b.WriteString("i\u0307")
		case r == 0x3A3: // GREEK CAPITAL LETTER SIGMA
			if isFinalSigma(s, i) {
				b.WriteRune(0x3C2)
			} else {
				b.WriteRune(0x3C3)
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// isFinalSigma applies Unicode's Final_Sigma condition to the capital sigma
// at byte offset i: a cased letter before it (skipping case-ignorable
// characters) and none after it.
func isFinalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if isCaseIgnorable(r) {
			continue
		}
		before = isCased(r)
		break
	}
	if !before {
		return false
	}
	for j := i + 2; j < len(s); { // Σ is two bytes in UTF-8
		r, size := utf8.DecodeRuneInString(s[j:])
		j += size
		if isCaseIgnorable(r) {
			continue
		}
		return !isCased(r)
	}
	return true
}

// isCased is Unicode's Cased property.
func isCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// isCaseIgnorable is Unicode's Case_Ignorable property: marks, format
// characters, modifier letters and symbols, and the Word_Break classes
// MidLetter, MidNumLet and Single_Quote.
func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

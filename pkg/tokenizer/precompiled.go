package tokenizer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// precompiledCharsmap is SentencePiece's precompiled normalization rules
// (normalizer_spec.precompiled_charsmap, the "Precompiled" normalizer of
// tokenizer.json): a little-endian uint32 giving the size of a
// darts-clone double-array trie, the trie's 32-bit units, then a blob of
// NUL-terminated replacement strings. The trie maps UTF-8 byte sequences
// to offsets into the blob.
type precompiledCharsmap struct {
	units       []uint32
	replacement []byte
}

// maxTrieResults bounds the prefix matches considered at one position, as
// SentencePiece's kMaxTrieResultsSize does.
const maxTrieResults = 32

func parsePrecompiledCharsmap(data []byte) (*precompiledCharsmap, error) {
	if len(data) < 4 {
		return nil, errors.New("precompiled_charsmap shorter than its 4-byte header")
	}
	size := binary.LittleEndian.Uint32(data)
	rest := data[4:]
	if size%4 != 0 || uint64(size) > uint64(len(rest)) || size == 0 {
		return nil, fmt.Errorf("precompiled_charsmap trie size %d does not fit its %d bytes", size, len(rest))
	}
	c := &precompiledCharsmap{units: make([]uint32, size/4), replacement: rest[size:]}
	for i := range c.units {
		c.units[i] = binary.LittleEndian.Uint32(rest[4*i:])
	}
	return c, nil
}

// darts-clone unit fields.
func dartsHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func dartsValue(u uint32) uint32  { return u & (1<<31 - 1) }
func dartsLabel(u uint32) uint32  { return u & (1<<31 | 0xFF) }
func dartsOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }
func (c *precompiledCharsmap) unit(pos uint32) (uint32, bool) {
	if int(pos) >= len(c.units) {
		return 0, false
	}
	return c.units[pos], true
}

// longestPrefix returns the value and length of the longest key that is a
// prefix of s among the first maxTrieResults matches (length 0: none), as
// darts-clone's commonPrefixSearch feeds SentencePiece's NormalizePrefix.
func (c *precompiledCharsmap) longestPrefix(s string) (value uint32, length int) {
	u, ok := c.unit(0)
	if !ok {
		return 0, 0
	}
	pos := dartsOffset(u)
	found := 0
	for i := 0; i < len(s); i++ {
		b := uint32(s[i])
		pos ^= b
		if u, ok = c.unit(pos); !ok || dartsLabel(u) != b {
			break
		}
		pos ^= dartsOffset(u)
		if dartsHasLeaf(u) {
			leaf, ok := c.unit(pos)
			if !ok {
				break
			}
			if found < maxTrieResults {
				value, length = dartsValue(leaf), i+1
			}
			found++
		}
	}
	return value, length
}

// normalize applies the rules as SentencePiece's Normalizer does, one
// prefix at a time: the longest rule matching at the current position
// replaces the bytes it matched; where none matches, a valid character is
// kept and an invalid UTF-8 byte becomes U+FFFD. Whitespace handling
// (removing extra spaces, the dummy prefix, "▁") is not part of the
// charsmap: tokenizer.json does it with Strip, Replace and Metaspace.
func (c *precompiledCharsmap) normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for len(s) > 0 {
		value, n := c.longestPrefix(s)
		if n > 0 {
			if rep, ok := c.replacementAt(value); ok {
				b.WriteString(rep)
				s = s[n:]
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size <= 1 {
			b.WriteString("\uFFFD")
			s = s[1:]
			continue
		}
		b.WriteString(s[:size])
		s = s[size:]
	}
	return b.String()
}

// replacementAt is the NUL-terminated string at offset off of the blob.
func (c *precompiledCharsmap) replacementAt(off uint32) (string, bool) {
	if int(off) >= len(c.replacement) {
		return "", false
	}
	rest := c.replacement[off:]
	if end := bytes.IndexByte(rest, 0); end >= 0 {
		rest = rest[:end]
	}
	return string(rest), true
}

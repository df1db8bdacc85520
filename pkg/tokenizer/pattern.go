package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pattern is the small regular-expression subset that tokenizer files use
// for splitting and replacing: a top-level alternation whose branches are
// sequences of literal characters and character classes, where only the
// last item of a branch may carry "+" or "*". CLIP's split pattern
//
//	's|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// and the normalizer's \s+ are in this subset. Within it, leftmost-first
// alternation with a greedy final repeat never needs to backtrack, so
// finding every match is linear in the input, unlike a general engine
// on hostile input. \s means Unicode White_Space, as in the Hugging Face
// tokenizers library and transformers.js (not RE2's ASCII \s).
type pattern struct {
	source   string
	branches [][]patternItem
}

type patternItem struct {
	literal rune // used when class is nil
	class   *charClass
	repeat  byte // 0, '+' or '*'
}

// charClass is a set of code points: the union of items, maybe negated.
type charClass struct {
	negated bool
	ranges  []rune // pairs lo, hi
	tables  []*unicode.RangeTable
	notTabs []*unicode.RangeTable // \P{...} and \S inside a class
}

func (c *charClass) matches(r rune) bool {
	in := false
	for i := 0; i+1 < len(c.ranges) && !in; i += 2 {
		in = r >= c.ranges[i] && r <= c.ranges[i+1]
	}
	for _, t := range c.tables {
		if in {
			break
		}
		in = unicode.Is(t, r)
	}
	for _, t := range c.notTabs {
		if in {
			break
		}
		in = !unicode.Is(t, r)
	}
	return in != c.negated
}

func (it *patternItem) matches(r rune) bool {
	if it.class != nil {
		return it.class.matches(r)
	}
	return r == it.literal
}

// compilePattern parses src, or says why it is outside the subset.
func compilePattern(src string) (*pattern, error) {
	p := &pattern{source: src}
	var branch []patternItem
	i := 0
	for i < len(src) {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch r {
		case '|':
			p.branches = append(p.branches, branch)
			branch = nil
			i += size
			continue
		case '+', '*':
			if len(branch) == 0 || branch[len(branch)-1].repeat != 0 {
				return nil, fmt.Errorf("regex %q: %q at offset %d repeats nothing", src, r, i)
			}
			branch[len(branch)-1].repeat = byte(r)
			i += size
			continue
		case '(', ')', '?', '{', '.', '^', '$':
			return nil, fmt.Errorf("regex %q: %q at offset %d is not supported (only alternations of literals and character classes)", src, r, i)
		case '[':
			class, n, err := parseClass(src, i)
			if err != nil {
				return nil, err
			}
			branch = append(branch, patternItem{class: class})
			i += n
			continue
		case '\\':
			item, n, err := parseEscape(src, i, false)
			if err != nil {
				return nil, err
			}
			branch = append(branch, item)
			i += n
			continue
		}
		branch = append(branch, patternItem{literal: r})
		i += size
	}
	p.branches = append(p.branches, branch)
	for bi, b := range p.branches {
		if len(b) == 0 {
			return nil, fmt.Errorf("regex %q: alternative %d is empty", src, bi+1)
		}
		for k, it := range b {
			if it.repeat != 0 && k != len(b)-1 {
				return nil, fmt.Errorf("regex %q: a repeat is only supported on the last item of an alternative", src)
			}
		}
		if len(b) == 1 && b[0].repeat == '*' {
			return nil, fmt.Errorf("regex %q: alternative %d can match the empty string", src, bi+1)
		}
	}
	return p, nil
}

// parseEscape reads the escape at src[i] ('\\'); inClass allows only what
// a class may hold. It returns a literal or a class item.
func parseEscape(src string, i int, inClass bool) (patternItem, int, error) {
	if i+1 >= len(src) {
		return patternItem{}, 0, fmt.Errorf("regex %q: trailing backslash", src)
	}
	c := src[i+1]
	switch c {
	case 's':
		return patternItem{class: &charClass{tables: []*unicode.RangeTable{unicode.White_Space}}}, 2, nil
	case 'S':
		return patternItem{class: &charClass{notTabs: []*unicode.RangeTable{unicode.White_Space}}}, 2, nil
	case 'd':
		return patternItem{class: &charClass{tables: []*unicode.RangeTable{unicode.Nd}}}, 2, nil
	case 'D':
		return patternItem{class: &charClass{notTabs: []*unicode.RangeTable{unicode.Nd}}}, 2, nil
	case 'n':
		return patternItem{literal: '\n'}, 2, nil
	case 'r':
		return patternItem{literal: '\r'}, 2, nil
	case 't':
		return patternItem{literal: '\t'}, 2, nil
	case 'f':
		return patternItem{literal: '\f'}, 2, nil
	case 'v':
		return patternItem{literal: '\v'}, 2, nil
	case 'p', 'P':
		if i+2 >= len(src) || src[i+2] != '{' {
			return patternItem{}, 0, fmt.Errorf("regex %q: \\%c at offset %d needs {Name}", src, c, i)
		}
		end := strings.IndexByte(src[i+3:], '}')
		if end < 0 {
			return patternItem{}, 0, fmt.Errorf("regex %q: unterminated \\%c{ at offset %d", src, c, i)
		}
		name := src[i+3 : i+3+end]
		t := unicodeTable(name)
		if t == nil {
			return patternItem{}, 0, fmt.Errorf("regex %q: unknown Unicode property %q", src, name)
		}
		cls := &charClass{}
		if c == 'p' {
			cls.tables = []*unicode.RangeTable{t}
		} else {
			cls.notTabs = []*unicode.RangeTable{t}
		}
		return patternItem{class: cls}, 3 + end + 1, nil
	}
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return patternItem{}, 0, fmt.Errorf("regex %q: escape \\%c at offset %d is not supported", src, c, i)
	}
	r, size := utf8.DecodeRuneInString(src[i+1:])
	return patternItem{literal: r}, 1 + size, nil
}

// unicodeTable finds a general category, script or property by name.
func unicodeTable(name string) *unicode.RangeTable {
	name = strings.TrimPrefix(strings.TrimPrefix(name, "Script="), "sc=")
	switch name {
	case "Letter":
		name = "L"
	case "Number":
		name = "N"
	case "Punctuation":
		name = "P"
	case "Mark":
		name = "M"
	case "Symbol":
		name = "S"
	}
	if t, ok := unicode.Categories[name]; ok {
		return t
	}
	if t, ok := unicode.Scripts[name]; ok {
		return t
	}
	if t, ok := unicode.Properties[name]; ok {
		return t
	}
	return nil
}

// parseClass reads the bracket expression starting at src[i] ('[').
func parseClass(src string, i int) (*charClass, int, error) {
	start := i
	i++
	cls := &charClass{}
	if i < len(src) && src[i] == '^' {
		cls.negated = true
		i++
	}
	first := true
	for {
		if i >= len(src) {
			return nil, 0, fmt.Errorf("regex %q: unterminated [ at offset %d", src, start)
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		if r == ']' && !first {
			return cls, i + 1 - start, nil
		}
		first = false
		var lo rune
		switch r {
		case '[':
			return nil, 0, fmt.Errorf("regex %q: nested classes are not supported (offset %d)", src, i)
		case '\\':
			item, n, err := parseEscape(src, i, true)
			if err != nil {
				return nil, 0, err
			}
			i += n
			if item.class != nil {
				cls.tables = append(cls.tables, item.class.tables...)
				cls.notTabs = append(cls.notTabs, item.class.notTabs...)
				continue
			}
			lo = item.literal
		default:
			lo = r
			i += size
		}
		hi := lo
		if i+1 < len(src) && src[i] == '-' && src[i+1] != ']' {
			i++
			r2, size2 := utf8.DecodeRuneInString(src[i:])
			if r2 == '\\' {
				item, n, err := parseEscape(src, i, true)
				if err != nil || item.class != nil {
					return nil, 0, fmt.Errorf("regex %q: bad range end at offset %d", src, i)
				}
				r2, size2 = item.literal, n
			}
			hi = r2
			i += size2
			if hi < lo {
				return nil, 0, fmt.Errorf("regex %q: range out of order at offset %d", src, i)
			}
		}
		cls.ranges = append(cls.ranges, lo, hi)
	}
}

// matchAt returns the end of the leftmost-first match starting at byte
// offset i of s, or -1 if no alternative matches there.
func (p *pattern) matchAt(s string, i int) int {
	for _, b := range p.branches {
		if end := matchBranch(b, s, i); end >= 0 {
			return end
		}
	}
	return -1
}

func matchBranch(b []patternItem, s string, i int) int {
	for k := range b {
		it := &b[k]
		if it.repeat == 0 || it.repeat == '+' {
			if i >= len(s) {
				return -1
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if !it.matches(r) {
				return -1
			}
			i += size
		}
		if it.repeat != 0 {
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if !it.matches(r) {
					break
				}
				i += size
			}
		}
	}
	return i
}

// findAll calls fn with the byte offsets of every non-overlapping match,
// scanning left to right as a regex global match does.
func (p *pattern) findAll(s string, fn func(start, end int)) {
	for i := 0; i < len(s); {
		if end := p.matchAt(s, i); end > i {
			fn(i, end)
			i = end
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
}

// replaceAll replaces every match with repl.
func (p *pattern) replaceAll(s, repl string) string {
	var b strings.Builder
	last, matched := 0, false
	p.findAll(s, func(start, end int) {
		matched = true
		b.WriteString(s[last:start])
		b.WriteString(repl)
		last = end
	})
	if !matched {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

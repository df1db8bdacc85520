package tokenizer

import (
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
)

// unigramModel is a SentencePiece Unigram model: pieces with
// log-probabilities, segmented by Viterbi (the most probable sequence of
// pieces), as the Hugging Face tokenizers library's Unigram model does.
type unigramModel struct {
	scores []float64 // by id
	unk    int
	// unkScore is what an unknown character costs: the lowest piece score
	// minus 10 (SentencePiece's kUnkPenalty).
	unkScore float64
	// byteIDs are the ids of the "<0xNN>" pieces when byte fallback is on
	// and all 256 exist, else nil: unknown text then becomes its UTF-8
	// bytes instead of the unknown piece.
	byteIDs []int
	trie    pieceTrie
}

// unkPenalty is SentencePiece's kUnkPenalty.
const unkPenalty = 10

func newUnigramModel(pieces []string, scores []float64, unk int, byteFallback bool) *unigramModel {
	m := &unigramModel{scores: scores, unk: unk, trie: newPieceTrie()}
	minScore := math.Inf(1)
	for id, p := range pieces {
		minScore = min(minScore, scores[id])
		m.trie.insert(p, int32(id))
	}
	m.trie.freeze()
	m.unkScore = minScore - unkPenalty
	if byteFallback {
		ids := make([]int, 256)
		for b := range ids {
			id, ok := m.trie.lookup(fmt.Sprintf("<0x%02X>", b))
			if !ok {
				ids = nil
				break
			}
			ids[b] = int(id)
		}
		m.byteIDs = ids
	}
	return m
}

// bestPath is the best segmentation of a word's prefix ending at a byte
// offset: the last piece's id and start, and the total score.
type bestPath struct {
	id    int32
	start int32 // -1: not reached
	score float64
}

// appendWord appends the ids of one pre-tokenized word. Runs of unknown
// characters become one unknown piece (or their bytes with byte fallback),
// as in SentencePiece and the tokenizers library (fuse_unk).
func (m *unigramModel) appendWord(out []int, word string) []int {
	if word == "" {
		return out
	}
	var stack [64]bestPath // most words fit: no allocation
	best := stack[:0]
	if len(word)+1 > len(stack) {
		best = make([]bestPath, 0, len(word)+1)
	}
	best = best[:len(word)+1]
	best[0] = bestPath{}
	for i := 1; i <= len(word); i++ {
		best[i] = bestPath{start: -1}
	}
	for pos := 0; pos < len(word); {
		_, charLen := utf8.DecodeRuneInString(word[pos:])
		here := best[pos].score
		single := false
		m.trie.prefixes(word[pos:], func(n int, id int32) {
			end := pos + n
			cand := here + m.scores[id]
			if t := &best[end]; t.start < 0 || cand > t.score {
				*t = bestPath{id: id, start: int32(pos), score: cand}
			}
			if n == charLen {
				single = true
			}
		})
		if !single {
			end := pos + charLen
			cand := here + m.unkScore
			if t := &best[end]; t.start < 0 || cand > t.score {
				*t = bestPath{id: int32(m.unk), start: int32(pos), score: cand}
			}
		}
		pos += charLen
	}
	// Backtrack into a reversed list of (id, start, end), fusing unknowns.
	type piece struct{ id, start, end int }
	var revStack [32]piece
	rev := revStack[:0]
	for end := len(word); end > 0; {
		b := best[end]
		if b.start < 0 {
			return append(out, m.unk) // cannot happen: every character has a path
		}
		p := piece{int(b.id), int(b.start), end}
		if p.id == m.unk && len(rev) > 0 && rev[len(rev)-1].id == m.unk {
			rev[len(rev)-1].start = p.start
		} else {
			rev = append(rev, p)
		}
		end = p.start
	}
	for i := len(rev) - 1; i >= 0; i-- {
		p := rev[i]
		if p.id == m.unk && m.byteIDs != nil {
			for j := p.start; j < p.end; j++ {
				out = append(out, m.byteIDs[word[j]])
			}
			continue
		}
		out = append(out, p.id)
	}
	return out
}

// pieceTrie finds every piece that is a prefix of a string. Node 0 is the
// root. While building, edges live in a map keyed by (node, byte); freeze
// turns them into per-node sorted label lists, which prefix search scans
// without hashing.
type pieceTrie struct {
	building map[uint64]int32 // node<<8 | byte → child node, until freeze
	ids      []int32          // node → piece id, -1 if no piece ends there
	first    []int32          // node → index of its first edge in labels/children; first[n+1] ends it
	labels   []byte
	children []int32
}

func newPieceTrie() pieceTrie {
	return pieceTrie{building: make(map[uint64]int32), ids: []int32{-1}}
}

func (t *pieceTrie) insert(piece string, id int32) {
	node := int32(0)
	for i := 0; i < len(piece); i++ {
		k := uint64(node)<<8 | uint64(piece[i])
		child, ok := t.building[k]
		if !ok {
			child = int32(len(t.ids))
			t.ids = append(t.ids, -1)
			t.building[k] = child
		}
		node = child
	}
	t.ids[node] = id // a repeated piece keeps its last id, as the vocabulary maps do
}

// freeze lays the edges out by node, each node's sorted by label.
func (t *pieceTrie) freeze() {
	count := make([]int32, len(t.ids)+1)
	for k := range t.building {
		count[k>>8+1]++
	}
	t.first = make([]int32, len(t.ids)+1)
	for n := 1; n <= len(t.ids); n++ {
		t.first[n] = t.first[n-1] + count[n]
	}
	t.labels = make([]byte, len(t.building))
	t.children = make([]int32, len(t.building))
	fill := slices.Clone(t.first[:len(t.ids)])
	for b := 0; b < 256; b++ { // labels in order, so each node's list comes out sorted
		for n := range t.ids {
			if child, ok := t.building[uint64(n)<<8|uint64(b)]; ok {
				t.labels[fill[n]], t.children[fill[n]] = byte(b), child
				fill[n]++
			}
		}
	}
	t.building = nil
}

func (t *pieceTrie) child(node int32, b byte) (int32, bool) {
	lo, end := t.first[node], t.first[node+1]
	for hi := end; hi-lo > 8; { // narrow to the first label ≥ b
		mid := int32(uint32(lo+hi) >> 1)
		if t.labels[mid] < b {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for ; lo < end; lo++ {
		if l := t.labels[lo]; l >= b {
			return t.children[lo], l == b
		}
	}
	return 0, false
}

func (t *pieceTrie) lookup(piece string) (int32, bool) {
	found := int32(-1)
	t.prefixes(piece, func(n int, id int32) {
		if n == len(piece) {
			found = id
		}
	})
	return found, found >= 0
}

// prefixes calls fn with the length and id of each piece that is a
// prefix of s, shortest first.
func (t *pieceTrie) prefixes(s string, fn func(n int, id int32)) {
	node := int32(0)
	for i := 0; i < len(s); i++ {
		child, ok := t.child(node, s[i])
		if !ok {
			return
		}
		node = child
		if id := t.ids[node]; id >= 0 {
			fn(i+1, id)
		}
	}
}

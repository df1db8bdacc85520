package tokenizer

import (
	"fmt"
	"math"
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
	best := make([]bestPath, len(word)+1)
	for i := 1; i <= len(word); i++ {
		best[i].start = -1
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
	var rev []piece
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
// root; edges are kept in one map keyed by (node, byte).
type pieceTrie struct {
	next map[uint64]int32 // node<<8 | byte → child node
	ids  []int32          // node → piece id, -1 if no piece ends there
}

func newPieceTrie() pieceTrie {
	return pieceTrie{next: make(map[uint64]int32), ids: []int32{-1}}
}

func (t *pieceTrie) insert(piece string, id int32) {
	node := int32(0)
	for i := 0; i < len(piece); i++ {
		k := uint64(node)<<8 | uint64(piece[i])
		child, ok := t.next[k]
		if !ok {
			child = int32(len(t.ids))
			t.ids = append(t.ids, -1)
			t.next[k] = child
		}
		node = child
	}
	t.ids[node] = id // a repeated piece keeps its last id, as the vocabulary maps do
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
		child, ok := t.next[uint64(node)<<8|uint64(s[i])]
		if !ok {
			return
		}
		node = child
		if id := t.ids[node]; id >= 0 {
			fn(i+1, id)
		}
	}
}

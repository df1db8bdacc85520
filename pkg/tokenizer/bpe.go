package tokenizer

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"unicode/utf8"
)

// bpeModel is a byte-pair-encoding model: a vocabulary and ranked merges.
//
// Symbols are int32: vocabulary ids for tokens in the vocabulary, and
// ids past the vocabulary for strings that only appear as halves of a
// merge (they can merge further but come out as the unknown token, as in
// transformers.js). A symbol of -1 can never merge.
type bpeModel struct {
	vocab  map[string]int // model vocabulary, token → id
	tokens []string       // id → token (model vocabulary and added tokens)
	numIDs int            // ids below this are real token ids

	merges map[uint64]merge // (left, right) → rank and result
	suffix string           // end-of-word suffix appended to a word's last symbol ("</w>")
	unk    int              // unknown token id, -1 if none
	// ignoreMerges: a whole word already in the vocabulary is one token.
	ignoreMerges bool
	// fuseUnk: a run of unknown symbols in a word is one unknown token
	// (SentencePiece BPE conversions: NLLB, Llama).
	fuseUnk bool

	byteLevel  bool
	byteSym    [256]int32 // byte-level symbol of each byte
	byteSymEnd [256]int32 // the same with the end-of-word suffix
	syms       map[string]int32

	cache *bpeCache
}

type merge struct {
	rank   int32
	result int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// newBPEModel builds the model; merges are in rank order.
func newBPEModel(vocab map[string]int, merges [][2]string, suffix string, unk int, byteLevel bool) *bpeModel {
	maxID := -1
	for _, id := range vocab {
		if id > maxID {
			maxID = id
		}
	}
	m := &bpeModel{
		vocab:     vocab,
		numIDs:    maxID + 1,
		merges:    make(map[uint64]merge, len(merges)),
		suffix:    suffix,
		unk:       unk,
		byteLevel: byteLevel,
		syms:      make(map[string]int32, len(vocab)+16),
		cache:     newBPECache(),
	}
	m.tokens = make([]string, m.numIDs)
	for tok, id := range vocab {
		if id >= 0 {
			m.tokens[id] = tok
			m.syms[tok] = int32(id)
		}
	}
	next := int32(m.numIDs)
	intern := func(s string) int32 {
		if id, ok := m.syms[s]; ok {
			return id
		}
		m.syms[s] = next
		next++
		return next - 1
	}
	for rank, mg := range merges {
		a, b := intern(mg[0]), intern(mg[1])
		// A repeated merge keeps its last rank, as the map building in
		// transformers.js and in the tokenizers library does.
		m.merges[pairKey(a, b)] = merge{rank: int32(rank), result: intern(mg[0] + mg[1])}
	}
	if byteLevel {
		for b := 0; b < 256; b++ {
			ch := string(byteToRune[b])
			m.byteSym[b] = m.symbol(ch)
			m.byteSymEnd[b] = m.symbol(ch + suffix)
		}
	}
	return m
}

func (m *bpeModel) symbol(s string) int32 {
	if id, ok := m.syms[s]; ok {
		return id
	}
	return -1
}

// byteToRune is GPT-2's reversible byte → printable character table:
// printable Latin-1 bytes stand for themselves, the others are moved to
// U+0100 and up, so every byte string is a string of visible symbols.
var byteToRune = func() (t [256]rune) {
	next := rune(256)
	for b := 0; b < 256; b++ {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE {
			t[b] = rune(b)
		} else {
			t[b] = next
			next++
		}
	}
	return t
}()

// byteLevelString maps the bytes of s to their byte-level symbols.
func byteLevelString(s string) string {
	buf := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		buf[i] = byteToRune[s[i]]
	}
	return string(buf)
}

// appendWord appends the ids of one pre-tokenized word.
func (m *bpeModel) appendWord(out []int, word string) []int {
	if word == "" {
		return out
	}
	if m.ignoreMerges {
		key := word
		if m.byteLevel {
			key = byteLevelString(word)
		}
		if id, ok := m.vocab[key]; ok {
			return append(out, id)
		}
	}
	cacheable := len(word) < maxCachedWordBytes
	if cacheable {
		if ids, ok := m.cache.get(word); ok {
			return append(out, ids...)
		}
	}
	syms := m.initialSymbols(word)
	syms = m.applyMerges(syms)
	start := len(out)
	for _, s := range syms {
		switch {
		case s >= 0 && int(s) < m.numIDs && m.tokens[s] != "":
			out = append(out, int(s))
		case m.unk >= 0:
			if m.fuseUnk && len(out) > start && out[len(out)-1] == m.unk {
				continue
			}
			out = append(out, m.unk)
		}
	}
	if cacheable {
		ids := make([]int, len(out)-start)
		copy(ids, out[start:])
		// Clone: the word is a slice of the caller's text, which the
		// cache must not keep alive.
		m.cache.put(strings.Clone(word), ids)
	}
	return out
}

// initialSymbols splits a word into single-character symbols, the last
// one carrying the end-of-word suffix.
func (m *bpeModel) initialSymbols(word string) []int32 {
	if m.byteLevel {
		syms := make([]int32, len(word))
		for i := 0; i < len(word); i++ {
			syms[i] = m.byteSym[word[i]]
		}
		syms[len(word)-1] = m.byteSymEnd[word[len(word)-1]]
		return syms
	}
	syms := make([]int32, 0, len(word))
	for i := 0; i < len(word); {
		_, size := utf8.DecodeRuneInString(word[i:])
		ch := word[i : i+size]
		i += size
		if i == len(word) {
			ch += m.suffix
		}
		syms = append(syms, m.symbol(ch))
	}
	return syms
}

// applyMerges merges the adjacent pair of lowest rank, leftmost first,
// until no pair has a merge — the order transformers.js and the Hugging
// Face tokenizers library use.
func (m *bpeModel) applyMerges(syms []int32) []int32 {
	if len(syms) < 2 {
		return syms
	}
	if len(syms) <= shortWordSymbols {
		return m.mergeShort(syms)
	}
	return m.mergeLong(syms)
}

// shortWordSymbols is where the heap-based merge starts to beat the scan.
const shortWordSymbols = 48

const noRank = math.MaxInt32

func (m *bpeModel) pairRank(a, b int32) merge {
	if a < 0 || b < 0 {
		return merge{rank: noRank}
	}
	if mg, ok := m.merges[pairKey(a, b)]; ok {
		return mg
	}
	return merge{rank: noRank}
}

// mergeShort is the quadratic scan, fastest for the short words that
// make up almost all text.
func (m *bpeModel) mergeShort(syms []int32) []int32 {
	var buf [shortWordSymbols]merge
	pairs := buf[:len(syms)-1]
	for i := range pairs {
		pairs[i] = m.pairRank(syms[i], syms[i+1])
	}
	for len(syms) > 1 {
		best := -1
		bestRank := int32(noRank)
		for i, p := range pairs {
			if p.rank < bestRank {
				best, bestRank = i, p.rank
			}
		}
		if best < 0 {
			break
		}
		syms[best] = pairs[best].result
		syms = append(syms[:best+1], syms[best+2:]...)
		pairs = append(pairs[:best], pairs[best+1:]...)
		if best > 0 {
			pairs[best-1] = m.pairRank(syms[best-1], syms[best])
		}
		if best < len(pairs) {
			pairs[best] = m.pairRank(syms[best], syms[best+1])
		}
	}
	return syms
}

// mergeLong keeps candidate pairs in a min-heap ordered by (rank,
// position) over a linked list of symbols, so a word of n symbols takes
// O(n log n) rather than O(n²): a 1 MB run of letters is one word.
func (m *bpeModel) mergeLong(syms []int32) []int32 {
	n := len(syms)
	prev := make([]int32, n)
	next := make([]int32, n)
	for i := range syms {
		prev[i] = int32(i - 1)
		next[i] = int32(i + 1)
	}
	next[n-1] = -1
	h := make(mergeHeap, 0, n)
	for i := 0; i+1 < n; i++ {
		if mg := m.pairRank(syms[i], syms[i+1]); mg.rank != noRank {
			h = append(h, heapEntry{rank: mg.rank, pos: int32(i)})
		}
	}
	h.init()
	alive := make([]bool, n)
	for i := range alive {
		alive[i] = true
	}
	for len(h) > 0 {
		e := h.pop()
		i := e.pos
		j := next[i]
		if !alive[i] || j < 0 {
			continue
		}
		mg := m.pairRank(syms[i], syms[j])
		if mg.rank != e.rank {
			continue // stale: a neighbour merged since this entry was pushed
		}
		syms[i] = mg.result
		alive[j] = false
		next[i] = next[j]
		if next[j] >= 0 {
			prev[next[j]] = i
		}
		if p := prev[i]; p >= 0 {
			if pm := m.pairRank(syms[p], syms[i]); pm.rank != noRank {
				h.push(heapEntry{rank: pm.rank, pos: p})
			}
		}
		if k := next[i]; k >= 0 {
			if nm := m.pairRank(syms[i], syms[k]); nm.rank != noRank {
				h.push(heapEntry{rank: nm.rank, pos: i})
			}
		}
	}
	out := syms[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, syms[i])
	}
	return out
}

type heapEntry struct {
	rank int32
	pos  int32 // position of the pair's left symbol in the original word
}

// mergeHeap is a binary min-heap on (rank, pos): lowest rank first,
// leftmost first among equal ranks.
type mergeHeap []heapEntry

func (h mergeHeap) less(a, b int) bool {
	if h[a].rank != h[b].rank {
		return h[a].rank < h[b].rank
	}
	return h[a].pos < h[b].pos
}

func (h mergeHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *mergeHeap) push(e heapEntry) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *mergeHeap) pop() heapEntry {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	*h = s[:last]
	(*h).down(0)
	return top
}

func (h mergeHeap) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		small := l
		if r := l + 1; r < n && h.less(r, l) {
			small = r
		}
		if !h.less(small, i) {
			return
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}

// maxCachedWordBytes keeps pathological long words out of the cache.
const maxCachedWordBytes = 256

// bpeCache memoises word → ids. It is bounded (a full shard is emptied
// rather than grown) and safe for concurrent use; sharding keeps
// goroutines tokenizing in parallel off each other's locks.
type bpeCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const (
	cacheShards   = 16
	cacheShardCap = 4096 // words per shard: 64K words in all
)

type cacheShard struct {
	mu sync.Mutex
	m  map[string][]int
}

func newBPECache() *bpeCache {
	c := &bpeCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string][]int)
	}
	return c
}

func (c *bpeCache) shard(word string) *cacheShard {
	return &c.shards[maphash.String(c.seed, word)%cacheShards]
}

func (c *bpeCache) get(word string) ([]int, bool) {
	s := c.shard(word)
	s.mu.Lock()
	ids, ok := s.m[word]
	s.mu.Unlock()
	return ids, ok
}

func (c *bpeCache) put(word string, ids []int) {
	s := c.shard(word)
	s.mu.Lock()
	if len(s.m) >= cacheShardCap {
		clear(s.m)
	}
	s.m[word] = ids
	s.mu.Unlock()
}

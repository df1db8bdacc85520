package kernels

import (
	"fmt"
	"math"
	"sync"
)

// AttentionShape describes a multi-head attention over tensors laid out as
// [Batch, Seq, Heads·HeadDim] row-major (one row per token), as produced by
// the Q, K and V projections. Each operand may be a column slice of a wider
// row (e.g. of a fused QKV projection): Ld* is the distance in elements
// between consecutive tokens (≥ Heads·HeadDim). KVSeq, when set, is the
// number of keys and values per batch, Seq then being the number of
// queries (a cross attention, e.g. SigLIP's pooling head: one learned
// query over the image's tokens); 0 means Seq. Interleaved lays the
// sequences out sequence-first ([Seq, Batch, ·], nn.MultiheadAttention's
// layout): token s of batch b is row s·Batch+b, Ld* apart within a
// token's batch and Batch·Ld* apart along a sequence. KeyMask says the
// mask holds one value per key, the same for every query (a padding mask
// [B, 1, 1, T], as BERT-family text towers add one).
type AttentionShape struct {
	Batch, Seq, Heads, HeadDim int
	LdQ, LdK, LdV, LdOut       int
	KVSeq                      int
	Interleaved                bool
	KeyMask                    bool
}

// maskRow returns query i's row of a batch's additive mask: a key mask
// has one row for every query.
func (s AttentionShape) maskRow(mask []float32, i int) []float32 {
	if s.KeyMask {
		return mask
	}
	return mask[i*s.keys():]
}

// maskSize is the number of mask values of one batch.
func (s AttentionShape) maskSize() int {
	if s.KeyMask {
		return s.keys()
	}
	return s.Seq * s.keys()
}

// keys returns the number of keys per batch.
func (s AttentionShape) keys() int {
	if s.KVSeq > 0 {
		return s.KVSeq
	}
	return s.Seq
}

// Attention computes, for every batch b and head h,
//
//	out[b,:,h] = softmax(Q[b,:,h]·K[b,:,h]ᵀ·scale + mask + causal)·V[b,:,h]
//
// where mask (optional, additive) holds Seq×KVSeq values shared by the
// batch or Batch×Seq×KVSeq values (with s.KeyMask KVSeq or Batch×KVSeq,
// one per key), and causal hides keys after the query
// (the CLIP text encoder's mask; only when KVSeq is Seq). Heads run in
// parallel on p.
func Attention(p *Pool, s AttentionShape, q, k, v []float32, scale float32, mask []float32, causal bool, out []float32) error {
	return attention(p, s, q, k, v, scale, mask, causal, out, attentionPackable(s))
}

// attention is Attention with the choice of head kernel: packed runs
// attentionHeadPacked (s must be attentionPackable), otherwise
// attentionHead, its Sgemm-based twin (tests and benchmarks run both).
func attention(p *Pool, s AttentionShape, q, k, v []float32, scale float32, mask []float32, causal bool, out []float32, packed bool) error {
	maskPerBatch, err := checkAttention(s, q, k, v, mask, causal, out, s.Batch*s.Seq)
	if err != nil {
		return err
	}
	if packed && !attentionPackable(s) {
		return fmt.Errorf("kernels: Attention: heads of %d values cannot be packed", s.HeadDim)
	}
	c := attentionCall{s: s, serial: p.Serial(), q: q, k: k, v: v, out: out, mask: mask, scale: scale, causal: causal, maskPerBatch: maskPerBatch, packed: packed}
	n := s.Batch * s.Heads
	threads := p.beginSplit(n, 1)
	if threads <= 1 {
		c.heads(0, n)
		return nil
	}
	defer p.release()
	p.attn = c
	p.split(threads, n, p.attnFn)
	p.attn = attentionCall{}
	return nil
}

// checkAttention validates an attention call's shape and operands (out
// holding outRows rows) and reports whether the mask is per batch.
func checkAttention(s AttentionShape, q, k, v, mask []float32, causal bool, out []float32, outRows int) (bool, error) {
	if s.Batch < 1 || s.Seq < 1 || s.Heads < 1 || s.HeadDim < 1 || s.KVSeq < 0 || causal && s.keys() != s.Seq {
		return false, fmt.Errorf("kernels: Attention: bad shape %+v", s)
	}
	width := s.Heads * s.HeadDim
	for _, o := range []struct {
		name string
		x    []float32
		ld   int
		rows int
	}{{"Q", q, s.LdQ, s.Batch * s.Seq}, {"K", k, s.LdK, s.Batch * s.keys()}, {"V", v, s.LdV, s.Batch * s.keys()}, {"out", out, s.LdOut, outRows}} {
		if o.ld < width {
			return false, fmt.Errorf("kernels: Attention: %s row stride %d < heads×headDim %d", o.name, o.ld, width)
		}
		if need := (o.rows-1)*o.ld + width; o.rows > 0 && len(o.x) < need {
			return false, fmt.Errorf("kernels: Attention: %s has %d values, need %d", o.name, len(o.x), need)
		}
	}
	ss := s.maskSize()
	switch len(mask) {
	case 0, ss:
		return false, nil
	case s.Batch * ss:
		return true, nil
	}
	return false, fmt.Errorf("kernels: Attention: mask has %d values, want %d or %d", len(mask), ss, s.Batch*ss)
}

// AttentionRows is Attention for some queries only: rows holds rows of
// the full output (token (b, i) is row b·Seq+i, or i·Batch+b with
// s.Interleaved; each in range), and the query of rows[r] is computed
// over all its keys (under causal, the keys up to it) into row r of out
// (LdOut apart). A model that pools one token per item reads its last
// attention at those tokens alone.
func AttentionRows(p *Pool, s AttentionShape, q, k, v []float32, scale float32, mask []float32, causal bool, rows []int, out []float32) error {
	maskPerBatch, err := checkAttention(s, q, k, v, mask, causal, out, len(rows))
	if err != nil {
		return err
	}
	T, D := s.keys(), s.HeadDim
	ms := s.maskSize()
	serial := p.Serial()
	buf := attnScratch.Get().(*attnBuffers)
	defer attnScratch.Put(buf)
	buf.scores = growF32(buf.scores, s.Seq*T) // attentionRows indexes it by query
	for r, row := range rows {
		b, i := row/s.Seq, row%s.Seq
		if s.Interleaved {
			b, i = row%s.Batch, row/s.Batch
		}
		if row < 0 || row >= s.Batch*s.Seq {
			return fmt.Errorf("kernels: AttentionRows: row %d outside %d×%d queries", row, s.Batch, s.Seq)
		}
		keys := T
		if causal {
			keys = i + 1
		}
		m := mask
		if maskPerBatch {
			m = mask[b*ms : (b+1)*ms]
		}
		// Query i alone is attentionHead's block [i, i+1).
		for h := range s.Heads {
			qo, ko, vo, _, hs := headOffsets(s, b, h)
			attentionRows(serial, hs, q[qo+i*hs.LdQ:], k[ko:], v[vo:], scale, m, causal, i, i+1, keys, buf.scores, out[r*s.LdOut+h*D:])
		}
	}
	return nil
}

// attentionCall holds one Attention call's arguments; a parallel call's
// lives in the Pool so that splitting it allocates nothing.
type attentionCall struct {
	s                    AttentionShape
	serial               *Pool // p.Serial(): each head's products run on one thread at p's level
	q, k, v, out, mask   []float32
	scale                float32
	causal, maskPerBatch bool
	packed               bool // attentionHeadPacked, else attentionHead
}

// heads computes heads [lo, hi) of the batch×heads of the call.
func (c *attentionCall) heads(lo, hi int) {
	s := c.s
	ss, ms := s.Seq*s.keys(), s.maskSize()
	buf := attnScratch.Get().(*attnBuffers)
	packed := c.packed
	if packed {
		buf.size(s)
	} else {
		buf.scores = growF32(buf.scores, ss)
	}
	for u := lo; u < hi; u++ {
		b, h := u/s.Heads, u%s.Heads
		var m []float32
		if c.mask != nil {
			m = c.mask
			if c.maskPerBatch {
				m = c.mask[b*ms : (b+1)*ms]
			}
		}
		if packed {
			attentionHeadPacked(c.serial.level().gemm.one, s, b, h, c.q, c.k, c.v, c.scale, m, c.causal, buf, c.out)
			continue
		}
		attentionHead(c.serial, s, b, h, c.q, c.k, c.v, c.scale, m, c.causal, buf.scores, c.out)
	}
	attnScratch.Put(buf)
}

// attnScratch recycles the working memory of Attention's heads.
var attnScratch = sync.Pool{New: func() any { return new(attnBuffers) }}

// attnBuffers is one thread's working memory for Attention: the Seq×KVSeq
// score matrix of attentionHead, or the packed panels and tiles of
// attentionHeadPacked.
type attnBuffers struct {
	scores []float32
	// kp holds Kᵀ as ⌈T/NR⌉ packed B panels (HeadDim×NR each), vp V as
	// HeadDim/NR packed B panels (T×NR each), qa one packed A panel of
	// scaled queries, st the MR×⌈T/NR⌉·NR tile of their scores, pa the
	// probabilities packed as an A panel, edge the output tile of a
	// partial query panel.
	kp, vp, qa, st, pa []float32
	edge               [gemmMR * gemmNR]float32
}

// size makes the packed-path buffers fit shape s.
func (a *attnBuffers) size(s AttentionShape) {
	T, D := s.keys(), s.HeadDim
	tp := ceilDiv(T, gemmNR) * gemmNR
	a.kp = growF32(a.kp, tp*D)
	a.vp = growF32(a.vp, T*D)
	a.qa = growF32(a.qa, gemmMR*D+packSlack)
	a.st = growF32(a.st, gemmMR*tp)
	a.pa = growF32(a.pa, gemmMR*tp+packSlack)
}

// attentionPackable reports whether heads of shape s take
// attentionHeadPacked: heads a whole number of NR columns wide (64 in
// every CLIP and SigLIP tower), so V packs into full panels.
func attentionPackable(s AttentionShape) bool { return s.HeadDim%gemmNR == 0 }

// headOffsets returns where head h of batch b starts in Q, K, V and out,
// and s with the row strides along one sequence (Interleaved: Batch rows
// apart).
func headOffsets(s AttentionShape, b, h int) (qo, ko, vo, oo int, _ AttentionShape) {
	S, T, D := s.Seq, s.keys(), s.HeadDim
	qo, ko, vo, oo = b*S*s.LdQ, b*T*s.LdK, b*T*s.LdV, b*S*s.LdOut
	if s.Interleaved {
		// Each sequence starts at its batch's row; its tokens are Batch
		// rows apart.
		qo, ko, vo, oo = b*s.LdQ, b*s.LdK, b*s.LdV, b*s.LdOut
		s.LdQ, s.LdK, s.LdV, s.LdOut = s.Batch*s.LdQ, s.Batch*s.LdK, s.Batch*s.LdV, s.Batch*s.LdOut
	}
	return qo + h*D, ko + h*D, vo + h*D, oo + h*D, s
}

// attentionHeadPacked is attentionHead for heads a multiple of NR wide,
// one micro-panel of MR queries at a time: Kᵀ and V are packed once per
// head, then each panel's scores (MR×T, in registers' reach: a tile of
// ⌈T/NR⌉ kernel calls), softmax and P·V run while the panel is in L1,
// with no Sgemm call, repacking or score matrix in between. Under a
// causal mask a panel multiplies only the keys up to its last query
// (whole NR-key panels for Q·Kᵀ, exactly for P·V), skipping about half of
// both products rather than attentionHead's quarter.
func attentionHeadPacked(kern microKernel, s AttentionShape, b, h int, q, k, v []float32, scale float32, mask []float32, causal bool, buf *attnBuffers, out []float32) {
	qo, ko, vo, oo, s := headOffsets(s, b, h)
	S, T, D := s.Seq, s.keys(), s.HeadDim
	tp := ceilDiv(T, gemmNR) * gemmNR
	kPanels, vPanels := tp/gemmNR, D/gemmNR
	kp, vp, st := buf.kp[:tp*D], buf.vp[:T*D], buf.st[:gemmMR*tp]
	packB(kp, k[ko:], s.LdK, true, 0, D, 0, T, 0, kPanels)
	packB(vp, v[vo:], s.LdV, false, 0, T, 0, D, 0, vPanels)
	qOp := gemmOperands{a: q[qo:], lda: s.LdQ, alpha: scale}
	pOp := gemmOperands{a: st, lda: tp, alpha: 1}
	negInf := float32(math.Inf(-1))
	for r0 := 0; r0 < S; r0 += gemmMR {
		rows := min(gemmMR, S-r0)
		keys := T // the keys this panel's queries see
		if causal {
			keys = r0 + rows
		}
		packA(buf.qa, &qOp, r0, rows, 0, D, 0, 1)
		for jp := range ceilDiv(keys, gemmNR) {
			kern(gemmMR, D, buf.qa, kp[jp*D*gemmNR:(jp+1)*D*gemmNR], st[jp*gemmNR:], tp, false)
		}
		for r := range rows {
			i := r0 + r
			row := st[r*tp : (r+1)*tp]
			n := keys
			if causal {
				n = i + 1
			}
			if mask != nil {
				mr := s.maskRow(mask, i)[:n]
				for j := range mr {
					row[j] += mr[j]
				}
			}
			// Padded with −Inf to whole vectors (the tile is NR wide), the
			// row's softmax has no scalar tail; exp(−Inf) is 0.
			n8 := min(ceilDiv(n, 8)*8, tp)
			for j := n; j < n8; j++ {
				row[j] = negInf
			}
			softmaxRow(row[:n8], row[:n8])
			clear(row[n:keys])
		}
		packA(buf.pa, &pOp, 0, rows, 0, keys, 0, 1)
		for dp := range vPanels {
			bp := vp[dp*T*gemmNR : dp*T*gemmNR+keys*gemmNR]
			o := out[oo+r0*s.LdOut+dp*gemmNR:]
			if rows == gemmMR {
				kern(gemmMR, keys, buf.pa, bp, o, s.LdOut, false)
				continue
			}
			kern(gemmMR, keys, buf.pa, bp, buf.edge[:], gemmNR, false)
			for r := range rows {
				copy(o[r*s.LdOut:r*s.LdOut+gemmNR], buf.edge[r*gemmNR:(r+1)*gemmNR])
			}
		}
	}
}

func attentionHead(serial *Pool, s AttentionShape, b, h int, q, k, v []float32, scale float32, mask []float32, causal bool, scores, out []float32) {
	qo, ko, vo, oo, s := headOffsets(s, b, h)
	S, T := s.Seq, s.keys()
	qh, kh, vh, oh := q[qo:], k[ko:], v[vo:], out[oo:]
	// Under a causal mask, queries before row r1 see only keys before r1:
	// in blocks of queries (whole 6-row panels), each block is multiplied
	// with the keys up to its last query alone. causalBlocks blocks skip
	// (blocks-1)/(2·blocks) of both products.
	block := S
	if causal && S >= 2*causalBlocks*gemmMR {
		block = ceilDiv(ceilDiv(S, causalBlocks), gemmMR) * gemmMR
	}
	for r0 := 0; r0 < S; r0 += block {
		r1 := min(r0+block, S)
		keys := T
		if causal {
			keys = r1
		}
		attentionRows(serial, s, qh[r0*s.LdQ:], kh, vh, scale, mask, causal, r0, r1, keys, scores, oh[r0*s.LdOut:])
	}
}

// causalBlocks is how many blocks of queries a causal attention runs in
// (see attentionHead). On the text tower's shape (77 tokens, heads of
// 64) 2 blocks ran 10% faster than 1; 3 and 4 were slower than 2, the
// saving eaten by smaller products.
const causalBlocks = 2

// attentionRows computes output rows [r0, r1) of one head from the first
// keys keys and values: scores (S×T, row stride T) receives rows r0.. of
// the probabilities.
func attentionRows(serial *Pool, s AttentionShape, qh, kh, vh []float32, scale float32, mask []float32, causal bool, r0, r1, keys int, scores, oh []float32) {
	T, D := s.keys(), s.HeadDim
	rows := r1 - r0
	Sgemm(serial, false, true, rows, keys, D, scale, qh, s.LdQ, kh, s.LdK, 0, scores[r0*T:], T)
	negInf := float32(math.Inf(-1))
	for i := r0; i < r1; i++ {
		row := scores[i*T : i*T+keys]
		if mask != nil {
			mr := s.maskRow(mask, i)[:keys]
			for j := range row {
				row[j] += mr[j]
			}
		}
		n := keys
		if causal {
			n = i + 1
			for j := n; j < keys; j++ {
				row[j] = negInf
			}
		}
		softmaxRow(row[:n], row[:n])
		clear(row[n:])
	}
	Sgemm(serial, false, false, rows, D, keys, 1, scores[r0*T:], T, vh, s.LdV, 0, oh, s.LdOut)
}

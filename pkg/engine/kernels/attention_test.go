package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refAttention is the float64 textbook multi-head attention.
func refAttention(s AttentionShape, q, k, v []float32, scale float64, mask []float32, causal bool) []float64 {
	S, T, D, H := s.Seq, s.Seq, s.HeadDim, s.Heads
	if s.KVSeq > 0 {
		T = s.KVSeq
	}
	out := make([]float64, s.Batch*S*H*D)
	for b := range s.Batch {
		for h := range H {
			for i := range S {
				w := make([]float64, T)
				mx := math.Inf(-1)
				for j := range T {
					var dot float64
					for d := range D {
						dot += float64(q[(b*S+i)*s.LdQ+h*D+d]) * float64(k[(b*T+j)*s.LdK+h*D+d])
					}
					w[j] = dot * scale
					if mask != nil {
						off := 0
						if len(mask) > S*T {
							off = b * S * T
						}
						w[j] += float64(mask[off+i*T+j])
					}
					if causal && j > i {
						w[j] = math.Inf(-1)
					}
					mx = math.Max(mx, w[j])
				}
				var sum float64
				for j := range w {
					w[j] = math.Exp(w[j] - mx)
					sum += w[j]
				}
				for d := range D {
					var acc float64
					for j := range T {
						acc += w[j] / sum * float64(v[(b*T+j)*s.LdV+h*D+d])
					}
					out[((b*S+i)*H+h)*D+d] = acc
				}
			}
		}
	}
	return out
}

// levelPools returns a 2-thread Pool and its serial twin at every
// instruction-set level this CPU has, closed when t ends.
func levelPools(t *testing.T) []*Pool {
	var pools []*Pool
	for _, isa := range SupportedISAs() {
		p, err := NewPoolWith(2, WithISA(isa))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		pools = append(pools, p, p.Serial())
	}
	return pools
}

func TestAttention(t *testing.T) {
	pools := append([]*Pool{nil}, levelPools(t)...)
	rng := rand.New(rand.NewPCG(14, 1))
	for _, tc := range []struct {
		batch, seq, heads, dim int
		mask                   string
		causal                 bool
	}{
		{1, 1, 1, 1, "", false},
		{2, 50, 3, 64, "", false},
		{2, 13, 2, 8, "shared", true},
		{3, 9, 2, 5, "perbatch", false},
		{1, 77, 2, 64, "", true},
		// Head widths that are multiples of 16 take attentionHeadPacked:
		// fewer than 6 or 16 tokens, partial blocks, masks with causal,
		// and a head wider than the staging tile.
		{2, 7, 2, 16, "perbatch", false},
		{1, 6, 1, 64, "", true},
		{2, 12, 2, 32, "shared", true},
		{2, 17, 1, 128, "perbatch", true},
		{2, 25, 2, 16, "perbatch", true}, // long enough for the causal split
		{1, 50, 12, 64, "", false},
	} {
		w := tc.heads * tc.dim
		// Q, K and V as column slices of one fused [rows, 3w+1] buffer.
		ld := 3*w + 1
		qkv := randSlice(rng, tc.batch*tc.seq*ld)
		s := AttentionShape{Batch: tc.batch, Seq: tc.seq, Heads: tc.heads, HeadDim: tc.dim, LdQ: ld, LdK: ld, LdV: ld, LdOut: w + 2}
		mask := randMask(rng, tc.mask, tc.batch, tc.seq, tc.seq)
		scale := 1 / math.Sqrt(float64(tc.dim))
		want := refAttention(s, qkv, qkv[w:], qkv[2*w:], scale, mask, tc.causal)
		for _, p := range pools {
			out := make([]float32, tc.batch*tc.seq*(w+2))
			if err := Attention(p, s, qkv, qkv[w:], qkv[2*w:], float32(scale), mask, tc.causal, out); err != nil {
				t.Fatal(err)
			}
			for r := range tc.batch * tc.seq {
				for c := range w {
					got, wv := out[r*(w+2)+c], want[r*w+c]
					if math.Abs(float64(got)-wv) > 2e-5*(1+math.Abs(wv)) {
						t.Fatalf("%+v: out[%d,%d] = %g, want %g", tc, r, c, got, wv)
					}
				}
			}
		}
	}
	crossAttention(t, rng, pools)
	interleavedAttention(t, rng, pools)
	keyMaskAttention(t, rng, pools)
	s := AttentionShape{Batch: 1, Seq: 2, Heads: 1, HeadDim: 2, LdQ: 2, LdK: 2, LdV: 2, LdOut: 2}
	if err := Attention(nil, s, make([]float32, 4), make([]float32, 4), make([]float32, 3), 1, nil, false, make([]float32, 4)); err == nil {
		t.Error("Attention accepted a short V")
	}
	if err := Attention(nil, s, make([]float32, 4), make([]float32, 4), make([]float32, 4), 1, make([]float32, 3), false, make([]float32, 4)); err == nil {
		t.Error("Attention accepted a mask of the wrong size")
	}
}

// crossAttention checks queries attending over a different number of
// keys (KVSeq; SigLIP's pooling head: one learned query over the image's
// tokens), K and V side by side in one row as a fused K/V projection
// writes them, with shared and per-batch masks.
func crossAttention(t *testing.T, rng *rand.Rand, pools []*Pool) {
	for _, tc := range []struct {
		batch, seq, kv, heads, dim int
		mask                       string
	}{
		{2, 1, 50, 12, 64, ""},
		{3, 1, 17, 4, 16, "perbatch"},
		{2, 3, 7, 2, 5, "shared"},
	} {
		w := tc.heads * tc.dim
		q := randSlice(rng, tc.batch*tc.seq*w)
		kv := randSlice(rng, tc.batch*tc.kv*2*w)
		s := AttentionShape{Batch: tc.batch, Seq: tc.seq, KVSeq: tc.kv, Heads: tc.heads, HeadDim: tc.dim, LdQ: w, LdK: 2 * w, LdV: 2 * w, LdOut: w}
		mask := randMask(rng, tc.mask, tc.batch, tc.seq, tc.kv)
		scale := 1 / math.Sqrt(float64(tc.dim))
		want := refAttention(s, q, kv, kv[w:], scale, mask, false)
		for _, p := range pools {
			out := make([]float32, tc.batch*tc.seq*w)
			if err := Attention(p, s, q, kv, kv[w:], float32(scale), mask, false, out); err != nil {
				t.Fatal(err)
			}
			for i, got := range out {
				if math.Abs(float64(got)-want[i]) > 2e-5*(1+math.Abs(want[i])) {
					t.Fatalf("%+v: out[%d] = %g, want %g", tc, i, got, want[i])
				}
			}
		}
		if err := Attention(nil, s, q, kv, kv[w:], float32(scale), nil, true, make([]float32, len(q))); err == nil && tc.seq != tc.kv {
			t.Errorf("%+v: a causal cross attention was accepted", tc)
		}
	}
}

// randMask is an additive attention mask of queries × keys values: none
// (""), one shared by the batch ("shared"), or one per batch ("perbatch",
// with a padded key at -Inf).
func randMask(rng *rand.Rand, kind string, batch, queries, keys int) []float32 {
	switch kind {
	case "shared":
		return randSlice(rng, queries*keys)
	case "perbatch":
		mask := randSlice(rng, batch*queries*keys)
		mask[1] = float32(math.Inf(-1))
		return mask
	}
	return nil
}

// interleaveRows moves batch-first rows [batch, n, w] to sequence-first
// [n, batch, w].
func interleaveRows(x []float32, batch, n, w int) []float32 {
	y := make([]float32, len(x))
	for b := range batch {
		for i := range n {
			copy(y[(i*batch+b)*w:][:w], x[(b*n+i)*w:][:w])
		}
	}
	return y
}

// interleavedAttention checks the sequence-first layout (Interleaved:
// token s of batch b at row s·Batch+b, nn.MultiheadAttention's) against
// the batch-first reference on the same values, self and cross
// attention, with per-batch masks.
func interleavedAttention(t *testing.T, rng *rand.Rand, pools []*Pool) {
	for _, tc := range []struct {
		batch, seq, kv, heads, dim int
		mask                       string
	}{
		{3, 7, 7, 2, 8, "perbatch"},
		{2, 50, 50, 12, 64, ""},
		{4, 1, 9, 2, 4, "perbatch"},
	} {
		w := tc.heads * tc.dim
		q := randSlice(rng, tc.batch*tc.seq*w)
		k := randSlice(rng, tc.batch*tc.kv*w)
		v := randSlice(rng, tc.batch*tc.kv*w)
		mask := randMask(rng, tc.mask, tc.batch, tc.seq, tc.kv)
		s := AttentionShape{Batch: tc.batch, Seq: tc.seq, KVSeq: tc.kv, Heads: tc.heads, HeadDim: tc.dim, LdQ: w, LdK: w, LdV: w, LdOut: w}
		scale := 1 / math.Sqrt(float64(tc.dim))
		want := refAttention(s, q, k, v, scale, mask, false)
		interleave := func(x []float32, n int) []float32 { return interleaveRows(x, tc.batch, n, w) }
		si := s
		si.Interleaved = true
		for _, p := range pools {
			out := make([]float32, len(q))
			if err := Attention(p, si, interleave(q, tc.seq), interleave(k, tc.kv), interleave(v, tc.kv), float32(scale), mask, false, out); err != nil {
				t.Fatal(err)
			}
			for b := range tc.batch {
				for i := range tc.seq {
					for c := range w {
						got, wv := out[(i*tc.batch+b)*w+c], want[(b*tc.seq+i)*w+c]
						if math.Abs(float64(got)-wv) > 2e-5*(1+math.Abs(wv)) {
							t.Fatalf("%+v: batch %d token %d column %d = %g, want %g", tc, b, i, c, got, wv)
						}
					}
				}
			}
		}
	}
}

// TestAttentionPackedMatchesSgemm runs attentionHeadPacked and its twin,
// the Sgemm-based attentionHead, on the towers' shapes (CLIP text: 77
// causal tokens, with and without a padding mask; SigLIP text: 64; ViT
// vision: 50; a cross attention; the sequence-first layout) at every
// instruction-set level, and asserts they agree to float32 rounding.
func TestAttentionPackedMatchesSgemm(t *testing.T) {
	pools := levelPools(t)
	rng := rand.New(rand.NewPCG(20, 17))
	for _, tc := range []struct {
		name                       string
		batch, seq, kv, heads, dim int
		mask                       string
		causal, interleaved        bool
	}{
		{"clip-text", 2, 77, 77, 8, 64, "", true, false},
		{"clip-text-padded", 2, 77, 77, 2, 64, "perbatch", true, false},
		{"siglip-text", 2, 64, 64, 3, 64, "", false, false},
		{"vit-vision", 2, 50, 50, 3, 64, "shared", false, false},
		{"cross", 2, 5, 50, 2, 32, "perbatch", false, false},
		{"seq-first", 3, 20, 20, 2, 48, "", true, true},
	} {
		w := tc.heads * tc.dim
		ld := 3*w + 5
		q := randSlice(rng, tc.batch*tc.seq*ld)
		kv := randSlice(rng, tc.batch*tc.kv*ld)
		s := AttentionShape{Batch: tc.batch, Seq: tc.seq, Heads: tc.heads, HeadDim: tc.dim, LdQ: ld, LdK: ld, LdV: ld, LdOut: w + 3, Interleaved: tc.interleaved}
		if tc.kv != tc.seq {
			s.KVSeq = tc.kv
		}
		mask := randMask(rng, tc.mask, tc.batch, tc.seq, tc.kv)
		scale := float32(1 / math.Sqrt(float64(tc.dim)))
		for _, p := range pools {
			want := make([]float32, tc.batch*tc.seq*(w+3))
			got := make([]float32, len(want))
			if err := attention(p, s, q, kv[w:], kv[2*w:], scale, mask, tc.causal, want, false); err != nil {
				t.Fatal(err)
			}
			if err := attention(p, s, q, kv[w:], kv[2*w:], scale, mask, tc.causal, got, true); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("%s, %v pool of %d: out[%d] = %g, Sgemm path %g", tc.name, p.ISA(), p.Threads(), i, got[i], want[i])
				}
			}
		}
	}
	s := AttentionShape{Batch: 1, Seq: 2, Heads: 1, HeadDim: 8, LdQ: 8, LdK: 8, LdV: 8, LdOut: 8}
	if err := attention(nil, s, make([]float32, 16), make([]float32, 16), make([]float32, 16), 1, nil, false, make([]float32, 16), true); err == nil {
		t.Error("heads of 8 values were packed")
	}
}

// keyMaskAttention checks KeyMask (one additive value per key, the same
// for every query: a BERT-family padding mask [B, 1, 1, T], or one
// shared by the batch) against the reference given the mask expanded to
// every query, on both head kernels, with and without causal.
func keyMaskAttention(t *testing.T, rng *rand.Rand, pools []*Pool) {
	for _, tc := range []struct {
		batch, seq, heads, dim int
		perBatch, causal       bool
	}{
		{2, 9, 2, 5, true, false},
		{3, 20, 2, 16, true, false},
		{2, 13, 2, 32, false, true},
		{1, 77, 2, 64, true, false},
	} {
		w := tc.heads * tc.dim
		qkv := randSlice(rng, tc.batch*tc.seq*3*w)
		s := AttentionShape{Batch: tc.batch, Seq: tc.seq, Heads: tc.heads, HeadDim: tc.dim, LdQ: 3 * w, LdK: 3 * w, LdV: 3 * w, LdOut: w, KeyMask: true}
		rows := 1
		if tc.perBatch {
			rows = tc.batch
		}
		keys := randSlice(rng, rows*tc.seq)
		keys[len(keys)-1] = float32(math.Inf(-1)) // a padded last key
		full := make([]float32, rows*tc.seq*tc.seq)
		for b := range rows {
			for i := range tc.seq {
				copy(full[(b*tc.seq+i)*tc.seq:], keys[b*tc.seq:(b+1)*tc.seq])
			}
		}
		scale := 1 / math.Sqrt(float64(tc.dim))
		ref := s
		ref.KeyMask = false
		want := refAttention(ref, qkv, qkv[w:], qkv[2*w:], scale, full, tc.causal)
		for _, p := range pools {
			out := make([]float32, tc.batch*tc.seq*w)
			if err := Attention(p, s, qkv, qkv[w:], qkv[2*w:], float32(scale), keys, tc.causal, out); err != nil {
				t.Fatal(err)
			}
			for i, wv := range want {
				if math.Abs(float64(out[i])-wv) > 2e-5*(1+math.Abs(wv)) {
					t.Fatalf("%+v: out[%d] = %g, want %g", tc, i, out[i], wv)
				}
			}
		}
	}
}

// TestAttentionRows computes chosen queries alone (the pooled token of
// each item, repeats, the first and last rows, a negative-free list out
// of order) against the float64 reference of the whole attention:
// causal, shared and per-batch masks, a key mask, a cross attention and
// the sequence-first layout, at every instruction-set level.
func TestAttentionRows(t *testing.T) {
	pools := append([]*Pool{nil}, levelPools(t)...)
	rng := rand.New(rand.NewPCG(15, 2))
	for _, tc := range []struct {
		batch, seq, kv, heads, dim int
		mask                       string
		causal, interleaved        bool
	}{
		{3, 9, 0, 2, 8, "", true, false},
		{2, 77, 0, 2, 64, "", true, false},
		{3, 13, 0, 2, 16, "shared", false, false},
		{2, 11, 0, 3, 4, "perbatch", false, false},
		{2, 10, 0, 2, 8, "key", false, false},
		{2, 5, 12, 2, 8, "perbatch", false, false},
		{3, 7, 0, 2, 8, "perbatch", false, true},
	} {
		w := tc.heads * tc.dim
		kv := tc.kv
		if kv == 0 {
			kv = tc.seq
		}
		q := randSlice(rng, tc.batch*tc.seq*w)
		k := randSlice(rng, tc.batch*kv*w)
		v := randSlice(rng, tc.batch*kv*w)
		s := AttentionShape{Batch: tc.batch, Seq: tc.seq, KVSeq: tc.kv, Heads: tc.heads, HeadDim: tc.dim, LdQ: w, LdK: w, LdV: w, LdOut: w}
		var mask, full []float32 // full: the mask as the reference reads it, one row per query
		if tc.mask == "key" {
			s.KeyMask = true
			mask = randSlice(rng, tc.batch*kv)
			mask[3] = float32(math.Inf(-1))
			full = make([]float32, tc.batch*tc.seq*kv)
			for b := range tc.batch {
				for i := range tc.seq {
					copy(full[(b*tc.seq+i)*kv:][:kv], mask[b*kv:][:kv])
				}
			}
		} else {
			mask = randMask(rng, tc.mask, tc.batch, tc.seq, kv)
			full = mask
		}
		scale := 1 / math.Sqrt(float64(tc.dim))
		want := refAttention(s, q, k, v, scale, full, tc.causal)
		// The pooled token of each item, then the first and last rows
		// and a repeat, out of order.
		var rows []int
		for b := range tc.batch {
			rows = append(rows, b*tc.seq+(b*5+3)%tc.seq)
		}
		rows = append(rows, tc.batch*tc.seq-1, 0, rows[0])
		qs, ks, vs := q, k, v
		if tc.interleaved {
			s.Interleaved = true
			qs, ks, vs = interleaveRows(q, tc.batch, tc.seq, w), interleaveRows(k, tc.batch, kv, w), interleaveRows(v, tc.batch, kv, w)
		}
		for _, p := range pools {
			out := make([]float32, len(rows)*w)
			in := make([]int, len(rows))
			for r, row := range rows {
				in[r] = row
				if tc.interleaved { // the same token's row in the sequence-first layout
					in[r] = row%tc.seq*tc.batch + row/tc.seq
				}
			}
			if err := AttentionRows(p, s, qs, ks, vs, float32(scale), mask, tc.causal, in, out); err != nil {
				t.Fatal(err)
			}
			for r, row := range rows {
				for c := range w {
					got, wv := out[r*w+c], want[row*w+c]
					if math.Abs(float64(got)-wv) > 2e-5*(1+math.Abs(wv)) {
						t.Fatalf("%+v: row %d (token row %d) column %d = %g, want %g", tc, r, row, c, got, wv)
					}
				}
			}
		}
	}
	s := AttentionShape{Batch: 1, Seq: 2, Heads: 1, HeadDim: 2, LdQ: 2, LdK: 2, LdV: 2, LdOut: 2}
	if err := AttentionRows(nil, s, make([]float32, 4), make([]float32, 4), make([]float32, 4), 1, nil, false, []int{2}, make([]float32, 2)); err == nil {
		t.Error("AttentionRows accepted a row past the queries")
	}
	if err := AttentionRows(nil, s, make([]float32, 4), make([]float32, 4), make([]float32, 4), 1, nil, false, []int{0, 1}, make([]float32, 2)); err == nil {
		t.Error("AttentionRows accepted an output too short for its rows")
	}
}

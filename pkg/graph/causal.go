package graph

// CausalMaskHidden is how negative a mask value must be to hide a key
// exactly: exp(score + m − max) is 0 in float32 for any score an
// attention meets, as it is for the -inf and float32-lowest that exporters
// write (an older -10000 is not enough to be sure, so it stays a mask).
const CausalMaskHidden = -1e30

// CausalMask reports whether mask, one or more [seq, seq] blocks, is 0 on
// and below the diagonal and at most CausalMaskHidden above it in every
// block: adding it to the scores equals the attention kernel's causal
// mode (Params.Causal) exactly.
func CausalMask(mask []float32, seq int) bool {
	n := seq * seq
	if len(mask) == 0 || n == 0 || len(mask)%n != 0 {
		return false
	}
	for blk := 0; blk < len(mask); blk += n {
		for i := 0; i < seq; i++ {
			row := mask[blk+i*seq : blk+(i+1)*seq]
			for j, m := range row {
				if j <= i && m != 0 || j > i && !(m <= CausalMaskHidden) {
					return false
				}
			}
		}
	}
	return true
}

// causalAttention gives a self-attention (packed Q, K, V) whose mask is a
// constant causal one (CausalMask: a text tower's mask, however the
// exporter built it, once folded for the bound shapes) the kernel's
// causal mode instead of the mask: the kernel then skips the hidden half
// of both products rather than adding the mask to it, and the decision is
// made once here, where the plan report can show it, rather than by
// scanning the mask in every run. A mask computed at run time is still
// checked by the attention step itself.
func (f *fuser) causalAttention(s *Step) bool {
	if f.removed[s] || f.replace[s] != nil || s.Node.Op != OpAttention || s.P.Causal ||
		len(s.In) <= attentionParts || s.In[1] != nil || s.In[2] != nil || len(s.Out) != 1 || len(s.Out[0].Shape) != 3 {
		return false
	}
	m := s.In[attentionParts]
	if m == nil || m.Const == nil {
		return false
	}
	seq := s.Out[0].Shape[1]
	if s.P.SeqFirst {
		seq = s.Out[0].Shape[0]
	}
	if !CausalMask(m.Const.Materialize(), seq) {
		return false
	}
	in := append([]*Value(nil), s.In...)
	in[attentionParts] = nil
	s.In, s.P.Causal = in, true
	return true
}

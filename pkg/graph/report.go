package graph

import (
	"fmt"
	"sort"
	"strings"
)

// FusionReport says what Fuse made of a plan's transformer blocks, for
// users to see whether a file from some exporter runs at full speed (the
// fused steps are where the engine's speed comes from).
type FusionReport struct {
	// Steps counts the plan's steps by operator, fused ones included.
	Steps map[string]int `json:"steps"`
	// Blocks has one entry per fused attention, in plan order.
	Blocks []BlockReport `json:"blocks"`
	// UnfusedAttentions counts the Softmax steps left: attentions no
	// pattern matched (each a block running op by op).
	UnfusedAttentions int `json:"unfused_attentions"`
}

// BlockReport is one transformer block: the steps from its attention's
// Q/K/V projection to the next one. A pre-LN block (CLIP's, and every
// exporter's seen so far) fuses into 4 Linears (QKV, output projection,
// fc1 with the activation, fc2), both LayerNorms as Linear prologues and
// one attention reading the packed QKV.
//
// A pooling block (SigLIP's attention-pooling head: a learned query,
// constant once the plan is bound, attending over the last hidden
// state with nn.MultiheadAttention, then LayerNorm and MLP) has K and V
// from one Linear, one LayerNorm (fc1's prologue) and one residual Add.
type BlockReport struct {
	Index      int            `json:"index"`
	Pooling    bool           `json:"attention_pooling"`       // a learned query's cross attention (SigLIP's head)
	Linears    int            `json:"linears"`                 // of 4
	Prologues  int            `json:"layernorms"`              // LayerNorms folded into a Linear, of 2 (1 when pooling; float32 blocks)
	Activation bool           `json:"activation"`              // the MLP activation in fc1's epilogue
	ActName    string         `json:"activation_fn,omitempty"` // which: QuickGELU, GELU (erf), GELU(tanh) or ReLU
	PackedQKV  bool           `json:"packed_qkv"`              // Q, K, V from one Linear (K and V when pooling)
	Causal     bool           `json:"causal"`                  // the attention's constant causal mask runs as the kernel's causal mode
	Residuals  int            `json:"residuals"`               // residual Adds in a Linear's epilogue, of 2
	Unfused    map[string]int `json:"unfused"`                 // other steps by operator (a layout change's Transpose included, free Reshapes not)
	Missing    []string       `json:"not_fused"`               // what is not fused, in words
	Complete   bool           `json:"fully_fused"`             // nothing missing
}

// Report describes p's fusions (call it after Fuse). A block is its
// attention, the Q/K/V projection feeding it and the steps downstream of
// the attention up to the next block's projection or attention, in plan
// order (following the data, so that the two towers of a combined model,
// whose steps interleave, are told apart).
func (p *Plan) Report() FusionReport {
	r := FusionReport{Steps: map[string]int{}}
	index := map[*Step]int{}
	cons := map[*Value][]*Step{}
	qkv := map[*Step]bool{}
	prod := map[*Value]*Step{}
	for i, s := range p.Steps {
		index[s] = i
		r.Steps[s.Node.Op]++
		if s.Node.Op == "Softmax" {
			r.UnfusedAttentions++
		}
		for _, o := range s.Out {
			prod[o] = s
		}
		for _, in := range s.In {
			if in != nil {
				cons[in] = append(cons[in], s)
			}
		}
	}
	for _, s := range p.Steps {
		if s.Node.Op == OpAttention {
			for _, in := range s.In[:min(len(s.In), attentionParts)] {
				if q := prod[in]; q != nil && (q.Node.Op == OpLinear || q.Node.Op == OpQLinear) {
					qkv[q] = true
				}
			}
		}
	}
	for _, a := range p.Steps {
		if a.Node.Op != OpAttention {
			continue
		}
		var steps []*Step
		for _, in := range a.In[:min(len(a.In), attentionParts)] {
			if q := prod[in]; q != nil && qkv[q] {
				steps = append(steps, q)
				break
			}
		}
		steps = append(steps, a)
		seen := map[*Step]bool{a: true}
		queue := append([]*Value{}, a.Out...)
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			for _, c := range cons[v] {
				if seen[c] || c.Node.Op == OpAttention || qkv[c] {
					continue
				}
				seen[c] = true
				steps = append(steps, c)
				queue = append(queue, c.Out...)
			}
		}
		sort.SliceStable(steps, func(i, j int) bool { return index[steps[i]] < index[steps[j]] })
		// A constant query is a learned one (the plan is bound, so the
		// probe's projection was folded).
		pooling := a.In[0] != nil && a.In[0].Const != nil
		r.Blocks = append(r.Blocks, p.blockReport(len(r.Blocks), steps, pooling, prod, cons))
	}
	return r
}

func (p *Plan) blockReport(index int, steps []*Step, pooling bool, prod map[*Value]*Step, cons map[*Value][]*Step) BlockReport {
	b := BlockReport{Index: index, Pooling: pooling, Unfused: map[string]int{}}
	linears := 0
	// LayerNorms fold only into float Linears (an int8 block quantizes
	// the LayerNorm's output; a float16 one's prologue rounds it), and a pre-LN
	// block's LayerNorms feed its first (Q/K/V) and third (fc1) Linear:
	// a float output projection among int8 ones (dynamic quantisation
	// leaves Gemm in float) reads none; a pooling block's K/V Linear reads
	// the last hidden state, a graph output. A post-LN block's (BERT,
	// XLM-R) LayerNorm output is also the next residual: it cannot fold.
	prologues := 0
	sharedNorm := func(v *Value) bool {
		n := prod[v]
		return n != nil && n.Node.Op == "LayerNormalization" && len(cons[v]) > 1
	}
	for _, s := range steps {
		switch s.Node.Op {
		case OpLinear, OpQLinear:
			// The last block runs to the plan's end: count the block's
			// four Linears, not the pooling head's.
			if linears == 4 {
				continue
			}
			linears++
			b.Linears++
			if s.Node.Op == OpLinear && (linears == 1 && !pooling || linears == 3) && s.In[0] != nil && isF32(s.In[0]) && s.In[0].DType == s.Out[0].DType && !sharedNorm(s.In[0]) {
				prologues++
			}
			if s.Node.Op == OpLinear && len(s.In) > linearNormScale && s.In[linearNormScale] != nil {
				b.Prologues++
			}
			if s.P.Act != ActNone {
				b.Activation = true
				b.ActName = map[int]string{ActQuickGELU: "QuickGELU", ActGELU: "GELU", ActGELUTanh: "GELU(tanh)", ActReLU: "ReLU"}[s.P.Act]
			}
			res := linearResidual
			if s.Node.Op == OpQLinear {
				res = qlinearResidual
			}
			if len(s.In) > res && s.In[res] != nil {
				b.Residuals++
			}
		case OpAttention:
			b.PackedQKV = len(s.In) > 2 && (s.In[1] == nil || pooling) && s.In[2] == nil
			b.Causal = s.P.Causal
		default:
			// A Reshape only renames its input's data: it costs nothing;
			// a post-LN block's LayerNorm has nothing to fold into.
			if d := p.Ops.Lookup(s.Node.Op); linears < 4 && (d == nil || !d.Aliases) && !(len(s.Out) == 1 && sharedNorm(s.Out[0])) {
				b.Unfused[s.Node.Op]++
			}
		}
	}
	residuals := 2
	switch {
	case pooling:
		residuals = 1
		if !b.PackedQKV {
			b.Missing = append(b.Missing, "K and V run as separate projections")
		}
	case !b.PackedQKV:
		b.Missing = append(b.Missing, "Q, K and V run as separate projections")
	}
	if b.Linears < 4 {
		b.Missing = append(b.Missing, fmt.Sprintf("%d of 4 projections fused into Linears", b.Linears))
	}
	if b.Prologues < prologues {
		b.Missing = append(b.Missing, fmt.Sprintf("%d of %d LayerNorms folded into a Linear", b.Prologues, prologues))
	}
	if !b.Activation {
		b.Missing = append(b.Missing, "MLP activation not in fc1's epilogue")
	}
	if b.Residuals < residuals {
		b.Missing = append(b.Missing, fmt.Sprintf("%d of %d residual Adds in a Linear's epilogue", b.Residuals, residuals))
	}
	if len(b.Unfused) > 0 {
		var ops []string
		for op, n := range b.Unfused {
			ops = append(ops, fmt.Sprintf("%s×%d", op, n))
		}
		sort.Strings(ops)
		b.Missing = append(b.Missing, "op-by-op steps: "+strings.Join(ops, " "))
	}
	b.Complete = len(b.Missing) == 0
	return b
}

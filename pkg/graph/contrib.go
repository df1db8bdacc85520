package graph

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/clip-go/clip/pkg/onnx"
)

// Contrib operators: onnxruntime's quantization tools write operators of
// its own domain (com.microsoft) into files users download. transformers.js
// publishes `_q4` and `_q4f16` files (onnxruntime's MatMul4BitsQuantizer:
// MatMulNBits) and `_bnb4` files (MatMulBnb4) beside the float ones. Both
// hold a constant weight in a block-quantized layout, and onnxruntime's CPU
// kernels dequantize it and multiply in float32 (accuracy level 0, what
// transformers.js writes). FromModel does the same once, at load: the node
// becomes the standard MatMul with a float32 [K, N] weight (+ Add of the
// bias), so every canonicalisation, fusion and kernel applies to it, and
// it runs at the float32 file's speed.
//
// The price is memory: the weights are held as float32, as in the float32
// file.

// contribDomain is onnxruntime's operator domain.
const contribDomain = "com.microsoft"

// lowerContrib returns the standard nodes computing contrib node n, with
// their constants added to g.Consts, or an error naming what is not
// supported.
func lowerContrib(g *Graph, n *Node) ([]*Node, error) {
	switch n.Op {
	case "MatMulNBits":
		return lowerMatMulNBits(g, n)
	case "MatMulBnb4":
		return lowerMatMulBnb4(g, n)
	}
	return nil, fmt.Errorf("operator %s of domain %q is not supported (of onnxruntime's contrib operators only the weight-quantized MatMulNBits and MatMulBnb4 are)", n.Op, contribDomain)
}

// contribConst returns input i of n as a constant of one of the dtypes,
// or nil and no error when the optional input is absent.
func contribConst(g *Graph, n *Node, i int, what string, dtypes ...onnx.DataType) (*Tensor, error) {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return nil, nil
	}
	t := g.Consts[n.Inputs[i]]
	if t == nil {
		return nil, fmt.Errorf("%s %q is computed by the graph; only a constant (an initializer) is supported", what, n.Inputs[i])
	}
	for _, dt := range dtypes {
		if t.DType == dt {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%s %q has element type %s", what, n.Inputs[i], DTypeName(t.DType))
}

// contribSizes returns the K, N and block_size attributes both weight-
// quantized MatMuls carry, checked.
func contribSizes(n *Node) (k, cols, bs int, err error) {
	k, cols, bs = int(n.Int("K", 0)), int(n.Int("N", 0)), int(n.Int("block_size", 0))
	if k <= 0 || cols <= 0 || k > 1<<20 || cols > 1<<20 {
		return 0, 0, 0, fmt.Errorf("attributes K=%d, N=%d: want positive sizes", k, cols)
	}
	if bs < 16 || bs&(bs-1) != 0 || bs > 1<<16 {
		return 0, 0, 0, fmt.Errorf("block_size=%d: want a power of two ≥ 16", bs)
	}
	return k, cols, bs, nil
}

// lowerMatMulNBits dequantizes MatMulNBits' B: codes of `bits` bits packed
// low-first into bytes, [N, ⌈K/block_size⌉, block_size·bits/8]; one scale
// per column and block; zero points per column and block, packed the same
// way as uint8 or unpacked in A's type, 2^(bits−1) when absent. W[k][n] =
// (code − zero point) · scale.
func lowerMatMulNBits(g *Graph, n *Node) ([]*Node, error) {
	k, cols, bs, err := contribSizes(n)
	if err != nil {
		return nil, err
	}
	bits := int(n.Int("bits", 4))
	if bits != 2 && bits != 4 && bits != 8 {
		return nil, fmt.Errorf("bits=%d is not supported (2, 4 or 8)", bits)
	}
	if len(n.Inputs) > 4 && n.Inputs[4] != "" {
		return nil, fmt.Errorf("g_idx (act-order quantization) is not supported")
	}
	b, err := contribConst(g, n, 1, "B", onnx.Uint8)
	if err != nil || b == nil {
		return nil, orMissing(err, "B")
	}
	scales, err := contribConst(g, n, 2, "scales", onnx.Float, onnx.Float16)
	if err != nil || scales == nil {
		return nil, orMissing(err, "scales")
	}
	zps, err := contribConst(g, n, 3, "zero_points", onnx.Uint8, scales.DType)
	if err != nil {
		return nil, err
	}
	bias, err := contribConst(g, n, 5, "bias", scales.DType)
	if err != nil {
		return nil, err
	}
	blocks := (k + bs - 1) / bs
	blob := bs * bits / 8
	if b.Len() != cols*blocks*blob {
		return nil, fmt.Errorf("B %q holds %d bytes; K=%d, N=%d, block_size=%d, bits=%d need [%d, %d, %d]", n.Inputs[1], b.Len(), k, cols, bs, bits, cols, blocks, blob)
	}
	if scales.Len() != cols*blocks {
		return nil, fmt.Errorf("scales %q holds %d values; want N·blocks = %d", n.Inputs[2], scales.Len(), cols*blocks)
	}
	perByte := 8 / bits
	zpPacked := (blocks + perByte - 1) / perByte // bytes per column
	if zps != nil && zps.DType == onnx.Uint8 && zps.Len() != cols*zpPacked {
		return nil, fmt.Errorf("zero_points %q holds %d bytes; want N·⌈blocks·bits/8⌉ = %d", n.Inputs[3], zps.Len(), cols*zpPacked)
	}
	if zps != nil && zps.DType != onnx.Uint8 && zps.Len() != cols*blocks {
		return nil, fmt.Errorf("zero_points %q holds %d values; want N·blocks = %d", n.Inputs[3], zps.Len(), cols*blocks)
	}
	if bias != nil && bias.Len() != cols {
		return nil, fmt.Errorf("bias %q holds %d values; want N = %d", n.Inputs[5], bias.Len(), cols)
	}
	mask := byte(1<<bits - 1)
	defZP := float32(int(1) << (bits - 1))
	// Float16 scales and zero points as large as a weight's are lazy
	// too: widen them once here (N·K/32 values).
	sf := scales.Materialize()
	var zf []float32
	if zps != nil && zps.DType != onnx.Uint8 {
		zf = zps.Materialize()
	}
	w := fromColumns(k, cols, func(j int, col []float32) {
		for blk := range blocks {
			part := col[blk*bs : min((blk+1)*bs, k)]
			scale := sf[j*blocks+blk]
			zp := defZP
			switch {
			case zps == nil:
			case zps.DType == onnx.Uint8:
				v := zps.Uint8[j*zpPacked+blk/perByte]
				zp = float32(v >> (uint(blk%perByte) * uint(bits)) & mask)
			default:
				zp = zf[j*blocks+blk]
			}
			codes := b.Uint8[(j*blocks+blk)*blob:][:blob]
			i := 0
			if bits == 4 {
				// Two codes a byte, the lower k in the low nibble.
				for ; i+1 < len(part); i += 2 {
					v := codes[i/2]
					part[i] = (float32(v&0xF) - zp) * scale
					part[i+1] = (float32(v>>4) - zp) * scale
				}
			}
			for ; i < len(part); i++ {
				c := codes[i/perByte] >> (uint(i%perByte) * uint(bits)) & mask
				part[i] = (float32(c) - zp) * scale
			}
		}
	})
	biasName := ""
	if bias != nil {
		biasName = n.Inputs[5]
	}
	return contribMatMul(g, n, w, biasName, scales.DType), nil
}

// bnb4Tables are bitsandbytes' 4-bit code books (quant_type 0: FP4, 1:
// NF4), as onnxruntime's dequantize_blockwise_bnb4.h lists them.
var bnb4Tables = [2][16]float32{
	{0, 5.208333333e-03, 0.66666667, 1, 0.33333333, 0.5, 0.16666667, 0.25,
		float32(math.Copysign(0, -1)), -5.208333333e-03, -0.66666667, -1, -0.33333333, -0.5, -0.16666667, -0.25},
	{-1, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
		-0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0,
		0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
		0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1},
}

// lowerMatMulBnb4 dequantizes MatMulBnb4's B: the [N, K] weight flattened,
// two 4-bit codes per byte with the even index in the high nibble, each
// the index of a code-book value scaled by its block's absmax.
func lowerMatMulBnb4(g *Graph, n *Node) ([]*Node, error) {
	k, cols, bs, err := contribSizes(n)
	if err != nil {
		return nil, err
	}
	if qt := n.Int("quant_type", -1); qt != 0 && qt != 1 {
		return nil, fmt.Errorf("quant_type=%d: want 0 (FP4) or 1 (NF4)", qt)
	}
	if n.Int("transB", 1) != 1 || n.Int("training_mode", 0) != 0 {
		return nil, fmt.Errorf("only transB=1 and training_mode=0 are supported")
	}
	b, err := contribConst(g, n, 1, "B", onnx.Uint8)
	if err != nil || b == nil {
		return nil, orMissing(err, "B")
	}
	absmax, err := contribConst(g, n, 2, "absmax", onnx.Float, onnx.Float16)
	if err != nil || absmax == nil {
		return nil, orMissing(err, "absmax")
	}
	total := k * cols
	if b.Len() != (total+1)/2 {
		return nil, fmt.Errorf("B %q holds %d bytes; N·K = %d codes need %d", n.Inputs[1], b.Len(), total, (total+1)/2)
	}
	if absmax.Len() != (total+bs-1)/bs {
		return nil, fmt.Errorf("absmax %q holds %d values; want ⌈N·K/block_size⌉ = %d", n.Inputs[2], absmax.Len(), (total+bs-1)/bs)
	}
	table := &bnb4Tables[n.Int("quant_type", -1)]
	am := absmax.Materialize()
	// The codes are Wᵀ's values in order, column after column of W.
	w := fromColumns(k, cols, func(j int, col []float32) {
		f := uint(j * k) // the flat index of col[0]
		for i := 0; i < len(col); {
			// One absmax block at a time.
			blk := (f + uint(i)) / uint(bs)
			scale := am[blk]
			for end := min(len(col), int((blk+1)*uint(bs)-f)); i < end; i++ {
				c := f + uint(i)
				code := b.Uint8[c/2] >> 4
				if c%2 == 1 {
					code = b.Uint8[c/2] & 0xF
				}
				col[i] = table[code] * scale
			}
		}
	})
	return contribMatMul(g, n, w, "", absmax.DType), nil
}

// fromColumns returns the float32 [k, cols] matrix W whose column j
// decode(j, col) writes (k values). The block-quantized
// layouts store each column's values together, so a band of columns is
// decoded into a buffer and written out row by row: 256 columns make
// each row's piece a kilobyte of contiguous writes (narrower bands made
// the writes latency-bound, 2.3× slower on a ViT-B fc1 weight). The
// bands run in parallel.
//
// The tensor is lazy (see Tensor.Materialize): it is decoded when the
// engine packs it (or anything else reads it), from the compact weight
// decode reads, which stays referenced.
func fromColumns(k, cols int, decode func(j int, col []float32)) *Tensor {
	return newLazy(onnx.Float, []int{k, cols}, func() []float32 { return decodeColumns(k, cols, decode) }, nil)
}

// decodeColumns is fromColumns' data.
func decodeColumns(k, cols int, decode func(j int, col []float32)) []float32 {
	w := make([]float32, k*cols)
	const band = 256
	// The buffer's columns are a cache line longer than k: with a stride
	// of k floats (768, 3072) the columns' lines read together for one
	// row would fall in a few cache sets and evict one another.
	ld := k + 16
	parallelRanges((cols+band-1)/band, func(b0, b1 int) {
		buf := make([]float32, band*ld)
		for j0 := b0 * band; j0 < min(b1*band, cols); j0 += band {
			width := min(band, cols-j0)
			for jj := 0; jj < width; jj++ {
				decode(j0+jj, buf[jj*ld:jj*ld+k])
			}
			for i := 0; i < k; i++ {
				row := w[i*cols+j0 : i*cols+j0+width]
				for jj := range row {
					row[jj] = buf[jj*ld+i]
				}
			}
		}
	})
	return w
}

// parallelRanges splits [0, n) into one contiguous range per CPU and runs
// fn on each concurrently: dequantizing a model's weights at load is the
// only long loop here.
func parallelRanges(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(n, 1))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

func orMissing(err error, what string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("input %s is missing", what)
}

// contribMatMul writes n as MatMul(A, w) (+ Add of the bias, the input
// named bias when not ""). For a float16 A
// (a q4f16 file) the weight is labelled float16, so that the graph stays
// float16 and the float16 fusions (LayerNorm into the Linear, Q/K/V,
// epilogues) take it, but it holds the float32 values (code − zero point)
// · scale unrounded: onnxruntime's x86 kernel widens A, multiplies by them
// in float32 and rounds the product to float16, and our float16 steps do
// the same (they compute in float32 and round what they store; a
// constant's values are never rounded).
func contribMatMul(g *Graph, n *Node, w *Tensor, bias string, dt onnx.DataType) []*Node {
	name := func(suffix string) string {
		s := n.Outputs[0] + "/clip_" + suffix
		for g.Consts[s] != nil {
			s += "_"
		}
		return s
	}
	w.DType = dt
	wName := name("weight")
	g.Consts[wName] = w
	mm := n.Outputs[0]
	if bias != "" {
		mm = name("matmul")
	}
	nodes := []*Node{{Name: n.Name + "/MatMul", Op: "MatMul", Inputs: []string{n.Inputs[0], wName}, Outputs: []string{mm}, Attrs: map[string]*onnx.Attribute{}}}
	if bias != "" {
		nodes = append(nodes, &Node{Name: n.Name + "/Add", Op: "Add", Inputs: []string{mm, bias}, Outputs: n.Outputs, Attrs: map[string]*onnx.Attribute{}})
	}
	return nodes
}

// Package feeds makes random inputs for an ONNX graph from its declared
// shapes, sizing symbolic dimensions the way CLIP towers name them: what
// `clip onnx bench` times and what `clip onnx info --plan` binds the plan
// with.
package feeds

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"github.com/clip-go/clip/pkg/engine"
	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// InputSpec says how RandomInputs sizes and fills the inputs.
type InputSpec struct {
	Batch int // symbolic first dims and dims named like *batch*
	Seq   int // other symbolic dims
	Seed  int64
	// Dims gives symbolic dimensions by name; it wins over every rule.
	Dims map[string]int
	// ImageSize is used for symbolic dims named like *height*/*width* (0:
	// 224, CLIP's usual input size).
	ImageSize int
}

// RandomInputs makes one random tensor per graph input from its declared
// shape. Symbolic (or unknown) dimensions are resolved, in order: by name
// from spec.Dims; the first dimension, or one named like *batch*, is
// spec.Batch; one named like *channel* is what the Conv consuming the input
// expects; *height*/*width* are spec.ImageSize; anything else is spec.Seq.
// It returns the tensors and the number of items per run (the first
// dimension of the first input, which a model may fix).
func RandomInputs(g *graph.Graph, spec InputSpec) (map[string]*engine.Tensor, int, error) {
	rng := rand.New(rand.NewSource(spec.Seed))
	feeds := map[string]*engine.Tensor{}
	items := 0
	for _, in := range g.Inputs {
		if in.Shape == nil {
			return nil, 0, fmt.Errorf("input %q declares no shape; bench cannot invent one", in.Name)
		}
		shape := make([]int, len(in.Shape))
		for i, d := range in.Shape {
			p := strings.ToLower(d.Param)
			v, named := spec.Dims[d.Param]
			switch {
			case d.Param == "" && d.Value >= 0:
				shape[i] = int(d.Value)
			case named && d.Param != "":
				shape[i] = v
			case i == 0 || strings.Contains(p, "batch"):
				shape[i] = spec.Batch
			case strings.Contains(p, "channel") && convChannels(g, in.Name) > 0:
				shape[i] = convChannels(g, in.Name)
			case strings.Contains(p, "height") || strings.Contains(p, "width"):
				shape[i] = spec.ImageSize
				if shape[i] <= 0 {
					shape[i] = 224
				}
			default:
				shape[i] = spec.Seq
			}
		}
		if items == 0 && len(shape) > 0 {
			items = shape[0]
		}
		t, err := randomTensor(g, in, shape, rng)
		if err != nil {
			return nil, 0, err
		}
		feeds[in.Name] = t
	}
	if items <= 0 {
		items = 1
	}
	return feeds, items, nil
}

// convChannels is the input channel count of the first Conv (or
// ConvInteger) fed by input, directly or through single-input steps such
// as DynamicQuantizeLinear or Cast: its weights are [Cout, Cin/group, ...].
func convChannels(g *graph.Graph, input string) int {
	derived := map[string]bool{input: true}
	for _, n := range g.Nodes {
		if len(n.Inputs) == 0 || !derived[n.Inputs[0]] {
			continue
		}
		if n.Op == "Conv" || n.Op == "ConvInteger" {
			if len(n.Inputs) < 2 {
				return 0
			}
			if w := g.Consts[n.Inputs[1]]; w != nil && len(w.Shape) >= 2 {
				return w.Shape[1] * int(max(n.Int("group", 1), 1))
			}
			return 0
		}
		for _, o := range n.Outputs {
			derived[o] = true
		}
	}
	return 0
}

// nearConfig is what RandomInputs' callers read from a Hugging Face
// config.json beside a model file.
type nearConfig struct {
	ImageSize    int `json:"image_size"`
	VisionConfig struct {
		ImageSize int `json:"image_size"`
	} `json:"vision_config"`
	Positions  int `json:"max_position_embeddings"`
	TextConfig struct {
		Positions int `json:"max_position_embeddings"`
	} `json:"text_config"`
}

// configNear reads the config.json beside the model's onnx/ directory or
// beside the model, whichever exists first and parses.
func configNear(model string) (nearConfig, bool) {
	dir := filepath.Dir(model)
	for _, p := range []string{filepath.Join(dir, "..", "config.json"), filepath.Join(dir, "config.json")} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var c nearConfig
		if json.Unmarshal(b, &c) == nil {
			return c, true
		}
	}
	return nearConfig{}, false
}

// ImageSizeNear reads the vision input size from the Hugging Face
// config.json beside the model's onnx/ directory (vision_config.image_size,
// or image_size), or returns 0 when there is none.
func ImageSizeNear(model string) int {
	c, _ := configNear(model)
	if c.VisionConfig.ImageSize > 0 {
		return c.VisionConfig.ImageSize
	}
	return c.ImageSize
}

// SeqNear returns seq, or fewer when the config.json beside the model
// gives the text tower fewer positions (text_config.max_position_embeddings
// or max_position_embeddings: SigLIP's 64 where CLIP has 77): a sequence
// longer than the position table does not run.
func SeqNear(model string, seq int) int {
	c, _ := configNear(model)
	n := c.TextConfig.Positions
	if n <= 0 {
		n = c.Positions
	}
	if n > 0 && n < seq {
		return n
	}
	return seq
}

func randomTensor(g *graph.Graph, in *onnx.ValueInfo, shape []int, rng *rand.Rand) (*engine.Tensor, error) {
	if n := graph.NumElements(shape); n <= 0 || n > graph.MaxElements {
		return nil, fmt.Errorf("input %q: shape %v is empty or too large", in.Name, shape)
	}
	t := graph.NewTensor(in.ElemType, shape)
	name := strings.ToLower(in.Name)
	switch in.ElemType {
	case onnx.Float, onnx.Float16, onnx.BFloat16:
		for i := range t.Float32 {
			t.Float32[i] = float32(rng.NormFloat64())
		}
		if in.ElemType != onnx.Float {
			kernels.RoundFloat16(nil, t.Float32)
		}
	case onnx.Double:
		for i := range t.Float64 {
			t.Float64[i] = rng.NormFloat64()
		}
	case onnx.Int64, onnx.Int32:
		ids := intValues(g, in, shape, name, rng)
		for i, v := range ids {
			if t.Int64 != nil {
				t.Int64[i] = v
			} else {
				t.Int32[i] = int32(v)
			}
		}
	case onnx.Bool:
		for i := range t.Bool {
			t.Bool[i] = true
		}
	default:
		return nil, fmt.Errorf("input %q: cannot make random %s values", in.Name, graph.DTypeName(in.ElemType))
	}
	return t, nil
}

// intValues fills an integer input: all ones for masks, 0..L-1 for
// position ids, and token ids otherwise. Each row of ids (the last
// dimension) is the start token, small ordinary ids, and the end token,
// the vocabulary's largest id, last: CLIP's text models pool at the
// argmax id, so the whole sequence is attended, as for a full prompt.
func intValues(g *graph.Graph, in *onnx.ValueInfo, shape []int, name string, rng *rand.Rand) []int64 {
	vals := make([]int64, graph.NumElements(shape))
	row := 1
	if len(shape) > 0 {
		row = max(shape[len(shape)-1], 1)
	}
	switch {
	case strings.Contains(name, "mask"):
		for i := range vals {
			vals[i] = 1
		}
		return vals
	case strings.Contains(name, "position"):
		for i := range vals {
			vals[i] = int64(i % row)
		}
		return vals
	}
	vocab := VocabSize(g, in.Name)
	if vocab < 3 {
		vocab = 100 // no embedding table found: stay below 100, as `clip onnx run --random` does
	}
	eot, bos := int64(vocab-1), int64(vocab-2)
	ordinary := int64(min(vocab-2, 1000)) // small ids: a BPE vocabulary's common words
	for i := range vals {
		switch pos := i % row; {
		case pos == row-1:
			vals[i] = eot
		case pos == 0 && row > 2:
			vals[i] = bos
		default:
			vals[i] = rng.Int63n(ordinary)
		}
	}
	return vals
}

// VocabSize finds the embedding table the ids input indexes (a Gather on
// a constant [vocab, width] matrix, possibly after Cast/Reshape-like
// nodes) and returns its row count, or 0 when there is none.
func VocabSize(g *graph.Graph, input string) int {
	derived := map[string]bool{input: true}
	for _, n := range g.Nodes {
		if len(n.Inputs) == 0 {
			continue
		}
		switch n.Op {
		case "Cast", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity":
			if derived[n.Inputs[0]] {
				for _, o := range n.Outputs {
					derived[o] = true
				}
			}
		case "Gather":
			if len(n.Inputs) < 2 || !derived[n.Inputs[1]] {
				continue
			}
			if t := g.Consts[n.Inputs[0]]; t != nil && len(t.Shape) == 2 && n.Int("axis", 0) == 0 {
				return t.Shape[0]
			}
		}
	}
	return 0
}

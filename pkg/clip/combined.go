package clip

import (
	"context"
	"fmt"

	"github.com/clip-go/clip/pkg/engine"
	"github.com/clip-go/clip/pkg/onnx"
)

// openTowers opens the image and/or text tower of a combined export
// (onnx/model.onnx: input_ids, pixel_values, attention_mask →
// logits_per_image, text_embeds, image_embeds…) as separate sessions, each
// on the part of the graph its embedding output depends on. So an image
// batch runs no text layers and a text batch no vision layers, and neither
// needs a dummy input for the other tower. The sessions share the decoded
// model, which the returned close function releases after them.
func openTowers(ctx context.Context, path string, wantVision, wantText bool, opt engine.Options) (vision, text *encoder, closeModel func() error, err error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, nil, nil, err
	}
	closeAll := func() {
		for _, e := range []*encoder{vision, text} {
			if e != nil {
				e.sess.Close()
			}
		}
		m.Close()
	}
	open := func(output string) (*encoder, error) {
		tower, err := towerOf(m, output)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		sess, err := engine.NewSession(ctx, tower, opt)
		if err != nil {
			return nil, fmt.Errorf("%s (%s tower): %w", path, output, err)
		}
		return newEncoder(path, sess)
	}
	if wantVision {
		if vision, err = open("image_embeds"); err != nil {
			closeAll()
			return nil, nil, nil, err
		}
	}
	if wantText {
		if text, err = open("text_embeds"); err != nil {
			closeAll()
			return nil, nil, nil, err
		}
	}
	return vision, text, m.Close, nil
}

// towerOf returns a copy of m whose graph has the single output out, only
// the nodes out depends on and only the inputs those nodes read. The copy
// shares m's nodes and tensors.
func towerOf(m *onnx.Model, out string) (*onnx.Model, error) {
	g := m.Graph
	var outVI *onnx.ValueInfo
	for _, o := range g.Outputs {
		if o.Name == out {
			outVI = o
		}
	}
	if outVI == nil {
		return nil, fmt.Errorf("combined export has no %s output", out)
	}
	producer := map[string]int{}
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			producer[o] = i
		}
	}
	live := map[string]bool{}
	keep := make([]bool, len(g.Nodes))
	stack := []string{out}
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if live[name] {
			continue
		}
		live[name] = true
		i, ok := producer[name]
		if !ok || keep[i] {
			continue
		}
		keep[i] = true
		stack = append(stack, g.Nodes[i].Inputs...)
		for _, a := range g.Nodes[i].Attributes {
			// A subgraph may read any outer value: keep all it names.
			for _, sg := range append([]*onnx.Graph{a.G}, a.Graphs...) {
				stack = append(stack, namesReadBy(sg)...)
			}
		}
	}
	tg := *g
	tg.Outputs = []*onnx.ValueInfo{outVI}
	tg.Nodes = nil
	for i, n := range g.Nodes {
		if keep[i] {
			tg.Nodes = append(tg.Nodes, n)
		}
	}
	tg.Inputs = nil
	for _, in := range g.Inputs {
		if live[in.Name] {
			tg.Inputs = append(tg.Inputs, in)
		}
	}
	return &onnx.Model{
		IRVersion: m.IRVersion, ProducerName: m.ProducerName, ProducerVersion: m.ProducerVersion,
		Domain: m.Domain, ModelVersion: m.ModelVersion, OpsetImports: m.OpsetImports,
		MetadataProps: m.MetadataProps, Functions: m.Functions, Path: m.Path, Graph: &tg,
	}, nil
}

// namesReadBy lists the values g's nodes (and their subgraphs') read.
func namesReadBy(g *onnx.Graph) []string {
	if g == nil {
		return nil
	}
	var names []string
	for _, n := range g.Nodes {
		names = append(names, n.Inputs...)
		for _, a := range n.Attributes {
			for _, sg := range append([]*onnx.Graph{a.G}, a.Graphs...) {
				names = append(names, namesReadBy(sg)...)
			}
		}
	}
	return names
}

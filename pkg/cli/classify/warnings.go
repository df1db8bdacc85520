package classify

import (
	"fmt"
	"strings"

	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/clip"
)

// tokenCounter is what the long-prompt check needs from a tokenizer.
type tokenCounter interface {
	EncodeAll(text string) []int
	ContextLength() int
}

// tokenizerOf is the model's tokenizer, nil for a model that does not say.
func tokenizerOf(m Model) tokenCounter {
	if lm, ok := m.(*modelload.Model); ok && lm.Tokenizer != nil {
		return lm.Tokenizer
	}
	return nil
}

// promptWarnings are the label and template mistakes that silently spoil
// results: one label (softmax over one is always 1), a template without
// {} (the label is appended), and a prompt longer than the model's context
// (its end is cut off, so two long labels can become identical). One
// warning per label.
func promptWarnings(labels []clip.Label, templates []string, tok tokenCounter) []string {
	var out []string
	if len(labels) == 1 {
		out = append(out, fmt.Sprintf("only one label (%q): its probability is always 1.000 under softmax; give two or more labels to compare", labels[0].Name))
	}
	for _, t := range templates {
		if !strings.Contains(t, "{}") {
			out = append(out, fmt.Sprintf("--template %q has no {}: the label is appended to it (%q)", t, clip.FillTemplate(t, "LABEL")))
		}
	}
	if tok == nil {
		return out
	}
	prompts, err := clip.Prompts(labels, templates)
	if err != nil {
		return out
	}
	limit := tok.ContextLength()
	for i, ps := range prompts {
		longest := 0
		for _, p := range ps {
			longest = max(longest, len(tok.EncodeAll(p)))
		}
		if longest > limit {
			out = append(out, fmt.Sprintf("label %q: its prompt is %d tokens, longer than the model's context of %d: the end is cut off", labels[i].Name, longest, limit))
		}
	}
	return out
}

// templatesUsed is what the prompts were made from: the default template
// when none was given.
func templatesUsed(templates []string) []string {
	if len(templates) == 0 {
		return []string{clip.DefaultTemplate}
	}
	return templates
}

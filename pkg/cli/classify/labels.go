package classify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/inputs"
)

// maxLabelsFileBytes bounds a labels file: thousands of labels with
// prompts fit in far less.
const maxLabelsFileBytes = 16 << 20

const utf8BOM = "\uFEFF"

// parseLabelFlags splits each --labels value as one CSV record, so a label
// holding a comma can be quoted: --labels '"red, white and blue",green'.
func parseLabelFlags(values []string) ([]clip.Label, error) {
	var out []clip.Label
	for _, v := range values {
		r := csv.NewReader(strings.NewReader(v))
		r.TrimLeadingSpace = true
		rec, err := r.Read()
		if err != nil {
			return nil, fmt.Errorf("--labels %q: %v", v, err)
		}
		for _, l := range rec {
			l = strings.TrimSpace(l)
			if l == "" {
				return nil, fmt.Errorf("--labels %q: empty label", v)
			}
			out = append(out, clip.Label{Name: l})
		}
	}
	return out, nil
}

// readLabelsFile reads labels from a file: JSON or YAML (by extension, or
// by content) holding a list of labels or a mapping label → prompts (a
// string or a list), else plain text with one label per line ('#'
// comments and blank lines skipped).
//
// The file must be a regular file of at most maxLabelsFileBytes (a FIFO or
// /dev/zero would block or never end). A UTF-8 byte order mark, which some
// Windows editors write, is dropped so it does not join the first label.
func readLabelsFile(path string) ([]clip.Label, error) {
	if path == "-" {
		// Standard input carries images or their paths; labels come
		// from a file.
		return nil, fmt.Errorf(`labels file "-": standard input is for images (or their paths); give a file`)
	}
	b, err := inputs.ReadFile(context.Background(), path, maxLabelsFileBytes, nil)
	if err != nil {
		return nil, fmt.Errorf("labels file %s: %w", path, err)
	}
	b = bytes.TrimPrefix(b, []byte(utf8BOM))
	ext := strings.ToLower(filepath.Ext(path))
	trimmed := bytes.TrimSpace(b)
	switch {
	case ext == ".json" || (ext != ".yaml" && ext != ".yml" && len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')):
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("labels file %s: invalid JSON: %v", path, err)
		}
		return labelsFromValue(path, b, v)
	case ext == ".yaml" || ext == ".yml":
		var node yaml.Node
		if err := yaml.Unmarshal(b, &node); err != nil {
			return nil, fmt.Errorf("labels file %s: invalid YAML: %v", path, err)
		}
		if len(node.Content) == 0 {
			return nil, fmt.Errorf("labels file %s: no labels", path)
		}
		return labelsFromYAML(path, node.Content[0])
	}
	var out []clip.Label
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if !isText(s) {
			return nil, fmt.Errorf("labels file %s:%d: not text", path, line)
		}
		out = append(out, clip.Label{Name: s})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("labels file %s: %v", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("labels file %s: no labels", path)
	}
	return out, nil
}

func isText(s string) bool {
	for _, r := range s {
		if r == 0 || r == '\uFFFD' {
			return false
		}
	}
	return true
}

// labelsFromValue handles decoded JSON: ["a","b"] or {"a": ["p1","p2"], "b": "p3"}.
// JSON objects lose key order in Go maps, so order comes from the raw tokens.
func labelsFromValue(path string, b []byte, v any) ([]clip.Label, error) {
	switch t := v.(type) {
	case []any:
		var out []clip.Label
		for i, e := range t {
			s, ok := e.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return nil, fmt.Errorf("labels file %s: item %d is not a non-empty string", path, i+1)
			}
			out = append(out, clip.Label{Name: strings.TrimSpace(s)})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("labels file %s: no labels", path)
		}
		return out, nil
	case map[string]any:
		keys, err := jsonKeyOrder(b)
		if err != nil {
			return nil, fmt.Errorf("labels file %s: %v", path, err)
		}
		var out []clip.Label
		for _, k := range keys {
			prompts, err := promptList(t[k])
			if err != nil {
				return nil, fmt.Errorf("labels file %s: label %q: %v", path, k, err)
			}
			out = append(out, clip.Label{Name: k, Prompts: prompts})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("labels file %s: no labels", path)
		}
		return out, nil
	}
	return nil, fmt.Errorf("labels file %s: want a list of labels or an object label → prompts", path)
}

func jsonKeyOrder(b []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func promptList(v any) ([]string, error) {
	switch t := v.(type) {
	case string:
		if strings.TrimSpace(t) == "" {
			return nil, fmt.Errorf("empty prompt")
		}
		return []string{t}, nil
	case []any:
		var out []string
		for _, e := range t {
			s, ok := e.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return nil, fmt.Errorf("prompts must be non-empty strings")
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no prompts")
		}
		return out, nil
	case nil:
		return nil, nil // label with no prompts of its own: templates apply
	}
	return nil, fmt.Errorf("prompts must be a string or a list of strings")
}

func labelsFromYAML(path string, n *yaml.Node) ([]clip.Label, error) {
	switch n.Kind {
	case yaml.SequenceNode:
		var out []clip.Label
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode || strings.TrimSpace(c.Value) == "" {
				return nil, fmt.Errorf("labels file %s:%d: want a label string", path, c.Line)
			}
			out = append(out, clip.Label{Name: strings.TrimSpace(c.Value)})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("labels file %s: no labels", path)
		}
		return out, nil
	case yaml.MappingNode:
		var out []clip.Label
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var raw any
			if err := v.Decode(&raw); err != nil {
				return nil, fmt.Errorf("labels file %s:%d: %v", path, v.Line, err)
			}
			prompts, err := promptList(raw)
			if err != nil {
				return nil, fmt.Errorf("labels file %s:%d: label %q: %v", path, v.Line, k.Value, err)
			}
			out = append(out, clip.Label{Name: strings.TrimSpace(k.Value), Prompts: prompts})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("labels file %s: no labels", path)
		}
		return out, nil
	}
	return nil, fmt.Errorf("labels file %s:%d: want a list of labels or a mapping label → prompts", path, n.Line)
}

package onnx

import (
	"fmt"
	"strings"
)

// ValueSummary describes a graph input or output for people and JSON
// (`clip onnx info`, `clip models info`). Shape holds numbers for known
// dims, strings for symbolic ones and null for unknown ones; it is null
// when the shape itself is unknown.
type ValueSummary struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []any  `json:"shape"`
}

// SummarizeValue describes a graph input or output: dtype (or its kind when
// it is not a tensor), and shape with symbolic dimensions by name and
// unknown ones as null.
func SummarizeValue(vi *ValueInfo) ValueSummary {
	v := ValueSummary{Name: vi.Name, DType: vi.ElemType.String()}
	if vi.Kind != "" && vi.Kind != "tensor" {
		v.DType = vi.Kind
	}
	if vi.Shape != nil {
		v.Shape = []any{}
		for _, d := range vi.Shape {
			switch {
			case d.Value >= 0:
				v.Shape = append(v.Shape, d.Value)
			case d.Param != "":
				v.Shape = append(v.Shape, d.Param)
			default:
				v.Shape = append(v.Shape, nil)
			}
		}
	}
	return v
}

// ShapeString renders a ValueSummary's shape for tables: [batch, 3, 224, 224],
// "?" for an unknown dimension, "unknown" for an unknown shape.
func ShapeString(shape []any) string {
	if shape == nil {
		return "unknown"
	}
	parts := make([]string, len(shape))
	for i, d := range shape {
		if d == nil {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

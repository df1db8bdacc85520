package onnx

import (
	"encoding/json"
	"testing"
)

func TestSummarizeValueAndShapeString(t *testing.T) {
	for _, c := range []struct {
		vi        ValueInfo
		json, row string
	}{
		{ValueInfo{Name: "pixel_values", Kind: "tensor", ElemType: Float, Shape: []Dim{{Value: -1, Param: "batch"}, {Value: 3}, {Value: -1}, {Value: 224}}},
			`{"name":"pixel_values","dtype":"float32","shape":["batch",3,null,224]}`, "[batch, 3, ?, 224]"},
		{ValueInfo{Name: "x", Kind: "tensor", ElemType: Int64, Shape: []Dim{}}, `{"name":"x","dtype":"int64","shape":[]}`, "[]"},
		{ValueInfo{Name: "y", Kind: "tensor", ElemType: Float}, `{"name":"y","dtype":"float32","shape":null}`, "unknown"},
		{ValueInfo{Name: "s", Kind: "sequence"}, `{"name":"s","dtype":"sequence","shape":null}`, "unknown"},
	} {
		v := SummarizeValue(&c.vi)
		b, _ := json.Marshal(v)
		if string(b) != c.json || ShapeString(v.Shape) != c.row {
			t.Errorf("%s: %s and %q, want %s and %q", c.vi.Name, b, ShapeString(v.Shape), c.json, c.row)
		}
	}
}

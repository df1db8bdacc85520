package engine

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/engine/ops"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/onnx"
)

// nodeTestDir is where Debian's libonnx-testdata installs ONNX's
// per-operator test suite.
const nodeTestDir = "/usr/share/libonnx-testdata/data/node"

// smokeTests always run (when the suite is installed): one or two per
// kind of op, so a plain `go test` catches regressions quickly.
var smokeTests = []string{
	"test_tile", "test_tile_precomputed",
	"test_add_bcast", "test_mul_bcast", "test_div", "test_pow", "test_erf", "test_sigmoid", "test_tanh",
	"test_matmul_4d", "test_matmul_2d", "test_gemm_all_attributes", "test_conv_with_strides_padding",
	"test_reduce_mean_keepdims_example", "test_reduce_sum_keepdims_random", "test_softmax_axis_0",
	"test_softmax_large_number", "test_layer_normalization_4d_axis1", "test_gather_negative_indices",
	"test_gather_1", "test_slice_neg_steps", "test_concat_3d_axis_negative_1", "test_split_variable_parts_2d",
	"test_reshape_negative_extended_dims", "test_transpose_all_permutations_3", "test_unsqueeze_two_axes",
	"test_squeeze", "test_expand_dim_changed", "test_where_long_example", "test_equal_bcast", "test_cast_FLOAT_to_FLOAT16",
	"test_range_int32_type_negative_delta", "test_constantofshape_int_zeros", "test_argmax_negative_axis_keepdims_random_select_last_index",
	"test_tril", "test_triu_one_row", "test_clip_default_inbounds", "test_dynamicquantizelinear", "test_matmulinteger",
	"test_quantizelinear", "test_dequantizelinear", "test_dequantizelinear_axis", "test_convinteger_with_padding", "test_flatten_axis3", "test_shape", "test_sign", "test_softsign", "test_pow_types_float32_uint64",
}

// knownFailures are the node tests of listed ops that do not pass, each
// with the reason (also listed in README.md). Any other failure fails
// `make conformance`.
var knownFailures = map[string]string{
	"test_cast_FLOAT_to_STRING":                "string tensors are not supported",
	"test_cast_STRING_to_FLOAT":                "string tensors are not supported",
	"test_castlike_FLOAT_to_STRING_expanded":   "string tensors are not supported",
	"test_castlike_STRING_to_FLOAT_expanded":   "string tensors are not supported",
	"test_cast_FLOAT_to_BFLOAT16":              "onnx 1.12's data truncates to bfloat16; we round to nearest even as onnxruntime and later ONNX releases do",
	"test_castlike_BFLOAT16_to_FLOAT_expanded": "test data gives input 'like' shape [1] where the model declares [3 4]; we reject the mismatch, as onnxruntime does",
	"test_castlike_FLOAT_to_BFLOAT16_expanded": "test data gives input 'like' shape [1] where the model declares [3 4]; we reject the mismatch, as onnxruntime does",
	"test_identity_opt":                        "optional types are not tensors",
	"test_identity_sequence":                   "sequence types are not tensors",
}

type caseResult struct {
	name    string
	skipped bool
	err     error
}

// TestConformance runs ONNX's node tests for every operator we implement.
// CLIP_CONFORMANCE=1 runs the whole suite; otherwise a smoke subset.
func TestConformance(t *testing.T) {
	if _, err := os.Stat(nodeTestDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ONNX node tests not installed at %s (apt-get install libonnx-testdata)", nodeTestDir)
		}
		t.Skipf("ONNX node tests not installed at %s (apt-get install libonnx-testdata)", nodeTestDir)
	}
	full := os.Getenv("CLIP_CONFORMANCE") == "1"
	var names []string
	if full {
		ents, err := os.ReadDir(nodeTestDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.IsDir() {
				names = append(names, e.Name())
			}
		}
	} else {
		names = smokeTests
	}
	sort.Strings(names)
	var passed, failed, skipped int
	var failures, unexpected []string
	for _, name := range names {
		r := runNodeTest(filepath.Join(nodeTestDir, name))
		switch {
		case r.skipped:
			skipped++
		case r.err != nil:
			failed++
			failures = append(failures, fmt.Sprintf("%s: %v", name, r.err))
			if _, known := knownFailures[name]; !known {
				unexpected = append(unexpected, name)
			}
		default:
			passed++
		}
	}
	for _, f := range failures {
		// `make conformance` keeps these lines; documented failures are
		// marked so that they don't read as test failures.
		name, _, _ := strings.Cut(f, ":")
		if reason, known := knownFailures[name]; known {
			fmt.Printf("known failure: %s (%s)\n", f, reason)
		} else {
			fmt.Println("--- FAIL: " + f)
		}
	}
	line := fmt.Sprintf("conformance: %d passed, %d failed, %d skipped", passed, failed, skipped)
	if full {
		if f := os.Getenv("CLIP_CONFORMANCE_REPORT"); f != "" {
			os.WriteFile(f, []byte(strings.Join(failures, "\n")+"\n"+line+"\n"), 0o644)
		}
	}
	fmt.Println(line)
	if !full && failed > 0 {
		t.Errorf("%d smoke conformance tests failed", failed)
	}
	if full && len(unexpected) > 0 {
		t.Errorf("%d conformance tests failed that are not documented known failures: %s", len(unexpected), strings.Join(unexpected, ", "))
	}
	if full && os.Getenv("CLIP_CONFORMANCE_STRICT") == "1" && failed > 0 {
		t.Errorf("%d conformance tests failed", failed)
	}
}

func runNodeTest(dir string) (res caseResult) {
	res.name = filepath.Base(dir)
	defer func() {
		if p := recover(); p != nil {
			res.err = fmt.Errorf("panic: %v", p)
		}
	}()
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return caseResult{err: err}
	}
	defer m.Close()
	for _, n := range m.Graph.Nodes {
		if !ops.Supported(n.OpType) || (n.Domain != "" && n.Domain != "ai.onnx") {
			return caseResult{skipped: true}
		}
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return caseResult{err: fmt.Errorf("no test data sets")}
	}
	for _, set := range sets {
		if err := runDataSet(m, set); err != nil {
			return caseResult{err: fmt.Errorf("%s: %w", filepath.Base(set), err)}
		}
	}
	return caseResult{}
}

func readPB(path string) (*graph.Tensor, error) {
	ot, err := onnx.ReadTensor(path)
	if err != nil {
		return nil, err
	}
	return graph.FromONNX(ot)
}

// readPBAs reads a tensor file; onnx's suite stores bfloat16 data as
// uint16 bits (numpy has no bfloat16), so those are reinterpreted when the
// model declares bfloat16.
func readPBAs(path string, want onnx.DataType) (*graph.Tensor, error) {
	ot, err := onnx.ReadTensor(path)
	if err != nil {
		return nil, err
	}
	if ot.DataType == onnx.Uint16 && want == onnx.BFloat16 {
		c := *ot
		c.DataType, c.Float16 = onnx.BFloat16, ot.Uint16
		ot = &c
	}
	return graph.FromONNX(ot)
}

func runDataSet(m *onnx.Model, set string) error {
	initNames := map[string]bool{}
	for _, it := range m.Graph.Initializers {
		initNames[it.Name] = true
	}
	var inputs []*onnx.ValueInfo
	for _, in := range m.Graph.Inputs {
		if !initNames[in.Name] {
			inputs = append(inputs, in)
		}
	}
	feeds := map[string]*Tensor{}
	for i, in := range inputs {
		p := filepath.Join(set, fmt.Sprintf("input_%d.pb", i))
		if _, err := os.Stat(p); err != nil {
			continue // optional input left out
		}
		t, err := readPBAs(p, in.ElemType)
		if err != nil {
			return fmt.Errorf("input %d: %w", i, err)
		}
		feeds[in.Name] = t
	}
	ctx := context.Background()
	got, err := runModel(ctx, m, feeds, false)
	if err != nil && strings.Contains(err.Error(), "must be known before the run") {
		// Shape-giving inputs (Reshape's shape, Slice's starts...) are
		// graph inputs in these tests; bind them as constants.
		got, err = runModel(ctx, m, feeds, true)
	}
	if err != nil {
		return err
	}
	for i, out := range m.Graph.Outputs {
		want, err := readPBAs(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)), out.ElemType)
		if err != nil {
			return fmt.Errorf("output %d: %w", i, err)
		}
		g := got[out.Name]
		if g == nil {
			return fmt.Errorf("output %q missing", out.Name)
		}
		if err := compare(g, want); err != nil {
			return fmt.Errorf("output %q: %w", out.Name, err)
		}
	}
	return nil
}

// runModel runs m on feeds; with intConsts, integer and scalar inputs become
// initializers so shape-determining values are known when binding.
func runModel(ctx context.Context, m *onnx.Model, feeds map[string]*Tensor, intConsts bool) (map[string]*Tensor, error) {
	mm := m
	run := feeds
	if intConsts {
		g2 := *m.Graph
		g2.Inputs = nil
		g2.Initializers = append([]*onnx.Tensor{}, m.Graph.Initializers...)
		run = map[string]*Tensor{}
		for _, in := range m.Graph.Inputs {
			t, ok := feeds[in.Name]
			if ok && (t.DType == onnx.Int64 || t.DType == onnx.Int32 || len(t.Shape) == 0) {
				ot := &onnx.Tensor{Name: in.Name, DataType: t.DType, Int64: t.Int64, Int32: t.Int32, Float32: t.Float32, Float64: t.Float64}
				for _, d := range t.Shape {
					ot.Dims = append(ot.Dims, int64(d))
				}
				g2.Initializers = append(g2.Initializers, ot)
				continue
			}
			g2.Inputs = append(g2.Inputs, in)
			if ok {
				run[in.Name] = t
			}
		}
		mm = &onnx.Model{IRVersion: m.IRVersion, OpsetImports: m.OpsetImports, Graph: &g2}
	}
	s, err := NewSession(ctx, mm, Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	// Optional inputs left out of the data set are simply not fed.
	for _, in := range s.Inputs() {
		if _, ok := run[in.Name]; !ok {
			return nil, fmt.Errorf("no data for input %q", in.Name)
		}
	}
	return s.Run(ctx, run)
}

func compare(got, want *graph.Tensor) error {
	if !sameShape(got.Shape, want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	if got.DType != want.DType {
		return fmt.Errorf("dtype %s, want %s", graph.DTypeName(got.DType), graph.DTypeName(want.DType))
	}
	const rtol, atol = 1e-3, 1e-7
	n := want.Len()
	bad, worst := 0, 0.0
	first := -1
	for i := 0; i < n; i++ {
		a, b := got.Float64At(i), want.Float64At(i)
		if want.DType == onnx.Int64 {
			if got.Int64[i] != want.Int64[i] {
				bad++
				if first < 0 {
					first = i
				}
			}
			continue
		}
		if math.IsNaN(b) {
			if !math.IsNaN(a) {
				bad++
			}
			continue
		}
		if math.IsInf(b, 0) {
			if a != b {
				bad++
			}
			continue
		}
		// Written so that a NaN difference (got NaN, want a number) fails.
		d := math.Abs(a - b)
		if !(d <= atol+rtol*math.Abs(b)) {
			bad++
			if d > worst || math.IsNaN(d) {
				worst = d
			}
			if first < 0 {
				first = i
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d elements differ (max abs diff %g; first at %d: got %v want %v)", bad, n, worst, first, got.Float64At(first), want.Float64At(first))
	}
	return nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

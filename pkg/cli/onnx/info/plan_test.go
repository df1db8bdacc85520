package info

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

var exporterModels = filepath.Join("..", "..", "..", "..", "testdata", "models", "exporter-patterns", "onnx")

// planJSON runs --plan --format json on the model at path and decodes it.
func planJSON(t *testing.T, path string) Summary {
	t.Helper()
	out, _, err := run(t, "json", false, "--plan", path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var s Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// TestPlanReportsFusedBlocks runs --plan on the OpenCLIP-style tower
// (nn.MultiheadAttention, erf GELU, opset 17 LayerNormalization): both
// blocks are reported fully fused, with the attention, four Linears and
// two LayerNorm prologues each, and the table says so per block.
func TestPlanReportsFusedBlocks(t *testing.T) {
	path := filepath.Join(exporterModels, "openclip_vision_model.onnx")
	s := planJSON(t, path)
	if s.Plan == nil || len(s.Plan.Blocks) != 2 || s.Plan.UnfusedAttentions != 0 || s.Plan.Steps["clip.Attention"] != 2 {
		t.Fatalf("plan %+v, want 2 fused blocks", s.Plan)
	}
	for _, b := range s.Plan.Blocks {
		if !b.Complete || b.Linears != 4 || b.Prologues != 2 || !b.PackedQKV || !b.Activation || b.Residuals != 2 || b.Causal {
			t.Errorf("block %+v, want fully fused, not causal", b)
		}
	}
	table, _, err := run(t, "table", true, "--plan", path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(table, "fully fused") != 3 || !strings.Contains(table, "block 1") {
		t.Errorf("table does not report the two blocks fully fused:\n%s", table)
	}
}

// TestPlanReportsCausalAttention runs --plan on Hugging Face's text tower
// as optimum exports it (the causal mask built from the input's shape):
// every block's attention is reported as running in the kernel's causal
// mode, in the JSON and in the table.
func TestPlanReportsCausalAttention(t *testing.T) {
	path := filepath.Join(exporterModels, "hf4d_text_model.onnx")
	s := planJSON(t, path)
	if s.Plan == nil || len(s.Plan.Blocks) != 2 {
		t.Fatalf("plan %+v, want 2 blocks", s.Plan)
	}
	for _, b := range s.Plan.Blocks {
		if !b.Causal || !b.Complete {
			t.Errorf("block %+v, want causal and fully fused", b)
		}
	}
	table, _, err := run(t, "table", true, "--plan", path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(table, "attention 1/1 (causal)") != 2 {
		t.Errorf("table does not report the two attentions causal:\n%s", table)
	}
}

// TestPlanSigLIP runs --plan on the tiny SigLIP towers: the text tower
// binds at its 64 positions (config.json's text_config; 77 tokens do not
// run), the vision tower's attention-pooling head is reported as a pooling
// head, fully fused, and every block names its tanh GELU.
func TestPlanSigLIP(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "testdata", "models", "tiny-siglip", "onnx")
	s := planJSON(t, filepath.Join(dir, "text_model.onnx"))
	if s.Plan == nil || len(s.Plan.Blocks) != 2 || s.Plan.UnfusedAttentions != 0 {
		t.Fatalf("text plan %+v, want 2 fused blocks", s.Plan)
	}
	table, _, err := run(t, "table", true, "--plan", filepath.Join(dir, "vision_model.onnx"))
	if err != nil {
		t.Fatalf("vision tower: %v", err)
	}
	if !strings.Contains(table, "pooling head") || strings.Count(table, "fully fused") != 4 || strings.Count(table, "fc1+GELU(tanh)") != 3 {
		t.Errorf("table does not report two blocks and the pooling head fully fused with tanh GELUs:\n%s", table)
	}
}

// TestPlanWithoutFlagIsAbsent keeps the plain description free of the
// engine's plan (no model preparation without --plan).
func TestPlanWithoutFlagIsAbsent(t *testing.T) {
	out, _, err := run(t, "json", false, filepath.Join(exporterModels, "hf4d_vision_model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, `"plan"`) {
		t.Errorf("plan reported without --plan")
	}
}

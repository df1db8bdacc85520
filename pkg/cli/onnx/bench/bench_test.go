package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/engine/kernels"
	"github.com/clip-go/clip/pkg/npy"
)

// tinyDir is the trained tiny CLIP made by scripts/fixtures (make fixtures).
var tinyDir = filepath.Join("..", "..", "..", "..", "testdata", "models", "tiny-shapes")

func needTiny(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(tinyDir, "onnx", "vision_model.onnx")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tiny fixture missing (%v); run make fixtures", err)
		}
		t.Skipf("tiny fixture missing (%v); run make fixtures", err)
	}
}

// tinyConfig is the part of the fixture's Hugging Face config.json that
// fixes the models' matrix shapes.
type tinyConfig struct {
	ProjectionDim int `json:"projection_dim"`
	TextConfig    struct {
		Hidden       int `json:"hidden_size"`
		Intermediate int `json:"intermediate_size"`
		Layers       int `json:"num_hidden_layers"`
		MaxPositions int `json:"max_position_embeddings"`
		VocabSize    int `json:"vocab_size"`
		BOS          int `json:"bos_token_id"`
		EOS          int `json:"eos_token_id"`
	} `json:"text_config"`
	VisionConfig struct {
		Hidden       int `json:"hidden_size"`
		Intermediate int `json:"intermediate_size"`
		Layers       int `json:"num_hidden_layers"`
		ImageSize    int `json:"image_size"`
		PatchSize    int `json:"patch_size"`
		Channels     int `json:"num_channels"`
	} `json:"vision_config"`
}

func readTinyConfig(t *testing.T) tinyConfig {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tinyDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c tinyConfig
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// encoderFLOPs is the textbook count of a pre-LN transformer encoder over
// tokens positions: per layer the Q, K, V and output projections
// (4·2·T·H·H), the MLP (2·2·T·H·I) and the two attention products
// (2·2·T·T·H summed over heads).
func encoderFLOPs(tokens, hidden, inter, layers int) float64 {
	T, H, I := float64(tokens), float64(hidden), float64(inter)
	return float64(layers) * (4*2*T*H*H + 2*2*T*H*I + 2*2*T*T*H)
}

func runBench(t *testing.T, args ...string) (*Result, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{Format: "json", Threads: 1},
		Getenv: func(string) string { return "" }}
	cmd := NewCmdBench(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetContext(context.Background())
	if err := cmd.Execute(); err != nil {
		return nil, err
	}
	// A warning means the FLOP count (graph.Plan.FLOPs) misses a fused step's work: keep it in
	// step with pkg/graph's fusions.
	if strings.Contains(errOut.String(), "warning") {
		t.Errorf("stderr: %s", errOut.String())
	}
	var r Result
	dec := json.NewDecoder(out)
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s\nstderr: %s", err, out.String(), errOut.String())
	}
	if dec.More() {
		t.Fatalf("more than one JSON value in the output")
	}
	return &r, nil
}

func near(a, b, rel float64) bool { return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b)) }

// checkSane checks the relations between the reported fields that hold
// whatever the machine's speed.
func checkSane(t *testing.T, r *Result, batch, runs int) {
	t.Helper()
	if r.Batch != batch || r.Runs != runs || r.Threads != 1 {
		t.Errorf("batch/runs/threads = %d/%d/%d, want %d/%d/1", r.Batch, r.Runs, r.Threads, batch, runs)
	}
	if !(r.MinMs > 0 && r.MinMs <= r.MedianMs) {
		t.Errorf("min_ms %v, median_ms %v: want 0 < min <= median", r.MinMs, r.MedianMs)
	}
	if !near(r.MsPerItem, r.MedianMs/float64(batch), 1e-9) {
		t.Errorf("ms_per_item %v, want median_ms/batch = %v", r.MsPerItem, r.MedianMs/float64(batch))
	}
	if !near(r.ItemsPerSecond, 1000/r.MsPerItem, 1e-9) {
		t.Errorf("items_per_second %v, want 1000/ms_per_item = %v", r.ItemsPerSecond, 1000/r.MsPerItem)
	}
	if !near(r.GFLOPsPerSecond, r.GFLOPs*float64(batch)/(r.MedianMs/1000), 1e-9) {
		t.Errorf("gflops_per_second %v, want gflops·batch/median = %v", r.GFLOPsPerSecond, r.GFLOPs*float64(batch)/(r.MedianMs/1000))
	}
	if r.LoadMs <= 0 || r.FirstRunMs <= 0 {
		t.Errorf("load_ms %v, first_run_ms %v: want both > 0", r.LoadMs, r.FirstRunMs)
	}
	// Any Go process with a loaded model holds megabytes; far below
	// that the figure would be in the wrong unit.
	if r.PeakRSSBytes < 4<<20 || r.PeakRSSBytes > 64<<30 {
		t.Errorf("peak_rss_bytes %d is not a plausible byte count", r.PeakRSSBytes)
	}
}

// TestBenchJSONTinyVision benches the fp32 and the int8 (dynamically
// quantized) vision tower: same matrix work, counted by hand from
// config.json, whatever steps fusion made of them.
func TestBenchJSONTinyVision(t *testing.T) {
	needTiny(t)
	cfg := readTinyConfig(t)
	c := cfg.VisionConfig
	// Hand count from config.json: the patch Conv, the encoder over
	// patches+CLS, the projection of the pooled token.
	p := c.ImageSize / c.PatchSize
	conv := 2 * float64(c.Hidden*c.Channels*c.PatchSize*c.PatchSize*p*p)
	proj := 2 * float64(c.Hidden*cfg.ProjectionDim)
	wantFLOPs := conv + encoderFLOPs(p*p+1, c.Hidden, c.Intermediate, c.Layers) + proj
	for _, file := range []string{"vision_model.onnx", "vision_model_quantized.onnx"} {
		t.Run(file, func(t *testing.T) {
			model := filepath.Join(tinyDir, "onnx", file)
			if _, err := os.Stat(model); err != nil && file != "vision_model.onnx" && os.Getenv("CI") != "true" {
				t.Skip(err)
			}
			r, err := runBench(t, model, "--batch", "2", "--runs", "3", "--warmup", "1")
			if err != nil {
				t.Fatal(err)
			}
			checkSane(t, r, 2, 3)
			if r.ISA != kernels.ISANative.Resolve().String() {
				t.Errorf("isa %q, want the native level %q", r.ISA, kernels.ISANative.Resolve())
			}
			// Every lower level runs the same model and reports itself.
			for _, isa := range kernels.SupportedISAs() {
				if isa == kernels.ISANative.Resolve() {
					continue
				}
				r, err := runBench(t, model, "--batch", "2", "--runs", "1", "--warmup", "0", "--isa", isa.String())
				if err != nil {
					t.Fatalf("--isa %v: %v", isa, err)
				}
				if r.ISA != isa.String() || !near(r.GFLOPs*1e9, wantFLOPs, 1e-9) {
					t.Errorf("--isa %v: reported isa %q, %v GFLOP", isa, r.ISA, r.GFLOPs)
				}
			}
			if r.Model != model {
				t.Errorf("model %q, want %q", r.Model, model)
			}
			// Asking only for the embeddings, as clip classify does (the
			// engine's differential test checks what such a run returns).
			one, err := runBench(t, model, "--batch", "2", "--runs", "1", "--warmup", "0", "--output", "image_embeds")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(one.Outputs, []string{"image_embeds"}) {
				t.Errorf("--output image_embeds: reported outputs %v", one.Outputs)
			}
			if _, err := runBench(t, model, "--runs", "1", "--output", "no_such_output"); err == nil || !strings.Contains(err.Error(), "no_such_output") {
				t.Errorf("--output no_such_output: %v, want an error naming it", err)
			}
			// The symbolic [batch, channels, height, width] input is sized
			// from --batch, the patch Conv and config.json.
			want := []int{2, c.Channels, c.ImageSize, c.ImageSize}
			if got := r.Inputs["pixel_values"]; !slices.Equal(got, want) {
				t.Errorf("pixel_values shape %v, want %v", got, want)
			}
			if !near(r.GFLOPs*1e9, wantFLOPs, 1e-9) {
				t.Errorf("gflops %v (by op %v), hand count %v", r.GFLOPs, r.GFLOPsByOp, wantFLOPs/1e9)
			}
		})
	}
}

func TestBenchJSONTinyTextIDs(t *testing.T) {
	needTiny(t)
	cfg := readTinyConfig(t)
	c := cfg.TextConfig
	model := filepath.Join(tinyDir, "onnx", "text_model.onnx")
	dir := t.TempDir()
	r, err := runBench(t, model, "--batch", "3", "--runs", "2", "--seq", "9", "--save-inputs", dir)
	if err != nil {
		t.Fatal(err)
	}
	checkSane(t, r, 3, 2)
	wantFLOPs := encoderFLOPs(9, c.Hidden, c.Intermediate, c.Layers) + 2*float64(c.Hidden*cfg.ProjectionDim)
	if !near(r.GFLOPs*1e9, wantFLOPs, 1e-9) {
		t.Errorf("gflops %v, hand count %v", r.GFLOPs, wantFLOPs/1e9)
	}
	// The saved ids: every row starts with the tokenizer's start token and
	// ends with its end token (the vocabulary's last id), ordinary ids
	// between.
	b, err := os.ReadFile(filepath.Join(dir, "inputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index map[string]struct {
		File  string `json:"file"`
		Shape []int  `json:"shape"`
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	a, err := npy.ReadFile(filepath.Join(dir, index["input_ids"].File))
	if err != nil {
		t.Fatal(err)
	}
	ids, ok := a.Data.([]int64)
	if !ok || len(ids) != 3*9 {
		t.Fatalf("input_ids: %T of %d values, want 27 int64", a.Data, a.Len())
	}
	for row := 0; row < 3; row++ {
		r := ids[row*9 : row*9+9]
		if r[0] != int64(c.BOS) || r[8] != int64(c.EOS) {
			t.Errorf("row %d = %v: want start %d and end %d", row, r, c.BOS, c.EOS)
		}
		for _, id := range r[1:8] {
			if id < 0 || id >= int64(c.BOS) {
				t.Errorf("row %d = %v: ordinary id %d outside [0, %d)", row, r, id, c.BOS)
			}
		}
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"m.onnx", "--batch", "0"},
		{"m.onnx", "--runs", "0"},
		{"m.onnx", "--dim", "height"},
		{"m.onnx", "--isa", "sse9"},
	} {
		_, err := runBench(t, args...)
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
			t.Errorf("%v: exit code %d (%v), want %d", args, cmdutil.ExitCode(err), err, cmdutil.ExitUsage)
		}
	}
	for i := kernels.ISANative; i <= kernels.ISAAVX512; i++ {
		if !i.Supported() {
			if _, err := runBench(t, "m.onnx", "--isa", i.String()); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
				t.Errorf("--isa %v (not on this CPU): exit code %d (%v), want %d", i, cmdutil.ExitCode(err), err, cmdutil.ExitUsage)
			}
		}
	}
	_, err := runBench(t, filepath.Join(t.TempDir(), "missing.onnx"))
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != cmdutil.ExitRuntime {
		t.Errorf("missing model: %v, want exit code %d", err, cmdutil.ExitRuntime)
	}
}

// --profile reports the timed runs' step time by operator: the fused
// steps of the tiny vision tower by their clip.* names, each operator
// once, the most first, with shares of the median run that sum to about
// the steps' total. Without the flag the JSON has no profile.
func TestBenchProfile(t *testing.T) {
	needTiny(t)
	model := filepath.Join(tinyDir, "onnx", "vision_model.onnx")
	r, err := runBench(t, model, "--batch", "2", "--runs", "3", "--warmup", "1", "--profile")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var ms, share float64
	for i, o := range r.Profile {
		if seen[o.Op] || o.Steps < 1 || o.MsPerRun < 0 {
			t.Errorf("profile entry %d: %+v (repeated or empty)", i, o)
		}
		if i > 0 && o.MsPerRun > r.Profile[i-1].MsPerRun {
			t.Errorf("profile not sorted: %s after %s", o.Op, r.Profile[i-1].Op)
		}
		seen[o.Op] = true
		ms += o.MsPerRun
		share += o.Share
	}
	for _, op := range []string{"clip.Linear", "clip.Attention", "clip.PatchEmbed"} {
		if !seen[op] {
			t.Errorf("no %s in the profile %+v", op, r.Profile)
		}
	}
	if !near(ms, r.ProfiledMsPerRun, 1e-9) || r.ProfiledMsPerRun <= 0 || !near(share, ms/r.MedianMs, 1e-9) {
		t.Errorf("profile sums to %v ms (reported %v), shares %v, median run %v ms", ms, r.ProfiledMsPerRun, share, r.MedianMs)
	}
	plain, err := runBench(t, model, "--batch", "2", "--runs", "1", "--warmup", "0")
	if err != nil {
		t.Fatal(err)
	}
	if plain.Profile != nil || plain.ProfiledMsPerRun != 0 {
		t.Errorf("a run without --profile reported %+v", plain.Profile)
	}
}

// TestBenchFusionLevels runs the tiny vision tower with only the generic
// fusions and op by op: neither has a pattern's fused step (Linear,
// Attention, LayerNorm folded), the generic run has its elementwise
// chains as clip.Elementwise steps and the op-by-op run none, both count
// the fused run's matrix work, and each result says its level.
func TestBenchFusionLevels(t *testing.T) {
	needTiny(t)
	model := filepath.Join(tinyDir, "onnx", "vision_model.onnx")
	fused, err := runBench(t, model, "--batch", "2", "--runs", "1", "--warmup", "0", "--profile")
	if err != nil {
		t.Fatal(err)
	}
	if fused.Fusion != "all" {
		t.Errorf("fusion %q by default, want all", fused.Fusion)
	}
	for _, level := range []string{"generic", "none"} {
		r, err := runBench(t, model, "--batch", "2", "--runs", "1", "--warmup", "0", "--profile", "--fusion", level)
		if err != nil {
			t.Fatal(err)
		}
		if r.Fusion != level {
			t.Errorf("fusion %q, want %q", r.Fusion, level)
		}
		if !near(r.GFLOPs, fused.GFLOPs, 1e-9) {
			t.Errorf("%s: counts %v GFLOP/item, fused %v", level, r.GFLOPs, fused.GFLOPs)
		}
		seen := map[string]bool{}
		for _, o := range r.Profile {
			seen[o.Op] = true
		}
		for _, op := range []string{"clip.Linear", "clip.Attention", "clip.PatchEmbed"} {
			if seen[op] {
				t.Errorf("%s: pattern step %s ran", level, op)
			}
		}
		if !seen["MatMul"] || !seen["Softmax"] || seen["clip.Elementwise"] != (level == "generic") {
			t.Errorf("%s: profile %+v", level, r.Profile)
		}
	}
	if _, err := runBench(t, model, "--fusion", "some"); err == nil {
		t.Error("--fusion some accepted")
	}
}

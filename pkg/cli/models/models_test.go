package models_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/models"
	"github.com/clip-go/clip/pkg/hub"
	"github.com/clip-go/clip/pkg/hub/hubtest"
)

// shapesONNX is a small valid ONNX file made by the pkg/onnx fixtures
// script with Python's onnx; expected.json beside it is what Python's onnx
// read from it, an independent reference for the graph interface.
const (
	shapesONNX     = "../../onnx/testdata/shapes.onnx"
	shapesExpected = "../../onnx/testdata/expected.json"
)

func needFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fixture %s missing: %v", p, err)
		}
		t.Skipf("fixture %s missing (%v)", p, err)
	}
	return b
}

// env is a test environment: a cache root, a fake hub, and a runner.
type env struct {
	t    *testing.T
	srv  *hubtest.Server
	root string
	vars map[string]string
}

func newEnv(t *testing.T, repos ...*hubtest.Repo) *env {
	srv := hubtest.New(false, repos...)
	t.Cleanup(srv.Close)
	root := t.TempDir()
	return &env{t: t, srv: srv, root: root, vars: map[string]string{"CLIP_HOME": root, "HF_ENDPOINT": srv.URL()}}
}

type result struct {
	out, errOut string
	err         error
}

func (e *env) run(globals cmdutil.GlobalOptions, args ...string) result {
	e.t.Helper()
	return e.runTTY(false, globals, args...)
}

// runTTY runs with stderr claimed to be a terminal when tty.
func (e *env) runTTY(tty bool, globals cmdutil.GlobalOptions, args ...string) result {
	e.t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStderrTTY(tty)
	f := &cmdutil.Factory{IOStreams: ios, Version: "test", Globals: &globals, Getenv: func(k string) string { return e.vars[k] }}
	cmd := models.NewCmdModels(f)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceErrors = true
	cmd.SilenceUsage = true
	err := cmd.Execute()
	return result{out: out.String(), errOut: errOut.String(), err: err}
}

func catalogueRepo(t *testing.T) (*hubtest.Repo, hub.Entry) {
	e, ok := hub.LookupCatalogue(hub.DefaultModel)
	if !ok {
		t.Fatal("no default model")
	}
	files := map[string][]byte{
		"onnx/vision_model.onnx":   needFile(t, shapesONNX),
		"onnx/text_model.onnx":     bytes.Repeat([]byte("not an onnx file "), 1000),
		"config.json":              []byte(`{"architectures":["CLIPModel"],"model_type":"clip","projection_dim":512,"vision_config":{"image_size":224,"patch_size":32,"hidden_size":768,"num_hidden_layers":12},"text_config":{"hidden_size":512,"num_hidden_layers":12,"max_position_embeddings":77,"vocab_size":49408}}`),
		"preprocessor_config.json": []byte(`{"crop_size":224}`),
		"tokenizer.json":           []byte(`{"model":{"type":"BPE"}}`),
	}
	return &hubtest.Repo{ID: e.Repo, Commit: e.Revision, Files: files}, e
}

func TestPullListInfoVerifyPathRm(t *testing.T) {
	repo, entry := catalogueRepo(t)
	e := newEnv(t, repo)
	jsonOut := cmdutil.GlobalOptions{Format: cmdutil.FormatJSON}

	// pull
	r := e.run(jsonOut, "pull", hub.DefaultModel)
	if r.err != nil {
		t.Fatalf("pull: %v\n%s", r.err, r.errOut)
	}
	var pulled struct {
		Repo, Commit, Path string
		Files              []hub.FileInfo
	}
	if err := json.Unmarshal([]byte(r.out), &pulled); err != nil {
		t.Fatalf("pull output %q: %v", r.out, err)
	}
	if pulled.Repo != entry.Repo || pulled.Commit != entry.Revision || !strings.HasPrefix(pulled.Path, e.root) {
		t.Errorf("pull result %+v", pulled)
	}
	if len(pulled.Files) != len(repo.Files) {
		t.Errorf("pulled %d files, the repo has %d", len(pulled.Files), len(repo.Files))
	}
	for _, f := range pulled.Files {
		if f.SHA256 != hubtest.SHA256(repo.Files[f.Path]) {
			t.Errorf("%s: sha256 %s", f.Path, f.SHA256)
		}
	}
	if strings.Contains(r.errOut, "\r") {
		t.Error("progress bar drawn although stderr is not a terminal")
	}

	// list: the catalogue with the default model installed
	r = e.run(jsonOut, "list")
	if r.err != nil {
		t.Fatal(r.err)
	}
	var rows []struct {
		Name              string
		Default           bool
		InstalledVariants []string `json:"installed_variants"`
		InstalledBytes    int64    `json:"installed_bytes"`
	}
	if err := json.Unmarshal([]byte(r.out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(hub.Catalogue()) {
		t.Errorf("%d rows, catalogue has %d", len(rows), len(hub.Catalogue()))
	}
	var want int64
	for _, b := range repo.Files {
		want += int64(len(b))
	}
	for _, row := range rows {
		installed := row.Name == hub.DefaultModel
		if row.Default != installed || (len(row.InstalledVariants) == 1) != installed {
			t.Errorf("row %+v", row)
		}
		if installed && row.InstalledBytes != want {
			t.Errorf("installed bytes %d, want %d", row.InstalledBytes, want)
		}
	}
	for _, format := range []string{cmdutil.FormatTable, cmdutil.FormatCSV, cmdutil.FormatJSONL} {
		r = e.run(cmdutil.GlobalOptions{Format: format}, "list", "--installed")
		if r.err != nil || !strings.Contains(r.out, entry.Repo) || strings.Contains(r.out, "clip-vit-large-patch14") {
			t.Errorf("list --installed --format %s: %v\n%s", format, r.err, r.out)
		}
	}

	// info: files, architecture, and the graph interface Python's onnx read
	r = e.run(jsonOut, "info", hub.DefaultModel)
	if r.err != nil {
		t.Fatal(r.err)
	}
	var inf struct {
		Installed    bool
		Files        []hub.FileInfo
		Architecture struct {
			EmbedDim  int `json:"embed_dim"`
			PatchSize int `json:"patch_size"`
		}
		Graphs []struct {
			Role            string
			Inputs, Outputs []struct {
				Name  string
				Shape []any
			}
			Error string
		}
	}
	if err := json.Unmarshal([]byte(r.out), &inf); err != nil {
		t.Fatal(err)
	}
	if !inf.Installed || inf.Architecture.EmbedDim != 512 || inf.Architecture.PatchSize != 32 || len(inf.Graphs) != 2 {
		t.Fatalf("info: %+v", inf)
	}
	checkGraphAgainstPython(t, inf.Graphs[0].Inputs, inf.Graphs[0].Outputs)
	if inf.Graphs[1].Error == "" {
		t.Error("a text graph that is not ONNX was described without error")
	}
	r = e.run(cmdutil.GlobalOptions{Format: cmdutil.FormatTable}, "info", hub.DefaultModel)
	if r.err != nil || !strings.Contains(r.out, "pixel_values") || !strings.Contains(r.out, hubtest.SHA256(repo.Files["config.json"])) {
		t.Errorf("info table: %v\n%s", r.err, r.out)
	}

	// path
	r = e.run(cmdutil.GlobalOptions{}, "path", hub.DefaultModel)
	if r.err != nil || strings.TrimSpace(r.out) != pulled.Path {
		t.Errorf("path: %q %v", r.out, r.err)
	}

	// verify: clean, then a flipped byte
	r = e.run(cmdutil.GlobalOptions{Format: cmdutil.FormatTable}, "verify", hub.DefaultModel)
	if r.err != nil {
		t.Fatalf("verify of a fresh pull: %v\n%s", r.err, r.out)
	}
	p := filepath.Join(pulled.Path, "tokenizer.json")
	b, _ := os.ReadFile(p)
	b[3] ^= 0x20
	os.WriteFile(p, b, 0o644)
	r = e.run(cmdutil.GlobalOptions{Format: cmdutil.FormatTable}, "verify", hub.DefaultModel)
	if cmdutil.ExitCode(r.err) != cmdutil.ExitRuntime || !strings.Contains(r.err.Error(), "tokenizer.json") {
		t.Errorf("verify after corruption: exit %d, %v", cmdutil.ExitCode(r.err), r.err)
	}
	if !strings.Contains(r.out, "FAILED") {
		t.Errorf("verify table does not flag the file:\n%s", r.out)
	}

	// rm
	r = e.run(cmdutil.GlobalOptions{}, "rm", hub.DefaultModel)
	if r.err != nil || !strings.Contains(r.out, pulled.Path) {
		t.Errorf("rm: %v %q", r.err, r.out)
	}
	if _, err := os.Stat(pulled.Path); err == nil {
		t.Error("rm left the directory")
	}
	r = e.run(cmdutil.GlobalOptions{}, "path", hub.DefaultModel)
	var ni *hub.NotInstalledError
	if !errors.As(r.err, &ni) || !strings.Contains(r.err.Error(), "clip models pull "+hub.DefaultModel) {
		t.Errorf("path after rm: %v", r.err)
	}
}

// checkGraphAgainstPython compares info's inputs and outputs of shapes.onnx
// with what Python's onnx recorded in expected.json.
func checkGraphAgainstPython(t *testing.T, inputs, outputs []struct {
	Name  string
	Shape []any
}) {
	t.Helper()
	var exp struct {
		Models map[string]struct {
			Graph struct {
				Inputs, Outputs []struct {
					Name  string
					Shape []struct {
						Value *float64
						Param string
					}
				}
			}
		}
	}
	if err := json.Unmarshal(needFile(t, shapesExpected), &exp); err != nil {
		t.Fatal(err)
	}
	g := exp.Models["shapes.onnx"].Graph
	compare := func(kind string, got []struct {
		Name  string
		Shape []any
	}, want []struct {
		Name  string
		Shape []struct {
			Value *float64
			Param string
		}
	}) {
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, python's onnx read %d", kind, len(got), len(want))
		}
		for i := range want {
			if got[i].Name != want[i].Name {
				t.Errorf("%s %d: %q, want %q", kind, i, got[i].Name, want[i].Name)
			}
			if want[i].Shape == nil {
				if got[i].Shape != nil {
					t.Errorf("%s %s: shape %v, want unknown", kind, want[i].Name, got[i].Shape)
				}
				continue
			}
			if len(got[i].Shape) != len(want[i].Shape) {
				t.Errorf("%s %s: shape %v, want rank %d", kind, want[i].Name, got[i].Shape, len(want[i].Shape))
				continue
			}
			for j, d := range want[i].Shape {
				var w any
				switch {
				case d.Value != nil:
					w = *d.Value
				case d.Param != "":
					w = d.Param
				}
				if got[i].Shape[j] != w {
					t.Errorf("%s %s dim %d: %v, want %v", kind, want[i].Name, j, got[i].Shape[j], w)
				}
			}
		}
	}
	compare("input", inputs, g.Inputs)
	compare("output", outputs, g.Outputs)
}

func TestOfflineAndUsageErrors(t *testing.T) {
	repo, _ := catalogueRepo(t)
	e := newEnv(t, repo)
	for _, tc := range []struct {
		name    string
		globals cmdutil.GlobalOptions
		env     map[string]string
		args    []string
		code    int
		want    string
	}{
		{"offline pull of a missing model", cmdutil.GlobalOptions{Offline: true}, nil, []string{"pull", hub.DefaultModel}, cmdutil.ExitRuntime, "clip models pull " + hub.DefaultModel},
		{"HF_HUB_OFFLINE pull", cmdutil.GlobalOptions{}, map[string]string{"HF_HUB_OFFLINE": "1"}, []string{"pull", hub.DefaultModel, "--variant", "fp32"}, cmdutil.ExitRuntime, "offline"},
		{"bad variant", cmdutil.GlobalOptions{}, nil, []string{"pull", hub.DefaultModel, "--variant", "q3"}, cmdutil.ExitUsage, "--variant"},
		// q4 is a variant transformers.js publishes, but the pinned listing
		// of the default model does not show it.
		{"variant the pinned listing lacks", cmdutil.GlobalOptions{}, nil, []string{"pull", hub.DefaultModel, "--variant", "q4"}, cmdutil.ExitRuntime, "no q4 variant (available: fp16, fp32, quantized)"},
		{"bad name", cmdutil.GlobalOptions{}, nil, []string{"pull", "no-such-model"}, cmdutil.ExitUsage, "not a catalogue model"},
		{"misspelt name", cmdutil.GlobalOptions{}, nil, []string{"pull", "clip-vit-base-patch23"}, cmdutil.ExitUsage, "did you mean clip-vit-base-patch32?"},
		{"misspelt name to rm", cmdutil.GlobalOptions{}, nil, []string{"rm", "Clip-ViT-Large-Patch41"}, cmdutil.ExitUsage, "did you mean clip-vit-large-patch14?"},
		{"no name", cmdutil.GlobalOptions{}, nil, []string{"pull"}, cmdutil.ExitUsage, "exactly one NAME"},
		{"verify not installed", cmdutil.GlobalOptions{}, nil, []string{"verify", hub.DefaultModel}, cmdutil.ExitRuntime, "clip models pull"},
		{"variant the catalogue lacks", cmdutil.GlobalOptions{}, nil, []string{"pull", "vit-b-32-laion2b-s34b-b79k", "--variant", "fp16"}, cmdutil.ExitRuntime, "no fp16 variant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := e.vars
			e.vars = map[string]string{}
			for k, v := range saved {
				e.vars[k] = v
			}
			for k, v := range tc.env {
				e.vars[k] = v
			}
			defer func() { e.vars = saved }()
			e.srv.ResetLog()
			r := e.run(tc.globals, tc.args...)
			if got := cmdutil.ExitCode(r.err); got != tc.code || r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("exit %d (want %d), error %v (want %q)", got, tc.code, r.err, tc.want)
			}
			if n := len(e.srv.Requests()); n != 0 {
				t.Errorf("%d requests reached the hub", n)
			}
		})
	}
}

func TestInfoOfCatalogueModelNotInstalled(t *testing.T) {
	e := newEnv(t)
	r := e.run(cmdutil.GlobalOptions{Format: cmdutil.FormatTable}, "info", "clip-vit-large-patch14", "--variant", "quantized")
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, want := range []string{"Xenova/clip-vit-large-patch14", "onnx/vision_model_quantized.onnx", "clip models pull clip-vit-large-patch14 --variant quantized"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("info lacks %q:\n%s", want, r.out)
		}
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("info made %d requests", n)
	}
}

func TestInfoOfDirectory(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "visual"), 0o755)
	os.MkdirAll(filepath.Join(dir, "textual"), 0o755)
	vis := needFile(t, shapesONNX)
	os.WriteFile(filepath.Join(dir, "visual", "model.onnx"), vis, 0o644)
	os.WriteFile(filepath.Join(dir, "textual", "model.onnx"), vis, 0o644)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"embed_dim":512,"vision_cfg":{"image_size":224,"layers":12,"width":768,"patch_size":32},"text_cfg":{"context_length":77,"vocab_size":49408,"width":512,"heads":8,"layers":12}}`), 0o644)
	e := newEnv(t)
	r := e.run(cmdutil.GlobalOptions{Format: cmdutil.FormatJSON}, "info", dir)
	if r.err != nil {
		t.Fatal(r.err)
	}
	var inf struct {
		Layout       string
		Files        []hub.FileInfo
		Architecture struct {
			EmbedDim      int `json:"embed_dim"`
			ContextLength int `json:"context_length"`
			VisionWidth   int `json:"vision_width"`
		}
	}
	if err := json.Unmarshal([]byte(r.out), &inf); err != nil {
		t.Fatal(err)
	}
	if inf.Layout != "immich" || inf.Architecture.EmbedDim != 512 || inf.Architecture.ContextLength != 77 || inf.Architecture.VisionWidth != 768 {
		t.Errorf("%+v", inf)
	}
	for _, f := range inf.Files {
		if f.Path == "visual/model.onnx" && f.SHA256 != hubtest.SHA256(vis) {
			t.Errorf("sha256 of %s: %s", f.Path, f.SHA256)
		}
	}
}

func TestProgressOnlyOnTerminalAndNotQuiet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tty   bool
		quiet bool
		bar   bool
	}{
		{"terminal", true, false, true},
		{"terminal --quiet", true, true, false},
		{"pipe", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo, _ := catalogueRepo(t)
			e := newEnv(t, repo)
			r := e.runTTY(tc.tty, cmdutil.GlobalOptions{Quiet: tc.quiet, Format: cmdutil.FormatJSON}, "pull", hub.DefaultModel)
			if r.err != nil {
				t.Fatal(r.err)
			}
			drawn := strings.Contains(r.errOut, "onnx/vision_model.onnx")
			if drawn != tc.bar {
				t.Errorf("progress drawn %v, want %v; stderr %q", drawn, tc.bar, r.errOut)
			}
			if strings.Contains(r.out, "onnx/vision_model.onnx") && !strings.HasPrefix(strings.TrimSpace(r.out), "{") {
				t.Errorf("progress leaked to stdout: %q", r.out)
			}
		})
	}
}

// tinyShapes is the fixtures engineer's tiny CLIP in the HF layout; its
// REFERENCE.md lists every graph's inputs and outputs as Python's onnx
// read them (scripts/fixtures/make_reference_md.py).
const tinyShapes = "../../../testdata/models/tiny-shapes"

// referenceIO parses REFERENCE.md's "* inputs:"/"* outputs:" lines of the
// section for graph (e.g. "onnx/vision_model.onnx") into "name dtype[dims]".
func referenceIO(t *testing.T, graph string) (inputs, outputs []string) {
	md := string(needFile(t, filepath.Join(tinyShapes, "REFERENCE.md")))
	_, section, ok := strings.Cut(md, "### tiny-shapes/"+graph+" ")
	if !ok {
		t.Fatalf("REFERENCE.md has no section for %s", graph)
	}
	section, _, _ = strings.Cut(section, "\n### ")
	item := regexp.MustCompile("`([^`]+)` (\\w+)\\[([^\\]]*)\\]")
	for _, line := range strings.Split(section, "\n") {
		var dst *[]string
		switch {
		case strings.HasPrefix(line, "* inputs:"):
			dst = &inputs
		case strings.HasPrefix(line, "* outputs:"):
			dst = &outputs
		default:
			continue
		}
		for _, m := range item.FindAllStringSubmatch(line, -1) {
			*dst = append(*dst, m[1]+" "+m[2]+"["+m[3]+"]")
		}
	}
	return inputs, outputs
}

type ioValue struct {
	Name, DType string
	Shape       []any
}

func renderIO(vals []ioValue) []string {
	var out []string
	for _, val := range vals {
		dims := make([]string, len(val.Shape))
		for i, d := range val.Shape {
			dims[i] = fmt.Sprint(d)
		}
		out = append(out, val.Name+" "+val.DType+"["+strings.Join(dims, ", ")+"]")
	}
	return out
}

func TestInfoTinyShapesMatchesReference(t *testing.T) {
	needFile(t, filepath.Join(tinyShapes, "config.json"))
	e := newEnv(t)
	for _, v := range []string{"fp32", "fp16", "quantized"} {
		t.Run(v, func(t *testing.T) {
			r := e.run(cmdutil.GlobalOptions{Format: cmdutil.FormatJSON}, "info", tinyShapes, "--variant", v)
			if r.err != nil {
				t.Fatal(r.err)
			}
			var inf struct {
				Graphs []struct {
					Role, Path, Error string
					Inputs, Outputs   []ioValue
				}
			}
			if err := json.Unmarshal([]byte(r.out), &inf); err != nil {
				t.Fatal(err)
			}
			if len(inf.Graphs) != 2 {
				t.Fatalf("%d graphs", len(inf.Graphs))
			}
			for _, g := range inf.Graphs {
				if g.Error != "" {
					t.Fatalf("%s: %s", g.Path, g.Error)
				}
				rel := "onnx/" + filepath.Base(g.Path)
				wantIn, wantOut := referenceIO(t, rel)
				if got := renderIO(g.Inputs); !slices.Equal(got, wantIn) {
					t.Errorf("%s inputs %q, REFERENCE.md says %q", rel, got, wantIn)
				}
				if got := renderIO(g.Outputs); !slices.Equal(got, wantOut) {
					t.Errorf("%s outputs %q, REFERENCE.md says %q", rel, got, wantOut)
				}
			}
		})
	}
}

// TestVerifyAndRmTakeCacheDirectories: `models verify DIR` and `models rm
// DIR` work on the directory `models path` prints; a directory outside
// the cache is a usage error that says so, not "not … an existing
// directory"; rm of a model that is not installed says so without
// blaming offline mode.
func TestVerifyAndRmTakeCacheDirectories(t *testing.T) {
	repo, _ := catalogueRepo(t)
	e := newEnv(t, repo)
	if r := e.run(cmdutil.GlobalOptions{}, "pull", hub.DefaultModel); r.err != nil {
		t.Fatalf("pull: %v", r.err)
	}
	r := e.run(cmdutil.GlobalOptions{}, "path", hub.DefaultModel)
	dir := strings.TrimSpace(r.out)
	if r.err != nil || dir == "" {
		t.Fatalf("path: %v %q", r.err, r.out)
	}

	r = e.run(cmdutil.GlobalOptions{Format: cmdutil.FormatTable}, "verify", dir)
	if r.err != nil || !strings.Contains(r.out, "tokenizer.json") {
		t.Errorf("verify %s: %v\n%s", dir, r.err, r.out)
	}
	own := t.TempDir()
	for _, verb := range []string{"verify", "rm"} {
		r = e.run(cmdutil.GlobalOptions{}, verb, own)
		if cmdutil.ExitCode(r.err) != cmdutil.ExitUsage || r.err == nil || strings.Contains(r.err.Error(), "existing directory") ||
			!strings.Contains(r.err.Error(), "not a model in the cache") {
			t.Errorf("%s of a directory outside the cache: exit %d, %v", verb, cmdutil.ExitCode(r.err), r.err)
		}
	}
	if _, err := os.Stat(own); err != nil {
		t.Errorf("rm touched a directory outside the cache: %v", err)
	}

	r = e.run(cmdutil.GlobalOptions{}, "rm", dir)
	if r.err != nil || !strings.Contains(r.out, dir) {
		t.Errorf("rm %s: %v %q", dir, r.err, r.out)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("rm %s left it", dir)
	}

	r = e.run(cmdutil.GlobalOptions{}, "rm", "clip-vit-large-patch14")
	if r.err == nil || strings.Contains(r.err.Error(), "offline") || !strings.Contains(r.err.Error(), "not in the model cache") {
		t.Errorf("rm of a model that is not installed: %v", r.err)
	}
}

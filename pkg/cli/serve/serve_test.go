package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/clip-go/clip/internal/testmodels"
	"io"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clip-go/clip/pkg/cli/classify"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/server"
)

const repoRoot = "../../.."

func testFactory(env map[string]string) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	return &cmdutil.Factory{IOStreams: ios, Version: "test", Commit: "test", Globals: &cmdutil.GlobalOptions{},
		Getenv: func(k string) string { return env[k] }}, out, errOut
}

func TestServeFlags(t *testing.T) {
	f, _, _ := testFactory(map[string]string{TokenEnv: "from-env"})
	var got *ServeOptions
	cmd := NewCmdServe(f, func(o *ServeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--addr", "0.0.0.0:9000", "--max-batch", "16", "--batch-wait", "2ms", "--max-body", "5MiB",
		"--queue", "32", "--allow-private-urls", "--log-format", "json", "--timeout", "5s", "--max-uploads", "40", "--min-upload-rate", "1MB", "--decode-memory", "2GB"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Addr != "0.0.0.0:9000" || got.MaxBatch != 16 || got.BatchWait != 2*time.Millisecond || got.Queue != 32 ||
		!got.AllowPrivate || got.LogFormat != "json" || got.Token != "from-env" || got.Timeout != 5*time.Second {
		t.Fatalf("options: %+v", got)
	}
	cfg, err := got.config()
	if err != nil || cfg.MaxBody != 5<<20 || cfg.Token != "from-env" || cfg.MaxLabels != 1000 || cfg.Uploads != 40 || cfg.MinUploadRate != 1e6 || cfg.DecodeMemory != 2e9 {
		t.Fatalf("config: %+v %v", cfg, err)
	}
	cmd = NewCmdServe(f, func(o *ServeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--token", "flag"})
	_ = cmd.Execute()
	if got.Token != "flag" {
		t.Fatalf("--token beats the environment: %q", got.Token)
	}
	// Defaults as documented.
	cmd = NewCmdServe(f, func(o *ServeOptions) error { got = o; return nil })
	cmd.SetArgs(nil)
	_ = cmd.Execute()
	if got.Addr != "127.0.0.1:8080" || got.MaxBatch != 8 || got.BatchWait != 5*time.Millisecond || got.MaxBody != "20MB" ||
		got.MaxLabels != 1000 || got.Timeout != 30*time.Second || got.Queue != 64 || got.LogFormat != "text" {
		t.Fatalf("defaults: %+v", got)
	}
	if cfg, err := got.config(); err != nil || cfg.MinUploadRate != 16<<10 || cfg.Uploads != 0 || cfg.DecodeMemory != 1<<30 {
		t.Fatalf("default upload limits: %+v %v", cfg, err)
	}
	got.MinUploadRate = "0"
	if cfg, err := got.config(); err != nil || cfg.MinUploadRate >= 0 {
		t.Fatalf("--min-upload-rate 0 (no minimum): %+v %v", cfg, err)
	}
}

func TestServeFlagErrorsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--max-body", "lots"}, {"--max-body", "5XB"}, {"--max-batch", "0"}, {"--queue", "0"},
		{"--log-format", "xml"}, {"--addr", "nohostport"}, {"--max-megapixels", "0"}, {"--max-images", "100"},
		{"--max-uploads", "-1"}, {"--min-upload-rate", "fast"}, {"--decode-memory", "0"},
	} {
		f, _, _ := testFactory(nil)
		cmd := NewCmdServe(f, nil)
		cmd.SetArgs(args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
			t.Errorf("%v: %v (exit %d), want a usage error", args, err, cmdutil.ExitCode(err))
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"20MB": 20e6, "512KiB": 512 << 10, "1GiB": 1 << 30, "100": 100, "1.5 MB": 1.5e6, "7b": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1MB", "0", "1TB", "2PiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
}

// tinyModel is the tiny-shapes fixture (made by `make fixtures`).
func tinyModel(t testing.TB) string { return testmodels.TinyShapes(t) }

// running is a `clip serve` started in-process on 127.0.0.1.
type running struct {
	url    string
	srv    *server.Server
	stop   context.CancelFunc
	done   chan error
	stderr *bytes.Buffer
}

func startServe(t testing.TB, model string, setup func(*ServeOptions)) *running {
	t.Helper()
	f, _, errOut := testFactory(map[string]string{"CLIP_HOME": t.TempDir()})
	f.Globals.Model = model
	f.Globals.Offline = true
	opts := &ServeOptions{}
	cmd := NewCmdServe(f, func(o *ServeOptions) error { opts = o; return nil })
	cmd.SetArgs([]string{"--addr", "127.0.0.1:0"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(opts)
	}
	type ready struct {
		addr net.Addr
		srv  *server.Server
	}
	readyc := make(chan ready, 1)
	opts.OnReady = func(a net.Addr, s *server.Server) { readyc <- ready{a, s} }
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stop: cancel, done: make(chan error, 1), stderr: errOut}
	go func() { r.done <- serveRun(ctx, opts) }()
	select {
	case rd := <-readyc:
		r.url, r.srv = "http://"+rd.addr.String(), rd.srv
	case err := <-r.done:
		cancel()
		t.Fatalf("clip serve stopped before it was ready: %v\n%s", err, errOut)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("model did not load in 60s")
	}
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func postFiles(t testing.TB, url string, files []string, fields map[string][]string) server.ClassifyResponse {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := mw.CreateFormFile("image", filepath.Base(p))
		_, _ = w.Write(b)
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	_ = mw.Close()
	resp, err := http.Post(url+"/v1/classify", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var c server.ClassifyResponse
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

type golden struct {
	Labels   []string `json:"labels"`
	Template string   `json:"template"`
	Images   []struct {
		File        string `json:"file"`
		Onnxruntime struct {
			Probs map[string]float64 `json:"probs"`
		} `json:"onnxruntime"`
	} `json:"images"`
}

// TestClassifyParity: /v1/classify gives the probabilities of `clip
// classify` on the same files (same model, same pipeline) and of the
// independent reference, onnxruntime on Pillow-preprocessed pixels
// (testdata/golden/zeroshot, scripts/reference/zeroshot_run.mjs), within
// the tolerances the classify issue sets (1e-3 PNG, 3e-3 JPEG).
func TestClassifyParity(t *testing.T) {
	model := tinyModel(t)
	b, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "golden", "zeroshot", "tiny-shapes.json"))
	if err != nil {
		t.Fatalf("golden: %v (run make fixtures)", err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, im := range g.Images[:24] {
		files = append(files, filepath.Join(repoRoot, "testdata", "shapes", im.File))
	}
	r := startServe(t, model, func(o *ServeOptions) { o.NoCache = true })
	got := postFiles(t, r.url, files, map[string][]string{"labels": g.Labels, "template": {g.Template}})
	if got.Schema != 1 || got.Model == nil || len(got.Results) != len(files) {
		t.Fatalf("response: schema %d, model %v, %d results", got.Schema, got.Model, len(got.Results))
	}
	files0, _ := got.Model.Files.([]any)
	for _, fi := range files0 {
		if m, _ := fi.(map[string]any); len(fmt.Sprint(m["sha256"])) != 64 {
			t.Errorf("model file without sha256: %v", fi)
		}
	}

	// clip classify, in-process, on the same files.
	f, out, errOut := testFactory(map[string]string{"CLIP_HOME": t.TempDir()})
	f.Globals.Model, f.Globals.Offline, f.Globals.Format, f.Globals.Quiet = model, true, cmdutil.FormatJSON, true
	cmd := classify.NewCmdClassify(f, nil)
	args := []string{"--no-cache", "--template", g.Template}
	for _, l := range g.Labels {
		args = append(args, "--labels", `"`+l+`"`)
	}
	cmd.SetArgs(append(args, files...))
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("clip classify: %v\n%s", err, errOut)
	}
	var want []clip.Record
	if err := json.Unmarshal(out.Bytes(), &want); err != nil {
		t.Fatalf("clip classify output: %v\n%s", err, out)
	}
	var maxCLI, maxORT float64
	for i, rec := range got.Results {
		if rec.Error != "" || want[i].Error != "" {
			t.Fatalf("%s: errors %q / %q", files[i], rec.Error, want[i].Error)
		}
		if rec.Label != want[i].Label || filepath.Base(want[i].File) != rec.File {
			t.Errorf("%s: label %q, clip classify says %q", rec.File, rec.Label, want[i].Label)
		}
		cli := map[string]float64{}
		for _, s := range want[i].Labels {
			cli[s.Label] = s.Probability
		}
		tol := 1e-3
		if strings.HasSuffix(rec.File, ".jpg") {
			tol = 3e-3
		}
		for _, s := range rec.Labels {
			maxCLI = math.Max(maxCLI, math.Abs(s.Probability-cli[s.Label]))
			d := math.Abs(s.Probability - g.Images[i].Onnxruntime.Probs[s.Label])
			maxORT = math.Max(maxORT, d)
			if d > tol {
				t.Errorf("%s %s: %.6f, onnxruntime %.6f", rec.File, s.Label, s.Probability, g.Images[i].Onnxruntime.Probs[s.Label])
			}
		}
	}
	// Same pipeline, so equal up to float summation order across batch compositions.
	if maxCLI > 1e-5 {
		t.Errorf("max |serve − classify| = %.2g, want ≤ 1e-5", maxCLI)
	}
	t.Logf("%d images: max |serve − classify| %.2g, max |serve − onnxruntime| %.2g", len(files), maxCLI, maxORT)
}

// TestServeRealModelLimits: the megapixel cap and corrupt files, through
// the real decoder, are error records in a 200 response.
func TestServeRealModelLimits(t *testing.T) {
	model := tinyModel(t)
	r := startServe(t, model, func(o *ServeOptions) { o.MaxMegapixels, o.LogFormat = 0.15, "json" })
	img := func(n string) string { return filepath.Join(repoRoot, "testdata", "images", n) }
	got := postFiles(t, r.url, []string{img("wide_4000x50.jpg"), img("broken_truncated.png"), img("broken_text.jpg"), img("chelsea.jpg")},
		map[string][]string{"labels": {"red circle,blue square"}})
	for i, rec := range got.Results {
		if (rec.Error != "") != (i < 3) {
			t.Errorf("%s: %+v", rec.File, rec)
		}
	}
	if !strings.Contains(got.Results[0].Error, "too large") && !strings.Contains(got.Results[0].Error, "megapixel") {
		t.Errorf("over --max-megapixels: %q", got.Results[0].Error)
	}
	// Graceful stop: cancelling the context (SIGTERM) ends serveRun cleanly.
	r.stop()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("serveRun after stop: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serveRun did not stop")
	}
	var msgs []string
	for _, l := range strings.Split(strings.TrimSpace(r.stderr.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("--log-format json wrote a non-JSON line: %q", l)
		}
		msgs = append(msgs, fmt.Sprint(rec["msg"]))
	}
	if got := strings.Join(msgs, ","); !strings.HasPrefix(got, "listening,ready,request") || !strings.HasSuffix(got, "stopped") {
		t.Errorf("log messages %s", got)
	}
}

// TestServeHidesServerPaths: responses name a local model by its
// directory's base name and its files relative to it, never by the
// server's absolute paths (issue 15).
func TestServeHidesServerPaths(t *testing.T) {
	model := tinyModel(t)
	r := startServe(t, model, nil)
	resp, err := http.Get(r.url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	models, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var c struct {
		Models []struct {
			ID         string         `json:"id"`
			Tokenizer  string         `json:"tokenizer"`
			Preprocess map[string]any `json:"preprocess"`
		} `json:"models"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(models, &c) != nil || len(c.Models) != 1 {
		t.Fatalf("/v1/models: %d %s", resp.StatusCode, models)
	}
	m := c.Models[0]
	if m.ID != "tiny-shapes" || m.Tokenizer != "tokenizer.json" || m.Preprocess["source"] != "preprocessor_config.json" {
		t.Errorf("/v1/models: id %q, tokenizer %q, preprocess source %v; want tiny-shapes, tokenizer.json, preprocessor_config.json",
			m.ID, m.Tokenizer, m.Preprocess["source"])
	}
	got := postFiles(t, r.url, []string{filepath.Join(repoRoot, "testdata", "images", "chelsea.jpg")},
		map[string][]string{"labels": {"red circle,blue square"}})
	classified, _ := json.Marshal(got)
	for what, body := range map[string][]byte{"/v1/models": models, "/v1/classify": classified} {
		if bytes.Contains(body, []byte(model)) || bytes.Contains(body, []byte(filepath.Dir(model))) {
			t.Errorf("%s shows the server's model path %s: %s", what, model, body)
		}
	}
}

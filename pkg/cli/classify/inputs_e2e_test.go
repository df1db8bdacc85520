//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package classify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/hub/hubtest"
	"github.com/clip-go/clip/pkg/inputs/inputstest"
)

// runCtx is run with a caller's context, environment and stdout.
func runCtx(ctx context.Context, env map[string]string, out *bytes.Buffer, stdout interface{ Write([]byte) (int, error) }, args ...string) result {
	ios, _, o, errOut := iostreams.Test()
	if stdout != nil {
		ios.Out = stdout
		o = out
	}
	f := &cmdutil.Factory{IOStreams: ios, Version: "test", Commit: "test", Globals: &cmdutil.GlobalOptions{},
		Getenv: func(k string) string { return env[k] }}
	code := cli.Run(ctx, f, args)
	return result{code, o.String(), errOut.String()}
}

// cancelAfterFirst is a stdout that "presses Ctrl-C" once the first
// record has been written.
type cancelAfterFirst struct {
	mu     sync.Mutex
	buf    *bytes.Buffer
	cancel context.CancelFunc
}

func (c *cancelAfterFirst) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancel()
	return c.buf.Write(p)
}

// TestClassifyInterruptedWritesSummary: Ctrl-C (the context cancelled, as
// SIGINT and SIGTERM do) exits 130 with the finished records written and a
// summary marked interrupted that counts every input given.
func TestClassifyInterruptedWritesSummary(t *testing.T) {
	model := tinyModel(t)
	imgs := shapeImages(t)
	var args []string
	for len(args) < 200 {
		args = append(args, imgs...)
	}
	summary := filepath.Join(t.TempDir(), "s.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	r := runCtx(ctx, map[string]string{"CLIP_HOME": t.TempDir()}, &out, &cancelAfterFirst{buf: &out, cancel: cancel},
		append([]string{"classify", "--model", model, "--labels", labels, "-b", "1", "--summary", summary}, args...)...)
	if r.code != 130 {
		t.Fatalf("exit %d, want 130: %s", r.code, r.stderr)
	}
	recs := records(t, r.stdout)
	if len(recs) == 0 || len(recs) >= len(args) || recs[0].Error != "" {
		t.Errorf("%d records written of %d inputs, want the finished ones", len(recs), len(args))
	}
	var s struct {
		Interrupted bool
		Counts      struct{ Inputs, Classified int }
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatalf("no summary after Ctrl-C: %v", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if !s.Interrupted || s.Counts.Inputs != len(args) || s.Counts.Classified != len(recs) {
		t.Errorf("summary %+v, want interrupted, %d inputs, %d classified", s, len(args), len(recs))
	}
	if want := " of " + strconv.Itoa(len(args)) + " images (interrupted"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}

// TestClassifyNothingClassifiedHasNoRate: a run whose every image fails to
// decode reports no images/s (it used to count errors as images).
func TestClassifyNothingClassifiedHasNoRate(t *testing.T) {
	model := tinyModel(t)
	dir := t.TempDir()
	var args []string
	for _, n := range []string{"a.png", "b.png"} {
		p := filepath.Join(dir, n)
		os.WriteFile(p, append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 4000)...), 0o644)
		args = append(args, p)
	}
	summary := filepath.Join(dir, "s.json")
	r := run(t, t.TempDir(), "", append([]string{"classify", "--model", model, "--labels", labels, "--summary", summary}, args...)...)
	if r.code != cmdutil.ExitInputErrors {
		t.Fatalf("exit %d, want 3: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "images/s") || !strings.Contains(r.stderr, "classified 0 of 2 images") {
		t.Errorf("stderr %q: want classified 0 of 2 and no rate", r.stderr)
	}
	var s struct{ Timing map[string]float64 }
	b, _ := os.ReadFile(summary)
	json.Unmarshal(b, &s)
	if s.Timing["images_per_second"] != 0 || s.Timing["per_image_ms"] != 0 {
		t.Errorf("summary timing %v, want no rate", s.Timing)
	}
}

// TestClassifyInputsCheckedBeforeModel: with only missing inputs, classify
// reports them without resolving (downloading) the model.
func TestClassifyInputsCheckedBeforeModel(t *testing.T) {
	srv := hubtest.New(false)
	defer srv.Close()
	missing := filepath.Join(t.TempDir(), "missing.jpg")
	r := runCtx(context.Background(), map[string]string{"CLIP_HOME": t.TempDir(), "HF_ENDPOINT": srv.URL()}, nil, nil,
		"classify", "--labels", "a,b", missing)
	if r.code != cmdutil.ExitInputErrors {
		t.Errorf("exit %d, want 3: %s", r.code, r.stderr)
	}
	if recs := records(t, r.stdout); len(recs) != 1 || recs[0].File != missing || !strings.Contains(recs[0].Error, "no such file") {
		t.Errorf("records %+v, want one naming %s", recs, missing)
	}
	if n := len(srv.Requests()); n != 0 || strings.Contains(r.stderr, "download") {
		t.Errorf("%d hub requests, stderr %q: the model was resolved for nothing", n, r.stderr)
	}
	r = runCtx(context.Background(), map[string]string{"CLIP_HOME": t.TempDir(), "HF_ENDPOINT": srv.URL()}, nil, nil,
		"embed", missing)
	if n := len(srv.Requests()); r.code != cmdutil.ExitInputErrors || n != 0 || !strings.Contains(r.stdout, missing) {
		t.Errorf("embed: exit %d, %d hub requests, stdout %q, stderr %q", r.code, n, r.stdout, r.stderr)
	}
}

// TestOutputPathsCheckedFirst: a bad --summary or --out is a usage error
// naming the flag before any model is loaded (the model here does not
// exist, which would be exit 4 if it were tried first).
func TestOutputPathsCheckedFirst(t *testing.T) {
	img := shapeImages(t)[0]
	dir := t.TempDir()
	bad := filepath.Join(dir, "missing", "dir", "out")
	noModel := filepath.Join(dir, "no-model")
	cases := map[string][]string{
		"--summary":           {"classify", "--model", noModel, "--labels", "a,b", "--summary", bad + ".json", img},
		"--summary directory": {"classify", "--model", noModel, "--labels", "a,b", "--summary", dir, img},
		"--out":               {"embed", "--model", noModel, "--out", bad + ".npy", img},
		"--out text":          {"embed", "--model", noModel, "--out", bad + ".npy", "--text", "a cat"},
		"--out preprocess":    {"preprocess", img, "--model", noModel, "--out", bad + ".npy"},
		"--output-dir":        {"onnx", "run", noModel, "--random", "--output-dir", filepath.Join(img, "out")},
		"--save-inputs":       {"onnx", "bench", noModel, "--save-inputs", filepath.Join(img, "in")},
	}
	for name, args := range cases {
		// Offline, so that a regression cannot reach for a hub.
		r := runCtx(context.Background(), map[string]string{"CLIP_HOME": t.TempDir(), "HF_HUB_OFFLINE": "1"}, nil, nil, args...)
		flag := strings.Fields(name)[0]
		if r.code != cmdutil.ExitUsage || !strings.Contains(r.stderr, flag) {
			t.Errorf("%s: exit %d, stderr %q; want 2 naming %s", name, r.code, r.stderr, flag)
		}
	}
}

// TestOfflineRefusesImageURLs: --offline and HF_HUB_OFFLINE=1 never fetch
// an image URL: an error record names it.
func TestOfflineRefusesImageURLs(t *testing.T) {
	model := tinyModel(t)
	img := shapeImages(t)[0]
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	url := srv.URL + "/a.png"
	for name, c := range map[string]struct {
		env  map[string]string
		flag []string
	}{
		"--offline":        {map[string]string{}, []string{"--offline"}},
		"HF_HUB_OFFLINE=1": {map[string]string{"HF_HUB_OFFLINE": "1"}, nil},
	} {
		c.env["CLIP_HOME"] = t.TempDir()
		args := append(append([]string{"classify", "--model", model, "--labels", labels}, c.flag...), img, url)
		r := runCtx(context.Background(), c.env, nil, nil, args...)
		recs := records(t, r.stdout)
		if r.code != cmdutil.ExitInputErrors || len(recs) != 2 || recs[0].Error != "" || recs[1].File != url || !strings.Contains(recs[1].Error, "offline") {
			t.Errorf("%s: exit %d, records %+v", name, r.code, recs)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the image server got %d requests in offline mode", hits.Load())
	}
}

// TestClassifyImageOnStdin: `cat img.png | clip classify -` classifies the
// image, named "-", as it would the file.
func TestClassifyImageOnStdin(t *testing.T) {
	model := tinyModel(t)
	img := shapeImages(t)[0]
	body, _ := os.ReadFile(img)
	home := t.TempDir()
	piped := run(t, home, string(body), "classify", "--model", model, "-q", "--labels", labels, "-")
	direct := run(t, home, "", "classify", "--model", model, "-q", "--labels", labels, img)
	p, d := records(t, piped.stdout), records(t, direct.stdout)
	if piped.code != 0 || len(p) != 1 || p[0].File != "-" || p[0].Label != d[0].Label || *p[0].Probability != *d[0].Probability {
		t.Errorf("stdin image: exit %d, %+v; file gives %+v (%s)", piped.code, p, d, piped.stderr)
	}
}

// TestClassifyNonRegularInputs: a FIFO named like an image (in a scanned
// directory, or given) and a symlink to /dev/zero are error records naming
// the file; the other images are classified; nothing blocks. A FIFO or
// /dev/zero as --labels-file is a usage error.
func TestClassifyNonRegularInputs(t *testing.T) {
	model := tinyModel(t)
	img, _ := os.ReadFile(shapeImages(t)[0])
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.png"), img, 0o644)
	inputstest.Mkfifo(t, filepath.Join(dir, "b.jpg"))
	os.Symlink("/dev/zero", filepath.Join(dir, "c.png"))
	var r result
	inputstest.NoHang(t, "classify", func() {
		r = run(t, t.TempDir(), "", "classify", "--model", model, "-q", "--labels", labels, dir, filepath.Join(dir, "b.jpg"))
	})
	recs := records(t, r.stdout)
	if r.code != cmdutil.ExitInputErrors || len(recs) != 4 || recs[0].Error != "" {
		t.Fatalf("exit %d, records %+v", r.code, recs)
	}
	for _, rec := range recs[1:] {
		if !strings.Contains(rec.Error, "not a regular file") {
			t.Errorf("%s: %q, want a refusal", rec.File, rec.Error)
		}
	}
	labelsFIFO := filepath.Join(t.TempDir(), "labels.txt")
	inputstest.Mkfifo(t, labelsFIFO)
	for _, lf := range []string{labelsFIFO, "/dev/zero"} {
		inputstest.NoHang(t, "--labels-file "+lf, func() {
			r = run(t, t.TempDir(), "", "classify", "--model", model, "--labels-file", lf, filepath.Join(dir, "a.png"))
		})
		if r.code != cmdutil.ExitUsage || !strings.Contains(r.stderr, lf) || !strings.Contains(r.stderr, "not a regular file") {
			t.Errorf("--labels-file %s: exit %d, %q", lf, r.code, r.stderr)
		}
	}
}

package classify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
)

func TestClassifyURLInputs(t *testing.T) {
	model := tinyModel(t)
	img := shapeImages(t)[0]
	body, _ := os.ReadFile(img)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(body)
		case "/page":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html></html>"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	home := t.TempDir()
	r := run(t, home, "", "classify", "--model", model, "-q", "--labels", labels,
		img, srv.URL+"/a.png", srv.URL+"/page", srv.URL+"/missing.png")
	if r.code != cmdutil.ExitInputErrors {
		t.Fatalf("exit %d, want 3 (two bad URLs): %s", r.code, r.stderr)
	}
	recs := records(t, r.stdout)
	if len(recs) != 4 || recs[1].File != srv.URL+"/a.png" {
		t.Fatalf("records %+v", recs)
	}
	if recs[1].Label != recs[0].Label || *recs[1].Probability != *recs[0].Probability {
		t.Errorf("the URL and the file it serves differ: %+v vs %+v", recs[1], recs[0])
	}
	if !strings.Contains(recs[2].Error, "not an image") || !strings.Contains(recs[3].Error, "404") {
		t.Errorf("URL errors: %q, %q", recs[2].Error, recs[3].Error)
	}
}

func TestClassifyLabelsFileAndTemplates(t *testing.T) {
	model := tinyModel(t)
	imgs := shapeImages(t)[:2]
	dir := t.TempDir()
	yml := filepath.Join(dir, "labels.yaml")
	os.WriteFile(yml, []byte("red circle:\n  - a photo of a red circle.\n  - a red circle.\ngreen square: a photo of a green square.\n"), 0o644)
	sum := filepath.Join(dir, "s.json")
	home := t.TempDir()
	r := run(t, home, "", append([]string{"classify", "--model", model, "--offline", "-q", "--labels-file", yml, "--summary", sum}, imgs...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var s struct {
		Labels    []string
		TextCache struct{ Encoded int } `json:"text_cache"`
	}
	b, _ := os.ReadFile(sum)
	json.Unmarshal(b, &s)
	if strings.Join(s.Labels, "|") != "red circle|green square" || s.TextCache.Encoded != 3 {
		t.Errorf("labels %v, %d prompts encoded; want 2 labels from the file and its 3 prompts", s.Labels, s.TextCache.Encoded)
	}
	r = run(t, home, "", append([]string{"classify", "--model", model, "--offline", "-q", "--labels", "red circle,green square,blue cross", "--templates", "imagenet7", "--summary", sum}, imgs...)...)
	b, _ = os.ReadFile(sum)
	json.Unmarshal(b, &s)
	if r.code != 0 || s.TextCache.Encoded != 21 {
		t.Errorf("imagenet7: exit %d, %d prompts encoded, want 3 labels × 7 templates", r.code, s.TextCache.Encoded)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"cat": 3}`), 0o644)
	r = run(t, home, "", append([]string{"classify", "--model", model, "--offline", "--labels-file", bad}, imgs...)...)
	if r.code != cmdutil.ExitUsage || !strings.Contains(r.stderr, bad) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("malformed labels file: exit %d, stderr %q; want exit 2 and one line naming the file", r.code, r.stderr)
	}
}

// cancelAfter cancels a context once n records have been written.
type cancelAfter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n -= bytes.Count(p, []byte("\n"))
	if c.n <= 0 {
		c.cancel()
	}
	return c.buf.Write(p)
}

func TestClassifyInterruptKeepsFinishedRecords(t *testing.T) {
	model := tinyModel(t)
	var many []string
	for i := 0; i < 40; i++ {
		many = append(many, shapeImages(t)...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ios, _, _, errOut := iostreams.Test()
	out := &cancelAfter{n: 5, cancel: cancel}
	ios.Out = out
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string {
		if k == "CLIP_HOME" {
			return t.TempDir()
		}
		return ""
	}}
	code := cli.Run(ctx, f, append([]string{"classify", "--model", model, "--offline", "-q", "--labels", labels, "-b", "2"}, many...))
	if code != 130 {
		t.Fatalf("exit %d after Ctrl-C, want 130; stderr %q", code, errOut)
	}
	recs := records(t, out.buf.String())
	if len(recs) < 5 || len(recs) >= len(many) {
		t.Errorf("%d records of %d after cancelling at 5", len(recs), len(many))
	}
	for _, r := range recs {
		if r.Error != "" {
			t.Errorf("record %s: %s (cancellation must not produce error records)", r.File, r.Error)
		}
	}
}

func TestClassifyProgressOnlyOnTerminal(t *testing.T) {
	model := tinyModel(t)
	imgs := shapeImages(t)[:6]
	for _, c := range []struct {
		tty, quiet bool
		want       bool
	}{{true, false, true}, {true, true, false}, {false, false, false}} {
		ios, _, _, errOut := iostreams.Test()
		ios.SetStderrTTY(c.tty)
		f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string {
			if k == "CLIP_HOME" {
				return t.TempDir()
			}
			return ""
		}}
		args := []string{"classify", "--model", model, "--offline", "--labels", labels}
		if c.quiet {
			args = append(args, "-q")
		}
		if code := cli.Run(context.Background(), f, append(args, imgs...)); code != 0 {
			t.Fatalf("exit %d", code)
		}
		if got := strings.Contains(errOut.String(), "classifying"); got != c.want {
			t.Errorf("tty=%v quiet=%v: progress bar shown=%v, want %v; stderr %q", c.tty, c.quiet, got, c.want, errOut)
		}
	}
}

package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/embed"
	indexcmd "github.com/clip-go/clip/pkg/cli/index"
	"github.com/clip-go/clip/pkg/index"
)

// heldOut are the colour-shape combinations tiny-shapes never saw in
// training: their images' embeddings are wherever the model puts them,
// so they stay out of the index (as in pkg/cli/index's tests).
var heldOut = map[string]bool{"red triangle": true, "green cross": true, "blue square": true, "yellow circle": true}

// shapeLabel is "red circle" for red-circle-2.jpg.
func shapeLabel(path string) string {
	parts := strings.SplitN(filepath.Base(path), "-", 3)
	return parts[0] + " " + parts[1]
}

// indexShapes copies the trained combinations of testdata/shapes into a
// directory and indexes them with `clip index`; it returns the index file
// and the indexed image paths.
func indexShapes(t *testing.T, model string) (string, []string) {
	t.Helper()
	src := filepath.Join(repoRoot, "testdata", "shapes")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "shapes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") || heldOut[shapeLabel(e.Name())] {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, e.Name())
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	ix := filepath.Join(t.TempDir(), "shapes.sqlite")
	f, _, errOut := testFactory(map[string]string{"CLIP_HOME": t.TempDir()})
	f.Globals.Model, f.Globals.Offline, f.Globals.Quiet = model, true, true
	cmd := indexcmd.NewCmdIndex(f, nil)
	cmd.SetArgs([]string{"--index", ix, "-r", dir})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("clip index: %v\n%s", err, errOut)
	}
	return ix, files
}

type searchAnswer struct {
	status int
	body   []byte
	resp   struct {
		Schema  int    `json:"schema"`
		Index   string `json:"index"`
		Images  int    `json:"images"`
		Results []struct {
			Schema int     `json:"schema"`
			File   string  `json:"file"`
			Score  float64 `json:"score"`
		} `json:"results"`
	}
	err struct {
		Error struct{ Code, Message string } `json:"error"`
	}
}

func postSearch(t *testing.T, url string, req any) searchAnswer {
	t.Helper()
	b, _ := json.Marshal(req)
	resp, err := http.Post(url+"/v1/search", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a searchAnswer
	a.status = resp.StatusCode
	a.body, _ = io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("/v1/search %s: Content-Type %q: %s", b, ct, a.body)
	}
	if a.status == http.StatusOK {
		if err := json.Unmarshal(a.body, &a.resp); err != nil {
			t.Fatalf("/v1/search answer: %v: %s", err, a.body)
		}
	} else if err := json.Unmarshal(a.body, &a.err); err != nil || a.err.Error.Message == "" {
		t.Fatalf("/v1/search error is not {\"error\":{\"code\",\"message\"}}: %s", a.body)
	}
	return a
}

// TestServeSearch: over an index of the tiny-shapes images made by `clip
// index`, /v1/search finds each shape's images first by text (with the
// zero-shot template), every indexed image first by example with score
// ≈ 1, keeps to a path prefix, and answers bad requests with clear JSON
// errors.
func TestServeSearch(t *testing.T) {
	model := tinyModel(t)
	ix, files := indexShapes(t, model)
	r := startServe(t, model, func(o *ServeOptions) { o.Index, o.NoCache = ix, true })

	count := map[string]int{}
	for _, f := range files {
		count[shapeLabel(f)]++
	}
	for l, n := range count {
		a := postSearch(t, r.url, map[string]any{"text": l, "templates": []string{"a photo of a {}."}, "k": n})
		if a.status != 200 || a.resp.Schema != 1 || a.resp.Index != "shapes.sqlite" || a.resp.Images != len(files) || len(a.resp.Results) != n {
			t.Fatalf("query %q: %d %s", l, a.status, a.body)
		}
		for i, h := range a.resp.Results {
			if shapeLabel(h.File) != l || h.Schema != 1 || (i > 0 && h.Score > a.resp.Results[i-1].Score) {
				t.Errorf("query %q: result %d is %s (score %.4f)", l, i, filepath.Base(h.File), h.Score)
			}
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		a := postSearch(t, r.url, map[string]any{"image": map[string]string{"base64": base64.StdEncoding.EncodeToString(b)}, "k": 1})
		if a.status != 200 || len(a.resp.Results) != 1 || a.resp.Results[0].File != f || math.Abs(a.resp.Results[0].Score-1) > 0.002 {
			t.Errorf("image %s as query: %d %s; want itself with score ≈ 1", filepath.Base(f), a.status, a.body)
		}
	}
	// Text and image together; the prefix keeps a subtree on path boundaries.
	dir := filepath.Dir(files[0])
	b, _ := os.ReadFile(files[0])
	a := postSearch(t, r.url, map[string]any{"text": shapeLabel(files[0]), "image": base64.StdEncoding.EncodeToString(b), "prefix": dir, "k": 1000})
	if a.status != 200 || len(a.resp.Results) != len(files) || shapeLabel(a.resp.Results[0].File) != shapeLabel(files[0]) {
		t.Errorf("text and image of %s under %s: %d %.300s", shapeLabel(files[0]), dir, a.status, a.body)
	}
	if a := postSearch(t, r.url, map[string]any{"text": "red circle", "prefix": dir + "-other"}); a.status != 200 || len(a.resp.Results) != 0 {
		t.Errorf("prefix %s-other (a sibling, not the directory): %d %s", dir, a.status, a.body)
	}
	for _, h := range postSearch(t, r.url, map[string]any{"text": "red circle", "threshold": 0.5, "k": 1000}).resp.Results {
		if h.Score < 0.5 {
			t.Errorf("threshold 0.5 returned %+v", h)
		}
	}

	// Bad requests: clear JSON errors with their status.
	for _, c := range []struct {
		req    map[string]any
		status int
		want   string
	}{
		{map[string]any{"text": "red circle", "k": 0}, 400, "k must be between 1 and 1000"},
		{map[string]any{"text": "red circle", "k": 1001}, 400, "k must be between 1 and 1000"},
		{map[string]any{"text": "red circle", "k": "ten"}, 400, "k"},
		{map[string]any{}, 400, "nothing to search for"},
		{map[string]any{"text": "red circle", "templates": []string{"a photo"}}, 400, `template "a photo" has no {}`},
		{map[string]any{"image": base64.StdEncoding.EncodeToString([]byte("not an image"))}, 400, "images[0]: "},
		{map[string]any{"image": "%%%"}, 400, "invalid base64"},
		{map[string]any{"text": "red circle", "labels": []string{"a"}}, 400, "labels are for /v1/classify"},
	} {
		a := postSearch(t, r.url, c.req)
		if a.status != c.status || a.err.Error.Code != "bad_request" || !strings.Contains(a.err.Error.Message, c.want) {
			t.Errorf("%v: %d %s; want %d bad_request with %q", c.req, a.status, a.body, c.status, c.want)
		}
	}
}

// TestServeWithoutIndexSearch404: without --index, /v1/search answers 404
// with a JSON error naming the flag.
func TestServeWithoutIndexSearch404(t *testing.T) {
	r := startServe(t, tinyModel(t), nil)
	a := postSearch(t, r.url, map[string]any{"text": "red circle"})
	if a.status != 404 || a.err.Error.Code != "not_found" || !strings.Contains(a.err.Error.Message, "--index") {
		t.Errorf("/v1/search without --index: %d %s", a.status, a.body)
	}
}

// TestServeRefusesIndexOfAnotherModel: an index made with another model is
// a usage error (exit 2) naming both, and the server does not start; a
// missing index file is one before the model loads.
func TestServeRefusesIndexOfAnotherModel(t *testing.T) {
	model := tinyModel(t)
	ixPath := filepath.Join(t.TempDir(), "other.sqlite")
	ix, err := index.Open(context.Background(), ixPath, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.SetMeta(context.Background(), index.Meta{ModelID: "openai/clip-vit-large-patch14", Fingerprint: "0123456789abcdef", Variant: "fp32", Dim: 768}); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	for _, c := range []struct{ path, want string }{
		{ixPath, "was made with model openai/clip-vit-large-patch14"},
		{filepath.Join(t.TempDir(), "missing.sqlite"), "no such file"},
	} {
		f, _, errOut := testFactory(map[string]string{"CLIP_HOME": t.TempDir()})
		f.Globals.Model, f.Globals.Offline = model, true
		cmd := NewCmdServe(f, nil)
		cmd.SetArgs([]string{"--addr", "127.0.0.1:0", "--index", c.path})
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.ExecuteContext(context.Background())
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(fmt.Sprint(err), c.want) || !strings.Contains(fmt.Sprint(err), "--index") {
			t.Errorf("--index %s: %v (exit %d), want exit 2 with %q\n%s", c.path, err, cmdutil.ExitCode(err), c.want, errOut)
		}
	}
}

// weaviateVecResponse is how Weaviate's multi2vec-clip client decodes
// every /vectorize answer (weaviate/weaviate v1.35.2,
// modules/multi2vec-clip/clients/vectorizer.go, vecResponse).
type weaviateVecResponse struct {
	TextVectors  [][]float32 `json:"textVectors"`
	ImageVectors [][]float32 `json:"imageVectors"`
	Error        string      `json:"error"`
}

// TestWeaviateVectorizeMatchesEmbed: /vectorize answers Weaviate's shape
// with the vectors `clip embed` gives for the same texts (no template)
// and images.
func TestWeaviateVectorizeMatchesEmbed(t *testing.T) {
	model := tinyModel(t)
	r := startServe(t, model, func(o *ServeOptions) { o.NoCache = true })
	texts := []string{"red circle", "a photo of a blue cross.", "purple"}
	images := []string{filepath.Join(repoRoot, "testdata", "shapes", "blue-cross-1.png"), filepath.Join(repoRoot, "testdata", "shapes", "blue-circle-2.jpg")}
	var b64 []string
	for _, p := range images {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b64 = append(b64, base64.StdEncoding.EncodeToString(b))
	}
	// The request as Weaviate marshals it (vecRequest, omitempty fields).
	body, _ := json.Marshal(struct {
		Texts  []string `json:"texts,omitempty"`
		Images []string `json:"images,omitempty"`
	}{texts, b64})
	resp, err := http.Post(r.url+"/vectorize", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got weaviateVecResponse
	if resp.StatusCode != 200 || json.Unmarshal(raw, &got) != nil || got.Error != "" || len(got.TextVectors) != len(texts) || len(got.ImageVectors) != len(images) {
		t.Fatalf("/vectorize: %d %.300s", resp.StatusCode, raw)
	}

	// clip embed, in-process, on the same texts and files.
	embedJSONL := func(args ...string) [][]float32 {
		f, out, errOut := testFactory(map[string]string{"CLIP_HOME": t.TempDir()})
		f.Globals.Model, f.Globals.Offline, f.Globals.Format, f.Globals.Quiet = model, true, cmdutil.FormatJSONL, true
		cmd := embed.NewCmdEmbed(f, nil)
		cmd.SetArgs(args)
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("clip embed %v: %v\n%s", args, err, errOut)
		}
		var vs [][]float32
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var rec struct{ Embedding []float32 }
			if err := json.Unmarshal([]byte(line), &rec); err != nil || len(rec.Embedding) == 0 {
				t.Fatalf("clip embed record %q: %v", line, err)
			}
			vs = append(vs, rec.Embedding)
		}
		return vs
	}
	var textArgs []string
	for _, s := range texts {
		textArgs = append(textArgs, "--text", s)
	}
	wantTexts := embedJSONL(textArgs...)
	wantImages := embedJSONL(images...)
	maxDiff := 0.0
	for _, c := range []struct{ got, want [][]float32 }{{got.TextVectors, wantTexts}, {got.ImageVectors, wantImages}} {
		if len(c.got) != len(c.want) {
			t.Fatalf("%d vectors, clip embed gave %d", len(c.got), len(c.want))
		}
		for i := range c.got {
			if len(c.got[i]) != len(c.want[i]) {
				t.Fatalf("vector %d: %d dimensions, clip embed %d", i, len(c.got[i]), len(c.want[i]))
			}
			for j := range c.got[i] {
				maxDiff = math.Max(maxDiff, math.Abs(float64(c.got[i][j]-c.want[i][j])))
			}
		}
	}
	// Same pipeline; only the batch composition (summation order) differs.
	if maxDiff > 1e-5 {
		t.Errorf("max |/vectorize − clip embed| = %.2g, want ≤ 1e-5", maxDiff)
	}
	t.Logf("%d texts, %d images: max |/vectorize − clip embed| %.2g", len(texts), len(images), maxDiff)

	// A bad image fails the request with the error string Weaviate reports.
	body, _ = json.Marshal(map[string][]string{"images": {b64[0], base64.StdEncoding.EncodeToString([]byte("not an image"))}})
	resp, err = http.Post(r.url+"/vectorize", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var bad weaviateVecResponse
	if resp.StatusCode != 400 || json.Unmarshal(raw, &bad) != nil || !strings.Contains(bad.Error, "images[1]") {
		t.Errorf("/vectorize with a bad image: %d %s; want 400 {\"error\":\"images[1]: …\"}", resp.StatusCode, raw)
	}
}

package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clip-go/clip/pkg/clip"
)

// testServer runs a Server with a fake model on a loopback httptest server.
type testServer struct {
	*Server
	ts    *httptest.Server
	model *fakeModel
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestServer(t *testing.T, cfg Config, m *fakeModel) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	s := New(cfg)
	if m != nil {
		s.SetModel(m, ModelInfo{ID: "fake/model", Variant: "fp32"}, nil)
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Config = s.HTTPServer("")
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return &testServer{Server: s, ts: ts, model: m, logs: logs}
}

// part is one multipart form part: a file when filename is set.
type part struct{ name, filename, value string }

func multipartBody(t *testing.T, parts ...part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, p.value)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errorCode() string {
	var e errorBody
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (r response) classify(t *testing.T) ClassifyResponse {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var c ClassifyResponse
	if err := json.Unmarshal(r.body, &c); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, r.body)
	}
	return c
}

func (ts *testServer) do(t *testing.T, method, path, contentType string, body []byte, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := ts.ts.Client()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

func (ts *testServer) postJSON(t *testing.T, path string, v any, header ...string) response {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return ts.do(t, http.MethodPost, path, "application/json", b, header...)
}

func (ts *testServer) classifyColours(t *testing.T, header ...string) response {
	t.Helper()
	ct, body := multipartBody(t, part{name: "image", filename: "r.png", value: string(solidPNG(red, 3, 3))},
		part{name: "labels", value: "red,green,blue"})
	return ts.do(t, http.MethodPost, "/v1/classify", ct, body, header...)
}

// stillServes checks the server answers a normal request after whatever
// the test did to it.
func (ts *testServer) stillServes(t *testing.T) {
	t.Helper()
	c := ts.classifyColours(t).classify(t)
	if len(c.Results) != 1 || c.Results[0].Label != "red" {
		t.Fatalf("server no longer classifies: %+v", c.Results)
	}
	// Slots are freed just after the response is written: poll briefly.
	waitFor(t, func() bool { return ts.slots.used.Load() == 0 }, "every queue slot to be released")
}

func TestClassifyMultipart(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{})
	ct, body := multipartBody(t,
		part{name: "image", filename: "red.png", value: string(solidPNG(red, 4, 4))},
		part{name: "image", filename: "blue.png", value: string(solidPNG(blue, 2, 5))},
		part{name: "image", filename: "green.png", value: string(solidPNG(green, 1, 1))},
		part{name: "labels", value: "red, green"},
		part{name: "labels", value: "blue"},
		part{name: "top_k", value: "2"},
	)
	c := ts.do(t, http.MethodPost, "/v1/classify", ct, body).classify(t)
	if c.Schema != 1 || c.Model == nil || c.Model.ID != "fake/model" || c.Model.InputSize != [2]int{4, 4} {
		t.Fatalf("schema/model: %+v %+v", c.Schema, c.Model)
	}
	want := []string{"red", "blue", "green"}
	if len(c.Results) != 3 {
		t.Fatalf("%d results, want 3", len(c.Results))
	}
	for i, r := range c.Results {
		if r.Schema != clip.SchemaVersion || r.Label != want[i] || r.Error != "" {
			t.Errorf("result %d: %+v, want label %s", i, r, want[i])
		}
		if r.Probability == nil || *r.Probability < 0.99 {
			t.Errorf("result %d: probability %v, want > 0.99 (a solid colour against its name)", i, r.Probability)
		}
		if len(r.Labels) != 2 || r.Labels[0].Label != want[i] || r.Labels[0].Similarity < 0.999 {
			t.Errorf("result %d: top_k=2 labels %+v", i, r.Labels)
		}
	}
	if c.Results[0].File != "red.png" || c.Results[1].File != "blue.png" {
		t.Errorf("files %q %q, want the part filenames", c.Results[0].File, c.Results[1].File)
	}
}

func TestClassifyJSONAndThreshold(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{})
	grey := solidPNG(color.RGBA{128, 128, 128, 255}, 2, 2)
	req := map[string]any{
		"images": []map[string]string{
			{"base64": base64.StdEncoding.EncodeToString(solidPNG(green, 2, 2))},
			{"base64": "data:image/png;base64," + base64.StdEncoding.EncodeToString(grey), "name": "grey"},
			{"base64": "!!!not base64"},
		},
		"labels":    []string{"red", "green", "blue"},
		"templates": []string{"a {} thing", "a photo of something {}"},
		"threshold": 0.5,
	}
	c := ts.postJSON(t, "/v1/classify", req).classify(t)
	if c.Results[0].Label != "green" || c.Results[0].File != "images[0]" {
		t.Errorf("result 0: %+v", c.Results[0])
	}
	// Grey is equally close to red, green and blue: 1/3 each, below 0.5.
	if r := c.Results[1]; r.Label != clip.UnknownLabel || r.File != "grey" || r.Probability == nil || *r.Probability > 0.34 {
		t.Errorf("grey: %+v, want unknown with p≈1/3", r)
	}
	if r := c.Results[2]; r.Error == "" || !strings.Contains(r.Error, "base64") || r.Label != "" {
		t.Errorf("bad base64: %+v, want an error record", r)
	}
}

func TestCorruptImagesAreErrorRecords(t *testing.T) {
	ts := newTestServer(t, Config{MaxImages: 10}, &fakeModel{maxPixels: 100})
	good := solidPNG(red, 2, 2)
	ct, body := multipartBody(t,
		part{name: "image", filename: "truncated.png", value: string(good[:len(good)/2])},
		part{name: "image", filename: "text.jpg", value: "hello, not an image"},
		part{name: "image", filename: "empty.png", value: ""},
		part{name: "image", filename: "ok.png", value: string(good)},
		part{name: "image", filename: "huge.png", value: string(solidPNG(red, 20, 20))},
		part{name: "labels", value: "red,green"},
	)
	c := ts.do(t, http.MethodPost, "/v1/classify", ct, body).classify(t)
	for i, r := range c.Results {
		wantErr := i != 3
		if (r.Error != "") != wantErr {
			t.Errorf("%s: %+v, want error=%v", r.File, r, wantErr)
		}
	}
	if !strings.Contains(c.Results[4].Error, "too large") {
		t.Errorf("over the pixel cap: %q", c.Results[4].Error)
	}
	if c.Results[3].Label != "red" {
		t.Errorf("good image beside bad ones: %+v", c.Results[3])
	}
	ts.stillServes(t)
}

func TestMalformedRequests(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{})
	img := base64.StdEncoding.EncodeToString(solidPNG(red, 1, 1))
	ctOK, goodMultipart := multipartBody(t, part{name: "image", filename: "a.png", value: "x"}, part{name: "labels", value: "a"})
	for _, tc := range []struct {
		name, ct, body string
		status         int
		code           string
	}{
		{"json syntax", "application/json", `{"images": [`, 400, CodeBadRequest},
		{"json wrong type", "application/json", `{"labels": "red"}`, 400, CodeBadRequest},
		{"json unknown field", "application/json", `{"label": ["red"]}`, 400, CodeBadRequest},
		{"json trailing", "application/json", `{"labels":["a"]} {}`, 400, CodeBadRequest},
		{"json image without source", "application/json", `{"images":[{}],"labels":["a"]}`, 400, CodeBadRequest},
		{"no images", "application/json", `{"labels":["a"]}`, 400, CodeBadRequest},
		{"no labels", "application/json", `{"images":[{"base64":"` + img + `"}]}`, 400, CodeBadRequest},
		{"duplicate label", "application/json", `{"images":[{"base64":"` + img + `"}],"labels":["a","a"]}`, 400, CodeBadRequest},
		{"empty label", "application/json", `{"images":[{"base64":"` + img + `"}],"labels":["a",""]}`, 400, CodeBadRequest},
		{"threshold", "application/json", `{"images":[{"base64":"` + img + `"}],"labels":["a"],"threshold":2}`, 400, CodeBadRequest},
		{"top_k", "application/json", `{"images":[{"base64":"` + img + `"}],"labels":["a"],"top_k":-1}`, 400, CodeBadRequest},
		{"texts on classify", "application/json", `{"images":[{"base64":"` + img + `"}],"labels":["a"],"texts":["x"]}`, 400, CodeBadRequest},
		{"multipart no boundary", "multipart/form-data", "--x\r\n", 400, CodeBadRequest},
		{"multipart wrong boundary", "multipart/form-data; boundary=nope", string(goodMultipart), 400, CodeBadRequest},
		{"multipart truncated", ctOK, string(goodMultipart[:len(goodMultipart)-20]), 400, CodeBadRequest},
		{"multipart unknown field", ctOK, strings.Replace(string(goodMultipart), `name="labels"`, `name="lables"`, 1), 400, CodeBadRequest},
		{"no content type", "", `{}`, 415, CodeUnsupportedMedia},
		{"text/plain", "text/plain", `hello`, 415, CodeUnsupportedMedia},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do(t, http.MethodPost, "/v1/classify", tc.ct, []byte(tc.body))
			if r.status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("status %d code %q, want %d %q: %s", r.status, r.errorCode(), tc.status, tc.code, r.body)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Errorf("error Content-Type %q", r.header.Get("Content-Type"))
			}
		})
	}
	// A multipart request with top_k that is not a number.
	ct, body := multipartBody(t, part{name: "image", filename: "a.png", value: string(solidPNG(red, 1, 1))},
		part{name: "labels", value: "red"}, part{name: "top_k", value: "two"})
	if r := ts.do(t, http.MethodPost, "/v1/classify", ct, body); r.status != 400 {
		t.Errorf("top_k=two: %d %s", r.status, r.body)
	}
	ts.stillServes(t)
}

func TestLimits(t *testing.T) {
	ts := newTestServer(t, Config{MaxBody: 4 << 10, MaxLabels: 3, MaxImages: 2, Queue: 8}, &fakeModel{})
	t.Run("body", func(t *testing.T) {
		ct, body := multipartBody(t, part{name: "image", filename: "big.bin", value: strings.Repeat("x", 8<<10)},
			part{name: "labels", value: "red"})
		r := ts.do(t, http.MethodPost, "/v1/classify", ct, body)
		if r.status != 413 || r.errorCode() != CodeTooLarge {
			t.Fatalf("over --max-body: %d %s", r.status, r.body)
		}
		big := `{"labels":["` + strings.Repeat("a", 8<<10) + `"]}`
		if r := ts.do(t, http.MethodPost, "/v1/classify", "application/json", []byte(big)); r.status != 413 {
			t.Fatalf("JSON over --max-body: %d %s", r.status, r.body)
		}
	})
	t.Run("labels", func(t *testing.T) {
		ct, body := multipartBody(t, part{name: "image", filename: "a.png", value: string(solidPNG(red, 1, 1))},
			part{name: "labels", value: "a,b,c,d"})
		r := ts.do(t, http.MethodPost, "/v1/classify", ct, body)
		if r.status != 400 || r.errorCode() != CodeTooManyLabels {
			t.Fatalf("4 labels over 3: %d %s", r.status, r.body)
		}
		r = ts.postJSON(t, "/v1/embed", map[string]any{"texts": []string{"a", "b", "c", "d"}})
		if r.status != 400 || r.errorCode() != CodeTooManyLabels {
			t.Fatalf("4 texts over 3: %d %s", r.status, r.body)
		}
	})
	t.Run("images", func(t *testing.T) {
		img := map[string]string{"base64": base64.StdEncoding.EncodeToString(solidPNG(red, 1, 1))}
		r := ts.postJSON(t, "/v1/classify", map[string]any{"images": []any{img, img, img}, "labels": []string{"red"}})
		if r.status != 413 || r.errorCode() != CodeTooManyImages {
			t.Fatalf("3 images over 2: %d %s", r.status, r.body)
		}
	})
	ts.stillServes(t)
}

func TestAuth(t *testing.T) {
	ts := newTestServer(t, Config{Token: "s3cret"}, &fakeModel{})
	r := ts.classifyColours(t)
	if r.status != 401 || r.errorCode() != CodeUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %v %s", r.status, r.header, r.body)
	}
	if r := ts.classifyColours(t, "Authorization", "Bearer s3cre"); r.status != 401 {
		t.Fatalf("wrong token: %d", r.status)
	}
	if r := ts.classifyColours(t, "Authorization", "Basic s3cret"); r.status != 401 {
		t.Fatalf("not a bearer token: %d", r.status)
	}
	if r := ts.do(t, http.MethodGet, "/metrics", "", nil); r.status != 401 {
		t.Fatalf("/metrics without token: %d", r.status)
	}
	if r := ts.do(t, http.MethodGet, "/v1/models", "", nil); r.status != 401 {
		t.Fatalf("/v1/models without token: %d", r.status)
	}
	ts.classifyColours(t, "Authorization", "Bearer s3cret").classify(t)
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json", "/"} {
		if r := ts.do(t, http.MethodGet, p, "", nil); r.status != 200 {
			t.Errorf("%s needs no token, got %d", p, r.status)
		}
	}
}

func TestReadinessAndShutdown(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	if r := ts.do(t, http.MethodGet, "/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz while loading: %d", r.status)
	}
	r := ts.do(t, http.MethodGet, "/readyz", "", nil)
	if r.status != 503 || r.errorCode() != CodeNotReady || r.header.Get("Retry-After") == "" {
		t.Fatalf("readyz while loading: %d %v %s", r.status, r.header, r.body)
	}
	r = ts.classifyColours(t)
	if r.status != 503 || r.errorCode() != CodeNotReady || r.header.Get("Retry-After") == "" {
		t.Fatalf("classify while loading: %d %s", r.status, r.body)
	}
	if r := ts.do(t, http.MethodGet, "/v1/models", "", nil); r.status != 503 {
		t.Fatalf("models while loading: %d", r.status)
	}
	ts.model = &fakeModel{}
	ts.SetModel(ts.model, ModelInfo{ID: "fake/model"}, nil)
	if r := ts.do(t, http.MethodGet, "/readyz", "", nil); r.status != 200 {
		t.Fatalf("readyz when loaded: %d", r.status)
	}
	ts.stillServes(t)
	ts.BeginShutdown()
	if r := ts.do(t, http.MethodGet, "/readyz", "", nil); r.status != 503 || r.errorCode() != CodeShuttingDown {
		t.Fatalf("readyz when shutting down: %d %s", r.status, r.body)
	}
	if r := ts.classifyColours(t); r.status != 503 || r.errorCode() != CodeShuttingDown || r.header.Get("Retry-After") == "" {
		t.Fatalf("classify when shutting down: %d %s", r.status, r.body)
	}
}

func TestMethodsAndNotFound(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{})
	r := ts.do(t, http.MethodGet, "/v1/classify", "", nil)
	if r.status != 405 || r.header.Get("Allow") != "POST" || r.errorCode() != CodeMethodNotAllowed {
		t.Fatalf("GET /v1/classify: %d %v %s", r.status, r.header, r.body)
	}
	if r := ts.do(t, http.MethodPost, "/healthz", "", nil); r.status != 405 {
		t.Fatalf("POST /healthz: %d", r.status)
	}
	if r := ts.do(t, http.MethodHead, "/healthz", "", nil); r.status != 200 {
		t.Fatalf("HEAD /healthz: %d", r.status)
	}
	r = ts.do(t, http.MethodGet, "/v2/nothing", "", nil)
	if r.status != 404 || r.errorCode() != CodeNotFound {
		t.Fatalf("unknown path: %d %s", r.status, r.body)
	}
}

func TestEmbedAndModels(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{})
	r := ts.postJSON(t, "/v1/embed", map[string]any{"texts": []string{"a red car", "green"}})
	var e EmbedResponse
	if r.status != 200 || json.Unmarshal(r.body, &e) != nil || len(e.Results) != 2 {
		t.Fatalf("embed texts: %d %s", r.status, r.body)
	}
	if *e.Results[0].Text != "a red car" || e.Results[0].Embedding[0] != 1 || e.Results[1].Embedding[1] != 1 {
		t.Errorf("text embeddings: %+v", e.Results)
	}
	ct, body := multipartBody(t, part{name: "image", filename: "b.png", value: string(solidPNG(blue, 2, 2))},
		part{name: "image", filename: "bad.png", value: "nope"})
	r = ts.do(t, http.MethodPost, "/v1/embed", ct, body)
	e = EmbedResponse{}
	if r.status != 200 || json.Unmarshal(r.body, &e) != nil || len(e.Results) != 2 {
		t.Fatalf("embed images: %d %s", r.status, r.body)
	}
	if e.Results[0].File != "b.png" || len(e.Results[0].Embedding) != 3 || e.Results[0].Embedding[2] < 0.999 || e.Results[1].Error == "" {
		t.Errorf("image embeddings: %+v", e.Results)
	}
	if r := ts.postJSON(t, "/v1/embed", map[string]any{"texts": []string{"a"}, "images": []any{map[string]string{"base64": "AA"}}}); r.status != 400 {
		t.Errorf("texts and images: %d", r.status)
	}
	if r := ts.postJSON(t, "/v1/embed", map[string]any{}); r.status != 400 {
		t.Errorf("nothing: %d", r.status)
	}
	r = ts.do(t, http.MethodGet, "/v1/models", "", nil)
	var m struct {
		Schema int         `json:"schema"`
		Models []ModelInfo `json:"models"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &m) != nil || len(m.Models) != 1 || m.Models[0].ID != "fake/model" || m.Models[0].LogitScale != 100 {
		t.Fatalf("models: %d %s", r.status, r.body)
	}
}

// TestMicroBatching holds the first inference, queues four single-image
// requests behind it, and expects them to run as one batch of four.
func TestMicroBatching(t *testing.T) {
	m := &fakeModel{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	ts := newTestServer(t, Config{MaxBatch: 8, BatchWait: time.Millisecond}, m)
	var wg sync.WaitGroup
	results := make([]response, 5)
	send := func(i int) {
		defer wg.Done()
		ct, body := multipartBody(t, part{name: "image", filename: "r.png", value: string(solidPNG(red, 2, 2))}, part{name: "labels", value: "red,blue"})
		results[i] = ts.do(t, http.MethodPost, "/v1/classify", ct, body)
	}
	wg.Add(1)
	go send(0)
	<-m.entered // the first batch is in inference
	for i := 1; i < 5; i++ {
		wg.Add(1)
		go send(i)
	}
	waitFor(t, func() bool { return len(ts.Server.state.Load().batch.jobs) == 4 }, "4 queued images")
	close(m.gate)
	wg.Wait()
	for i, r := range results {
		if c := r.classify(t); c.Results[0].Label != "red" {
			t.Errorf("request %d: %+v", i, c.Results)
		}
	}
	if b, _ := m.stats(); fmt.Sprint(b) != "[1 4]" {
		t.Fatalf("batches %v, want [1 4]", b)
	}
	if nb, ni := ts.BatchStats(); nb != 2 || ni != 5 {
		t.Fatalf("BatchStats %d batches %d images, want 2, 5", nb, ni)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestQueueFull(t *testing.T) {
	m := &fakeModel{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	ts := newTestServer(t, Config{Queue: 2, MaxBatch: 1}, m)
	var wg sync.WaitGroup
	var first, second response
	wg.Add(2)
	go func() { defer wg.Done(); first = ts.classifyColours(t) }()
	<-m.entered
	go func() { defer wg.Done(); second = ts.classifyColours(t) }()
	waitFor(t, func() bool { return ts.slots.used.Load() == 2 }, "two admitted images")
	r := ts.classifyColours(t)
	if r.status != 429 || r.errorCode() != CodeQueueFull || r.header.Get("Retry-After") != "1" {
		t.Fatalf("third request with --queue 2: %d %v %s", r.status, r.header, r.body)
	}
	// Two images in one request do not fit beside the two held either.
	if r := ts.postJSON(t, "/v1/embed", map[string]any{"texts": []string{"a"}}); r.status != 429 {
		t.Fatalf("embed while full: %d %s", r.status, r.body)
	}
	close(m.gate)
	wg.Wait()
	first.classify(t)
	second.classify(t)
	ts.stillServes(t)
	met := ts.do(t, http.MethodGet, "/metrics", "", nil)
	if !strings.Contains(string(met.body), `clip_errors_total{code="queue_full"} 2`) {
		t.Errorf("metrics lack the 429s:\n%s", grep(string(met.body), "clip_errors_total"))
	}
}

func TestRequestTimeout(t *testing.T) {
	m := &fakeModel{gate: make(chan struct{})}
	ts := newTestServer(t, Config{Timeout: 300 * time.Millisecond}, m)
	r := ts.classifyColours(t)
	if r.status != 504 || r.errorCode() != CodeTimeout {
		t.Fatalf("slow inference: %d %s", r.status, r.body)
	}
	close(m.gate)
	ts.stillServes(t)
}

func TestInferenceFailureIs500(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{failImages: fmt.Errorf("engine exploded")})
	r := ts.classifyColours(t)
	if r.status != 500 || r.errorCode() != CodeInternal || !strings.Contains(string(r.body), "engine exploded") {
		t.Fatalf("inference failure: %d %s", r.status, r.body)
	}
	if !strings.Contains(ts.logs.String(), `"level":"ERROR"`) {
		t.Errorf("no error log line:\n%s", ts.logs.String())
	}
}

func TestPromptCache(t *testing.T) {
	dir := t.TempDir()
	disk, err := clip.OpenTextCache(dir, "fakekey")
	if err != nil {
		t.Fatal(err)
	}
	m := &fakeModel{}
	s := New(Config{})
	s.SetModel(m, ModelInfo{ID: "fake"}, disk)
	ts := &testServer{Server: s, model: m}
	ts.ts = httptest.NewServer(s.Handler())
	defer ts.ts.Close()
	defer s.Close()
	ts.classifyColours(t).classify(t)
	_, n1 := m.stats()
	if n1 != 3 {
		t.Fatalf("first request encoded %d prompts, want 3", n1)
	}
	ts.classifyColours(t).classify(t)
	if _, n2 := m.stats(); n2 != n1 {
		t.Fatalf("same labels again encoded %d more prompts", n2-n1)
	}
	// A new server on the same disk cache (a restart) encodes nothing.
	disk2, err := clip.OpenTextCache(dir, "fakekey")
	if err != nil || disk2.Len() != 3 {
		t.Fatalf("disk cache after one request: %d prompts, %v", disk2.Len(), err)
	}
	m2 := &fakeModel{}
	s2 := New(Config{})
	s2.SetModel(m2, ModelInfo{ID: "fake"}, disk2)
	defer s2.Close()
	ts2 := &testServer{Server: s2, model: m2, ts: httptest.NewServer(s2.Handler())}
	defer ts2.ts.Close()
	ts2.classifyColours(t).classify(t)
	if _, n := m2.stats(); n != 0 {
		t.Fatalf("restarted server encoded %d prompts, want 0 (all on disk)", n)
	}
	// Another label set sharing prompts: answered from the prompt cache.
	ct, body := multipartBody(t, part{name: "image", filename: "g.png", value: string(solidPNG(green, 2, 2))}, part{name: "labels", value: "green,red"})
	if c := ts.do(t, http.MethodPost, "/v1/classify", ct, body).classify(t); c.Results[0].Label != "green" {
		t.Fatalf("green: %+v", c.Results)
	}
	met := ts.do(t, http.MethodGet, "/metrics", "", nil)
	if !strings.Contains(string(met.body), "clip_prompt_cache_hits_total 2") || !strings.Contains(string(met.body), "clip_prompt_cache_misses_total 3") {
		t.Errorf("prompt cache hits:\n%s", grep(string(met.body), "clip_prompt"))
	}
}

func TestMetricsAndAccessLog(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{})
	ts.classifyColours(t).classify(t)
	ct, body := multipartBody(t, part{name: "image", filename: "bad.png", value: "x"}, part{name: "labels", value: "a"})
	ts.do(t, http.MethodPost, "/v1/classify", ct, body).classify(t)
	ts.do(t, http.MethodGet, "/nope", "", nil)
	r := ts.do(t, http.MethodGet, "/metrics", "", nil)
	text := string(r.body)
	for _, want := range []string{
		`clip_http_requests_total{code="200",route="/v1/classify"} 2`,
		`clip_http_requests_total{code="404",route="other"} 1`,
		`clip_http_request_duration_seconds_count{route="/v1/classify"} 2`,
		`clip_images_total{outcome="ok"} 1`,
		`clip_images_total{outcome="error"} 1`,
		`clip_batch_size_count 1`,
		`clip_queue_depth 0`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	var line map[string]any
	for _, l := range strings.Split(ts.logs.String(), "\n") {
		if strings.Contains(l, `"path":"/nope"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatalf("access log is not JSON: %v: %s", err, l)
			}
		}
	}
	if line["msg"] != "request" || line["status"] != float64(404) || line["method"] != "GET" || line["request_id"] == "" {
		t.Errorf("access log line: %v", line)
	}
}

func TestOpenAPIDocument(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{})
	r := ts.do(t, http.MethodGet, "/openapi.json", "", nil)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &doc) != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %d %.200s", r.status, r.body)
	}
	// Every route the server has is documented with its method, and no other.
	served := map[string]string{}
	for _, p := range []string{"/v1/classify", "/v1/embed", "/v1/search", "/v1/models", "/metrics", "/healthz", "/readyz", "/openapi.json", "/",
		"/vectorize", "/meta", "/.well-known/live", "/.well-known/ready"} {
		resp := ts.do(t, http.MethodDelete, p, "", nil)
		served[p] = strings.ToLower(resp.header.Get("Allow"))
	}
	for p, method := range served {
		if _, ok := doc.Paths[p][method]; !ok {
			t.Errorf("%s %s is not documented", method, p)
		}
	}
	for p := range doc.Paths {
		if _, ok := served[p]; !ok {
			t.Errorf("documented path %s is not served", p)
		}
	}
	// Every $ref points at a component that exists.
	var all map[string]any
	_ = json.Unmarshal(r.body, &all)
	for _, ref := range refs(all) {
		node := any(all)
		for _, k := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := node.(map[string]any)
			node = m[k]
		}
		if node == nil {
			t.Errorf("dangling $ref %s", ref)
		}
	}
}

func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && k == "$ref" {
				out = append(out, s)
			}
			out = append(out, refs(c)...)
		}
	case []any:
		for _, c := range x {
			out = append(out, refs(c)...)
		}
	}
	return out
}

func grep(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestClientDisconnectsMidUpload sends half a body and hangs up; the
// server must release what the request held and keep serving.
func TestClientDisconnectsMidUpload(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{})
	ct, body := multipartBody(t, part{name: "labels", value: "red"},
		part{name: "image", filename: "big.png", value: strings.Repeat("x", 200<<10)})
	conn, err := net.Dial("tcp", ts.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /v1/classify HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, len(body))
	_, _ = conn.Write(body[:len(body)/3])
	waitFor(t, func() bool { return ts.uploads.used.Load() == 1 }, "the upload to be admitted")
	conn.Close()
	waitFor(t, func() bool { return ts.uploads.used.Load() == 0 }, "the aborted upload's slot to be released")
	ts.stillServes(t)
	waitFor(t, func() bool {
		return strings.Contains(ts.logs.String(), `"status":400`) || strings.Contains(ts.logs.String(), `"status":499`)
	}, "the aborted request in the access log")
}

// TestSlowClientHeaders sends a request line and never finishes the
// headers (slowloris): the connection is closed after ReadHeader.
func TestSlowClientHeaders(t *testing.T) {
	ts := newTestServer(t, Config{ReadHeader: 200 * time.Millisecond}, &fakeModel{})
	conn, err := net.Dial("tcp", ts.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/classify HTTP/1.1\r\nHost: test\r\n")
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("connection still open after %v: %v", time.Since(start), err)
	}
	if len(b) > 0 && !strings.Contains(string(b), "408") {
		t.Errorf("slow client got %q", b)
	}
	ts.stillServes(t)
}

// serveLoopback runs s.Serve on 127.0.0.1 as clip serve does; cancel
// starts the shutdown, served gets Serve's result.
func serveLoopback(t *testing.T, s *Server) (net.Listener, context.CancelFunc, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := s.HTTPServer("")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, srv, func() error { return srv.Serve(ln) }) }()
	return ln, cancel, served
}

// TestGracefulShutdown cancels the serving context while a request is in
// inference; the request still gets its answer and Serve returns cleanly.
func TestGracefulShutdown(t *testing.T) {
	m := &fakeModel{gate: make(chan struct{}), entered: make(chan struct{}, 4)}
	s := New(Config{ShutdownGrace: 5 * time.Second})
	s.SetModel(m, ModelInfo{ID: "fake"}, nil)
	ln, cancel, served := serveLoopback(t, s)
	ts := &testServer{Server: s, model: m, ts: &httptest.Server{URL: "http://" + ln.Addr().String()}}
	got := make(chan response, 1)
	go func() { got <- ts.classifyColours(t) }()
	<-m.entered
	cancel()
	waitFor(t, func() bool { return !s.Ready() }, "readiness to drop")
	// While the request drains, new connections are still answered: 503
	// on /readyz and the API (load balancers see "not ready", not a
	// refused connection), 200 on /healthz.
	if r := ts.do(t, http.MethodGet, "/readyz", "", nil); r.status != 503 || r.errorCode() != CodeShuttingDown {
		t.Fatalf("readyz during the drain: %d %s", r.status, r.body)
	}
	if r := ts.classifyColours(t); r.status != 503 || r.errorCode() != CodeShuttingDown {
		t.Fatalf("classify during the drain: %d %s", r.status, r.body)
	}
	if r := ts.do(t, http.MethodGet, "/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz during the drain: %d %s", r.status, r.body)
	}
	close(m.gate)
	if r := <-got; r.status != 200 {
		t.Fatalf("in-flight request during shutdown: %d %s", r.status, r.body)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after draining")
	}
}

// TestShutdownGraceExpires: a request still running when ShutdownGrace
// runs out (here an upload that stalls) is cut off, and Serve says so
// (clip serve exits 130, not 4).
func TestShutdownGraceExpires(t *testing.T) {
	s := New(Config{ShutdownGrace: 100 * time.Millisecond})
	s.SetModel(&fakeModel{}, ModelInfo{ID: "fake"}, nil)
	ln, cancel, served := serveLoopback(t, s)
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/classify HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"labels\":")
	waitFor(t, func() bool { return s.inFlight.Load() == 1 }, "the upload to reach the handler")
	cancel()
	select {
	case err := <-served:
		if !errors.Is(err, ErrGraceExpired) || !strings.Contains(err.Error(), "1 requests") {
			t.Fatalf("Serve after the grace ran out: %v, want ErrGraceExpired naming 1 request", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the grace ran out")
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(conn); strings.HasPrefix(string(b), "HTTP/1.1 200") {
		t.Errorf("the upload cut off by shutdown got %q", b)
	}
}

// TestConcurrentRequestsWithDifferentLabels: images of requests with
// different label sets share inference batches, and each request still
// gets its own labels' answer.
func TestConcurrentRequestsWithDifferentLabels(t *testing.T) {
	ts := newTestServer(t, Config{MaxBatch: 4, BatchWait: 20 * time.Millisecond}, &fakeModel{})
	cases := []struct {
		c      color.RGBA
		labels string
		want   string
	}{
		{red, "red,green", "red"}, {green, "blue,green", "green"}, {blue, "blue,red", "blue"},
		{red, "green,blue,red", "red"}, {green, "green", "green"}, {blue, "red,green,blue", "blue"},
	}
	var wg sync.WaitGroup
	for round := 0; round < 3; round++ {
		for i, tc := range cases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ct, body := multipartBody(t, part{name: "image", filename: fmt.Sprint(i, ".png"), value: string(solidPNG(tc.c, 2, 2))},
					part{name: "labels", value: tc.labels})
				r := ts.do(t, http.MethodPost, "/v1/classify", ct, body)
				var c ClassifyResponse
				if r.status != 200 || json.Unmarshal(r.body, &c) != nil || c.Results[0].Label != tc.want {
					t.Errorf("case %d: %d %s, want %s", i, r.status, r.body, tc.want)
				}
			}()
		}
	}
	wg.Wait()
	if b, _ := ts.model.stats(); len(b) >= 18 {
		t.Errorf("18 concurrent images ran in %d batches: no batching across requests", len(b))
	}
	ts.stillServes(t)
}

// TestManyNewPromptsAreChunked: a request with many new texts is encoded
// in chunks (so image batches can run between them), all correct.
func TestManyNewPromptsAreChunked(t *testing.T) {
	ts := newTestServer(t, Config{MaxLabels: 500}, &fakeModel{})
	texts := make([]string, 200)
	for i := range texts {
		texts[i] = fmt.Sprintf("red thing number %d", i)
	}
	r := ts.postJSON(t, "/v1/embed", map[string]any{"texts": texts})
	var e EmbedResponse
	if r.status != 200 || json.Unmarshal(r.body, &e) != nil || len(e.Results) != 200 {
		t.Fatalf("embed 200 texts: %d %.300s", r.status, r.body)
	}
	for i, rec := range e.Results {
		if *rec.Text != texts[i] || rec.Embedding[0] != 1 {
			t.Fatalf("text %d: %+v", i, rec)
		}
	}
	ts.model.mu.Lock()
	calls := ts.model.textCalls
	ts.model.mu.Unlock()
	if calls != (200+promptChunk-1)/promptChunk {
		t.Errorf("%d text encoder calls for 200 prompts, want %d chunks of %d", calls, (200+promptChunk-1)/promptChunk, promptChunk)
	}
}

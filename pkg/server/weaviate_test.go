package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clip-go/clip/pkg/index"
)

// The structs below are written from Weaviate's multi2vec-clip client
// (weaviate/weaviate v1.35.2, modules/multi2vec-clip/clients/vectorizer.go):
// the request it marshals and the one shape it decodes every answer into.
type weaviateVecRequest struct {
	Texts  []string `json:"texts,omitempty"`
	Images []string `json:"images,omitempty"`
}

type weaviateVecResponse struct {
	TextVectors  [][]float32 `json:"textVectors"`
	ImageVectors [][]float32 `json:"imageVectors"`
	Error        string      `json:"error"`
}

// weaviateCall does what that client does: POST origin+"/vectorize" with
// Content-Type application/json through a plain http.Client, decode the
// body whatever the status, fail above 399 with the error string.
func weaviateCall(t *testing.T, origin string, req weaviateVecRequest) (int, weaviateVecResponse, []byte) {
	t.Helper()
	body, _ := json.Marshal(req)
	r, err := http.NewRequest(http.MethodPost, origin+"/vectorize", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out weaviateVecResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("Weaviate could not decode the answer (status %d): %v: %s", resp.StatusCode, err, raw)
	}
	return resp.StatusCode, out, raw
}

func TestWeaviateVectorize(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{})
	status, got, raw := weaviateCall(t, ts.ts.URL, weaviateVecRequest{
		Texts:  []string{"red", "blue"},
		Images: []string{base64.StdEncoding.EncodeToString(solidPNG(green, 3, 3)), base64.StdEncoding.EncodeToString(solidPNG(red, 2, 2))},
	})
	// The fake embeds a text as the colour it names, an image as its colour.
	want := weaviateVecResponse{TextVectors: [][]float32{{1, 0, 0}, {0, 0, 1}}, ImageVectors: [][]float32{{0, 1, 0}, {1, 0, 0}}}
	if status != 200 || !sameVectors(got.TextVectors, want.TextVectors) || !sameVectors(got.ImageVectors, want.ImageVectors) || got.Error != "" {
		t.Fatalf("/vectorize: %d %s", status, raw)
	}
	// Only texts (images omitted, as Weaviate's omitempty does): empty
	// arrays, not null, like the reference container's lists.
	status, _, raw = weaviateCall(t, ts.ts.URL, weaviateVecRequest{Texts: []string{"green"}})
	if status != 200 || !bytes.Contains(raw, []byte(`"imageVectors":[]`)) {
		t.Errorf("texts only: %d %s", status, raw)
	}
	// A bad image fails the request, with Weaviate's error string.
	status, got, _ = weaviateCall(t, ts.ts.URL, weaviateVecRequest{Images: []string{base64.StdEncoding.EncodeToString(solidPNG(red, 2, 2)), "bm90IGFuIGltYWdl"}})
	if status != 400 || !strings.HasPrefix(got.Error, "images[1]: ") {
		t.Errorf("bad image: %d %q, want 400 with images[1]: …", status, got.Error)
	}
	// Fields of the other endpoints are refused rather than ignored.
	r := ts.postJSON(t, "/vectorize", map[string]any{"texts": []string{"red"}, "labels": []string{"x"}})
	if r.status != 400 || !strings.Contains(string(r.body), `"error":"/vectorize takes`) {
		t.Errorf("labels on /vectorize: %d %s", r.status, r.body)
	}
	// Clients before Content-Type was set (2023) still work.
	r = ts.do(t, http.MethodPost, "/vectorize", "", []byte(`{"texts":["blue"]}`))
	if r.status != 200 {
		t.Errorf("no Content-Type: %d %s", r.status, r.body)
	}
}

func sameVectors(a, b [][]float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if d := a[i][j] - b[i][j]; d > 1e-6 || d < -1e-6 {
				return false
			}
		}
	}
	return true
}

// TestWeaviateProbesAndMeta: live is 204 at once, ready 503 until the
// model is loaded and 204 after, /meta names the model; errors are the
// {"error":"message"} Weaviate reads.
func TestWeaviateProbesAndMeta(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	if r := ts.do(t, http.MethodGet, "/.well-known/live", "", nil); r.status != 204 {
		t.Errorf("live while loading: %d", r.status)
	}
	for _, p := range []string{"/.well-known/ready", "/meta"} {
		r := ts.do(t, http.MethodGet, p, "", nil)
		var e struct{ Error string }
		if r.status != 503 || json.Unmarshal(r.body, &e) != nil || !strings.Contains(e.Error, "loading") {
			t.Errorf("%s while loading: %d %s", p, r.status, r.body)
		}
	}
	status, got, _ := weaviateCall(t, ts.ts.URL, weaviateVecRequest{Texts: []string{"red"}})
	if status != 503 || got.Error == "" {
		t.Errorf("/vectorize while loading: %d %+v", status, got)
	}
	ts.SetModel(&fakeModel{}, ModelInfo{ID: "fake/model"}, nil)
	if r := ts.do(t, http.MethodGet, "/.well-known/ready", "", nil); r.status != 204 || len(r.body) != 0 {
		t.Errorf("ready: %d %q", r.status, r.body)
	}
	r := ts.do(t, http.MethodGet, "/meta", "", nil)
	var meta map[string]any // what Weaviate's meta client decodes into
	if r.status != 200 || json.Unmarshal(r.body, &meta) != nil || !strings.Contains(string(r.body), `"id":"fake/model"`) {
		t.Errorf("/meta: %d %s", r.status, r.body)
	}
}

// TestWeaviateBasicAuth: with a token, Weaviate authenticates through the
// user info of CLIP_INFERENCE_API, which Go's HTTP client (Weaviate's)
// sends as Basic authentication; a wrong or missing one is 401 in
// Weaviate's error shape; the probes stay open like /healthz.
func TestWeaviateBasicAuth(t *testing.T) {
	ts := newTestServer(t, Config{Token: "s3cret/+"}, &fakeModel{})
	u, _ := url.Parse(ts.ts.URL)
	u.User = url.UserPassword("weaviate", "s3cret/+")
	status, got, raw := weaviateCall(t, u.String(), weaviateVecRequest{Texts: []string{"red"}})
	if status != 200 || len(got.TextVectors) != 1 {
		t.Errorf("token in CLIP_INFERENCE_API's user info: %d %s", status, raw)
	}
	u.User = url.UserPassword("weaviate", "wrong")
	for _, origin := range []string{u.String(), ts.ts.URL} {
		status, got, _ := weaviateCall(t, origin, weaviateVecRequest{Texts: []string{"red"}})
		if status != 401 || !strings.Contains(got.Error, "token") {
			t.Errorf("%s: %d %+v, want 401", origin, status, got)
		}
	}
	// The same Basic credentials work on the API, and the bearer token on /vectorize.
	r := ts.postJSON(t, "/v1/embed", map[string]any{"texts": []string{"red"}}, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("any:s3cret/+")))
	if r.status != 200 {
		t.Errorf("/v1/embed with Basic: %d %s", r.status, r.body)
	}
	r = ts.postJSON(t, "/vectorize", map[string]any{"texts": []string{"red"}}, "Authorization", "Bearer s3cret/+")
	if r.status != 200 {
		t.Errorf("/vectorize with Bearer: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/.well-known/live", "/.well-known/ready"} {
		if r := ts.do(t, http.MethodGet, p, "", nil); r.status != 204 {
			t.Errorf("%s without credentials: %d", p, r.status)
		}
	}
}

// TestSearchFake: /v1/search on a hand-made index and the fake model
// (embeddings are colours): text and example queries rank by colour,
// prefix and threshold filter, k bounds, multipart works.
func TestSearchFake(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{})
	vecs := &index.Vectors{Dim: 3}
	vecs.Append("/photos/red.png", unit([]float32{1, 0.1, 0}))
	vecs.Append("/photos/sub/green.png", unit([]float32{0, 1, 0.1}))
	vecs.Append("/photos-old/red2.png", unit([]float32{1, 0, 0.2}))
	vecs.Append("/other/blue.png", unit([]float32{0.1, 0, 1}))
	ts.SetIndex("fake.sqlite", vecs)
	search := func(req map[string]any) (int, SearchResponse, []byte) {
		r := ts.postJSON(t, "/v1/search", req)
		var s SearchResponse
		if r.status == 200 {
			if err := json.Unmarshal(r.body, &s); err != nil {
				t.Fatal(err)
			}
		}
		return r.status, s, r.body
	}
	files := func(s SearchResponse) string {
		var out []string
		for _, r := range s.Results {
			out = append(out, r.File)
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		req  map[string]any
		want string
	}{
		{map[string]any{"text": "red", "k": 2}, "/photos/red.png /photos-old/red2.png"},
		{map[string]any{"text": "red", "prefix": "/photos"}, "/photos/red.png /photos/sub/green.png"},
		{map[string]any{"text": "red", "prefix": "/photos/"}, "/photos/red.png /photos/sub/green.png"},
		{map[string]any{"text": "blue", "threshold": 0.5}, "/other/blue.png"},
		{map[string]any{"image": map[string]string{"base64": base64.StdEncoding.EncodeToString(solidPNG(green, 2, 2))}, "top_k": 1}, "/photos/sub/green.png"},
	} {
		status, s, raw := search(c.req)
		if status != 200 || files(s) != c.want || s.Images != 4 || s.Index != "fake.sqlite" {
			t.Errorf("%v: %d %s; want %s", c.req, status, raw, c.want)
		}
	}
	// The blue picture as example: itself first, score ≈ 1 (float16 storage).
	_, s, _ := search(map[string]any{"image": base64.StdEncoding.EncodeToString(solidPNG(blue, 2, 2)), "k": 1})
	if len(s.Results) != 1 || s.Results[0].File != "/other/blue.png" || s.Results[0].Score < 0.99 {
		t.Errorf("blue example: %+v", s.Results)
	}
	ct, body := multipartBody(t, part{name: "text", value: "green"}, part{name: "k", value: "1"}, part{name: "prefix", value: "/photos"})
	if r := ts.do(t, http.MethodPost, "/v1/search", ct, body); r.status != 200 || !strings.Contains(string(r.body), `"file":"/photos/sub/green.png"`) {
		t.Errorf("multipart search: %d %s", r.status, r.body)
	}
	// prefix belongs to /v1/search only.
	if r := ts.postJSON(t, "/v1/embed", map[string]any{"texts": []string{"red"}, "prefix": "/x"}); r.status != 400 {
		t.Errorf("/v1/embed with prefix: %d %s", r.status, r.body)
	}
}

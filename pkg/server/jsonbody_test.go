package server

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/color"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// TestJSONBase64Forms: the streaming decoder takes what the old
// whole-string decoder took (standard or URL-safe alphabet, padded or
// not, a data: URL prefix, white space) and JSON escapes inside the string
// (a "\/" is what many JSON encoders write for '/').
func TestJSONBase64Forms(t *testing.T) {
	ts := newTestServer(t, Config{}, &fakeModel{})
	// A 5×3 PNG whose standard base64 has both '+' or '/' and padding.
	var png []byte
	var std string
	for w := 1; ; w++ {
		png = solidPNG(color.RGBA{200, 10, 20, 255}, w, 3)
		std = base64.StdEncoding.EncodeToString(png)
		if strings.ContainsAny(std, "+/") && strings.HasSuffix(std, "=") {
			break
		}
	}
	escaped := strings.NewReplacer("/", `\/`, "+", `\u002b`).Replace(std)
	wrapped := std[:10] + `\n` + std[10:20] + `\r\n ` + std[20:]
	forms := map[string]string{
		"std":      std,
		"raw":      strings.TrimRight(std, "="),
		"url-safe": base64.URLEncoding.EncodeToString(png),
		"data-url": "data:image/png;base64," + std,
		"escaped":  escaped,
		"wrapped":  wrapped,
		"spaces":   "  " + std + " ",
	}
	var images []string
	var names []string
	for name, b64 := range forms {
		images = append(images, fmt.Sprintf(`{"name":%q,"base64":"%s"}`, name, b64))
		names = append(names, name)
	}
	bad := map[string]string{"bad-char": "iVBOR*w0K", "after-padding": std + "QUJD", "bad-data-url": "data:image/png;base64"}
	for name, b64 := range bad {
		images = append(images, fmt.Sprintf(`{"name":%q,"base64":"%s"}`, name, b64))
		names = append(names, name)
	}
	body := `{"images":[` + strings.Join(images, ",") + `],"labels":["red","blue"]}`
	c := ts.do(t, http.MethodPost, "/v1/classify", "application/json", []byte(body)).classify(t)
	if len(c.Results) != len(names) {
		t.Fatalf("%d results for %d images", len(c.Results), len(names))
	}
	for i, r := range c.Results {
		if r.File != names[i] {
			t.Errorf("result %d is %q, want %q (request order)", i, r.File, names[i])
		}
		if _, isBad := bad[names[i]]; isBad {
			if r.Error == "" || !strings.Contains(r.Error, "base64") {
				t.Errorf("%s: %+v, want an invalid base64 error record", names[i], r)
			}
		} else if r.Error != "" || r.Label != "red" {
			t.Errorf("%s: %+v, want red", names[i], r)
		}
	}
	for _, tc := range []struct{ name, body, want string }{
		{"unterminated base64", `{"images":[{"base64":"iVBOR`, "malformed JSON"},
		{"bad escape", `{"images":[{"base64":"iVB\qOR"}],"labels":["a"]}`, "escape"},
		{"control character", "{\"images\":[{\"base64\":\"iVB\x01OR\"}],\"labels\":[\"a\"]}", "control"},
		{"number for base64", `{"images":[{"base64":12}],"labels":["a"]}`, "base64"},
		{"url and base64", `{"images":[{"url":"http://x/a.png","base64":"iVBOR"}],"labels":["a"]}`, "not both"},
		{"unknown image field", `{"images":[{"bas64":"iVBOR"}],"labels":["a"]}`, "unknown field"},
		{"images not an array", `{"images":{"base64":"iVBOR"},"labels":["a"]}`, "images"},
	} {
		r := ts.do(t, http.MethodPost, "/v1/classify", "application/json", []byte(tc.body))
		if r.status != 400 || r.errorCode() != CodeBadRequest || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s: %d %s, want 400 mentioning %q", tc.name, r.status, r.body, tc.want)
		}
	}
	// null images and null base64 are "none given".
	if r := ts.do(t, http.MethodPost, "/v1/classify", "application/json", []byte(`{"images":null,"labels":["a"]}`)); r.status != 400 || !strings.Contains(string(r.body), "no images") {
		t.Errorf("null images: %d %s", r.status, r.body)
	}
	ts.stillServes(t)
}

// TestTooManyJSONImagesStopEarly: the image count limit is applied while
// the body streams in, before the images past it are read.
func TestTooManyJSONImagesStopEarly(t *testing.T) {
	ts := newTestServer(t, Config{MaxImages: 2, Queue: 8}, &fakeModel{})
	img := `{"base64":"` + base64.StdEncoding.EncodeToString(solidPNG(red, 1, 1)) + `"}`
	body := `{"images":[` + img + `,` + img + `,` + img + `,{"base64":"not even read`
	r := ts.do(t, http.MethodPost, "/v1/classify", "application/json", []byte(body))
	if r.status != 413 || r.errorCode() != CodeTooManyImages {
		t.Fatalf("3 images over 2, body truncated after: %d %s", r.status, r.body)
	}
}

// TestJSONBodyAllocations: a JSON request allocates about its decoded
// image once, not several copies of the body (the whole-value decoder
// held the body, its base64 string and the decoded bytes: about 3.7 times
// the body). The image is not a valid image, so decoding stops at its
// header and what is counted is the request parsing.
func TestJSONBodyAllocations(t *testing.T) {
	ts := newTestServer(t, Config{MaxBody: 32 << 20}, &fakeModel{})
	raw := make([]byte, 6<<20)
	for i := range raw {
		raw[i] = byte(i*7 + i>>11)
	}
	body := []byte(`{"images":[{"base64":"` + base64.StdEncoding.EncodeToString(raw) + `","name":"x"}],"labels":["red"]}`)
	req := httptest.NewRequest(http.MethodPost, "/v1/classify", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ts.Handler().ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Fatalf("%d %.300s", rec.Code, rec.Body.String())
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte body (%d-byte image) allocated %d bytes (%.2f× the image)", len(body), len(raw), alloc, float64(alloc)/float64(len(raw)))
	if limit := uint64(len(raw))*3/2 + 1<<20; alloc > limit {
		t.Errorf("a %d-byte body (%d-byte image) allocated %d bytes, over %d", len(body), len(raw), alloc, limit)
	}
}

package server

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// The page at / is HTML with a strict CSP that allows exactly its own
// inline script and style (by hash) and requests to this origin only, and
// it needs no token while the API does.
func TestPageAtRootWithStrictCSP(t *testing.T) {
	ts := newTestServer(t, Config{Token: "s3cret"}, &fakeModel{})
	r := ts.do(t, http.MethodGet, "/", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", r.status, r.header.Get("Content-Type"))
	}
	csp := r.header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "connect-src 'self'", "img-src blob:", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "*") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q is not strict", csp)
	}
	page := string(r.body)
	for _, tag := range []string{"script", "style"} {
		m := regexp.MustCompile(`(?s)<`+tag+`>(.*?)</`+tag+`>`).FindAllStringSubmatch(page, -1)
		if len(m) != 1 {
			t.Fatalf("%d inline <%s> elements, want 1", len(m), tag)
		}
		sum := sha256.Sum256([]byte(m[0][1]))
		if want := tag + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
			t.Errorf("CSP does not allow the page's own %s (%s)", tag, want)
		}
	}
	// Nothing is loaded from elsewhere: no src/href to another origin.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).FindString(page); m != "" {
		t.Errorf("the page refers to another origin: %q", m)
	}
	for _, id := range []string{"files", "urls", "labels", "templates", "token"} {
		if !strings.Contains(page, `<label for="`+id+`"`) {
			t.Errorf("input %s has no label", id)
		}
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
	if r := ts.do(t, http.MethodHead, "/", "", nil); r.status != 200 || len(r.body) != 0 {
		t.Errorf("HEAD /: %d, %d bytes", r.status, len(r.body))
	}
	if r := ts.do(t, http.MethodPost, "/", "", nil); r.status != 405 {
		t.Errorf("POST /: %d", r.status)
	}
	if r := ts.do(t, http.MethodGet, "/index.html", "", nil); r.status != 404 {
		t.Errorf("GET /index.html: %d, want 404", r.status)
	}
	if r := ts.do(t, http.MethodGet, "/v1/models", "", nil); r.status != 401 {
		t.Errorf("GET /v1/models without the token: %d", r.status)
	}
}

// Package web is the page `clip serve` answers at /: a form to try the
// classifier in a browser. It is one embedded HTML file with its style and
// script inline; the script calls the server's own /v1/classify and nothing
// else, which the page's Content-Security-Policy enforces.
package web

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

//go:embed index.html
var indexHTML string

//go:embed page.js
var pageJS string

//go:embed page.css
var pageCSS string

// page is index.html with the style and script put in; csp allows those
// two by hash and connections to the page's own origin only.
var page, csp = build()

func build() ([]byte, string) {
	html := strings.Replace(indexHTML, "<style></style>", "<style>"+pageCSS+"</style>", 1)
	html = strings.Replace(html, "<script></script>", "<script>"+pageJS+"</script>", 1)
	return []byte(html), "default-src 'none'; script-src " + hash(pageJS) + "; style-src " + hash(pageCSS) +
		"; img-src blob:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// ContentSecurityPolicy is the policy the page is served with.
func ContentSecurityPolicy() string { return csp }

// ServePage writes the page (GET or HEAD).
func ServePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		h.Set("Content-Length", strconv.Itoa(len(page)))
		w.WriteHeader(http.StatusOK)
		return
	}
	_, _ = w.Write(page)
}

// Package hubtest runs a loopback HTTP server that answers like the
// Hugging Face hub (resolve URLs, CDN redirects, HEAD metadata headers,
// Range, the model listing API) and can inject faults, so the model store
// can be tested without the internet.
package hubtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Repo is one repository the fake hub serves.
type Repo struct {
	ID     string            // owner/name
	Commit string            // 40-hex commit the branch "main" points at
	Files  map[string][]byte // path → content
	// LFS reports whether a file is stored in LFS (redirected to the CDN
	// with X-Linked-Etag); default: files ending in .onnx.
	LFS func(path string) bool
	// Gated repos answer 401 unless the request carries the server's Token.
	Gated bool
	// ExtraListing adds names to the listing API's siblings only (to test
	// that unsafe names are refused).
	ExtraListing []string
	// RenamedFrom is an old id; requests for it get a relative 307 to this
	// repo, as the hub answers for renamed repositories.
	RenamedFrom string
	// Branches are further revision names serving what "main" serves.
	Branches []string
}

// Request is one request the server saw.
type Request struct {
	Method        string
	Host          string
	Path          string // escaped path
	Range         string
	IfRange       string
	Authorization string
	Kind          string // "resolve", "cdn", "api" or "other"
	File          string // repo file path for resolve/cdn requests
	Status        int
	BodyBytes     int64     // body bytes written
	Time          time.Time // when the request arrived
}

// Fault sees every resolve, CDN and API request before the server does.
// It either answers the request itself (handled true), or returns the
// writer the server should answer through (w itself, or a wrapper that
// corrupts or cuts the body). kind and file are as in Request.
type Fault func(w http.ResponseWriter, r *http.Request, kind, file string) (out http.ResponseWriter, handled bool)

// Server is the fake hub.
type Server struct {
	Hub *httptest.Server
	CDN *httptest.Server // where LFS files are redirected; == Hub unless separate
	// Token, when set, is what gated repos require as a bearer token.
	Token string

	mu       sync.Mutex
	repos    map[string]*Repo
	requests []Request
	faults   []Fault
	blobs    map[string][]byte // sha256 → content, for the CDN
	blobFile map[string]string // sha256 → repo file path, for the log
	// active counts handlers that have not logged their request yet.
	active atomic.Int64
}

// New starts a server; with separateCDN the LFS redirects go to a second
// listener (another host:port), like the real hub's CDN.
func New(separateCDN bool, repos ...*Repo) *Server {
	s := &Server{repos: map[string]*Repo{}, blobs: map[string][]byte{}, blobFile: map[string]string{}}
	s.Hub = httptest.NewServer(http.HandlerFunc(s.serveHub))
	s.CDN = s.Hub
	if separateCDN {
		s.CDN = httptest.NewServer(http.HandlerFunc(s.serveCDNOnly))
	}
	for _, r := range repos {
		s.AddRepo(r)
	}
	return s
}

// Close stops the listeners.
func (s *Server) Close() {
	s.Hub.Close()
	if s.CDN != s.Hub {
		s.CDN.Close()
	}
}

// URL is the hub endpoint (for HF_ENDPOINT).
func (s *Server) URL() string { return s.Hub.URL }

// AddRepo serves r (replacing a repo with the same id).
func (s *Server) AddRepo(r *Repo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.LFS == nil {
		r.LFS = func(p string) bool { return strings.HasSuffix(p, ".onnx") }
	}
	s.repos[r.ID] = r
	for p, b := range r.Files {
		sum := SHA256(b)
		s.blobs[sum] = b
		s.blobFile[sum] = p
	}
}

// SetFile replaces one file's content (e.g. to serve a corrupt blob under
// the old digest, use Fault instead).
func (s *Server) SetFile(repo, path string, content []byte) {
	s.mu.Lock()
	r := s.repos[repo]
	r.Files[path] = content
	s.mu.Unlock()
	s.AddRepo(r)
}

// AddFault installs f; faults run in the order added.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// Requests returns a copy of the request log. A request is logged when its
// handler returns, which can be after the client has seen the answer (a
// fault that hijacks and closes the connection, say), so it first waits a
// little for handlers still running: what the client saw is then logged.
func (s *Server) Requests() []Request {
	for i := 0; i < 200 && s.active.Load() > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetLog clears the request log.
func (s *Server) ResetLog() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

// Count returns how many logged requests match method and kind for file
// ("" matches any file).
func (s *Server) Count(method, kind, file string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Kind == kind && (file == "" || r.File == file) {
			n++
		}
	}
	return n
}

// SHA256 is the hex sha256 of b.
func SHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// GitBlobSHA1 is git's object id of a blob with content b.
func GitBlobSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// recorder logs the status and body size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	n      int64
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }

// Unwrap lets http.ResponseController reach the connection (Malformed).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	n, err := r.ResponseWriter.Write(b)
	r.n += int64(n)
	return n, err
}
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) log(r *http.Request, rec *recorder, kind, file string, arrived time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Time: arrived,
		Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), Range: r.Header.Get("Range"),
		IfRange: r.Header.Get("If-Range"), Authorization: r.Header.Get("Authorization"),
		Kind: kind, File: file, Status: rec.status, BodyBytes: rec.n,
	})
}

func (s *Server) runFaults(w http.ResponseWriter, r *http.Request, kind, file string) (http.ResponseWriter, bool) {
	s.mu.Lock()
	faults := append([]Fault(nil), s.faults...)
	s.mu.Unlock()
	for _, f := range faults {
		var handled bool
		if w, handled = f(w, r, kind, file); handled {
			return w, true
		}
	}
	return w, false
}

func (s *Server) serveCDNOnly(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	kind, file, arrived := "other", "", time.Now()
	s.active.Add(1)
	defer func() { s.log(r, rec, kind, file, arrived); s.active.Add(-1) }()
	if strings.HasPrefix(r.URL.Path, "/cdn/") {
		kind = "cdn"
		file = s.blobName(strings.TrimPrefix(r.URL.Path, "/cdn/"))
		s.serveBlob(rec, r, file)
		return
	}
	http.NotFound(rec, r)
}

func (s *Server) blobName(sum string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blobFile[sum]
}

func (s *Server) serveHub(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	kind, file, arrived := "other", "", time.Now()
	s.active.Add(1)
	defer func() { s.log(r, rec, kind, file, arrived); s.active.Add(-1) }()
	p := r.URL.EscapedPath()
	switch {
	case strings.HasPrefix(p, "/cdn/"):
		kind = "cdn"
		file = s.blobName(strings.TrimPrefix(p, "/cdn/"))
		s.serveBlob(rec, r, file)
	case strings.HasPrefix(p, "/api/models/"):
		kind = "api"
		out, handled := s.runFaults(rec, r, kind, "")
		if handled {
			return
		}
		s.serveAPI(out, r, strings.TrimPrefix(p, "/api/models/"))
	default:
		parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 5)
		if len(parts) < 5 || parts[2] != "resolve" {
			http.NotFound(rec, r)
			return
		}
		kind = "resolve"
		if to := s.renamed(parts[0] + "/" + parts[1]); to != "" {
			http.Redirect(rec, r, "/"+to+"/resolve/"+parts[3]+"/"+parts[4], http.StatusTemporaryRedirect)
			return
		}
		rev, _ := url.PathUnescape(parts[3])
		file, _ = url.PathUnescape(parts[4])
		out, handled := s.runFaults(rec, r, kind, file)
		if handled {
			return
		}
		s.serveResolve(out, r, parts[0]+"/"+parts[1], rev, file)
	}
}

// renamed returns the current id of a renamed repository, or "".
func (s *Server) renamed(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.repos[id]; ok {
		return ""
	}
	for _, r := range s.repos {
		if r.RenamedFrom != "" && r.RenamedFrom == id {
			return r.ID
		}
	}
	return ""
}

func hubError(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("X-Error-Code", code)
	}
	w.Header().Set("X-Error-Message", msg)
	http.Error(w, msg, status)
}

// lookup finds a repo and checks access; it answers the error itself.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, id, rev string) (*Repo, bool) {
	s.mu.Lock()
	repo := s.repos[id]
	token := s.Token
	s.mu.Unlock()
	if repo == nil {
		hubError(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
		return nil, false
	}
	if repo.Gated && r.Header.Get("Authorization") != "Bearer "+token {
		hubError(w, http.StatusUnauthorized, "GatedRepo", "Access to this model is restricted")
		return nil, false
	}
	if rev != "main" && rev != repo.Commit && !slices.Contains(repo.Branches, rev) {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return nil, false
	}
	return repo, true
}

func (s *Server) serveResolve(w http.ResponseWriter, r *http.Request, id, rev, file string) {
	repo, ok := s.lookup(w, r, id, rev)
	if !ok {
		return
	}
	s.mu.Lock()
	content, has := repo.Files[file]
	lfs := repo.LFS(file)
	s.mu.Unlock()
	if !has {
		hubError(w, http.StatusNotFound, "EntryNotFound", file+" does not exist on \""+rev+"\"")
		return
	}
	h := w.Header()
	h.Set("X-Repo-Commit", repo.Commit)
	if lfs {
		sum := SHA256(content)
		h.Set("X-Linked-Etag", `"`+sum+`"`)
		h.Set("X-Linked-Size", strconv.Itoa(len(content)))
		h.Set("ETag", `"`+GitBlobSHA1([]byte("lfs pointer "+sum))+`"`)
		// A signed-looking CDN URL, absolute, like the hub's.
		h.Set("Location", s.CDN.URL+"/cdn/"+sum+"?X-Amz-Signature=test")
		w.WriteHeader(http.StatusFound)
		return
	}
	h.Set("ETag", `"`+GitBlobSHA1(content)+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
}

// serveBlob serves a CDN object with Range and If-Range support.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, file string) {
	w, handled := s.runFaults(w, r, "cdn", file)
	if handled {
		return
	}
	sum := strings.TrimPrefix(r.URL.Path, "/cdn/")
	s.mu.Lock()
	content, ok := s.blobs[sum]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", `"`+sum+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rest string) {
	// {owner}/{name}/revision/{rev} or {owner}/{name}/tree/{rev}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) != 4 || (parts[2] != "revision" && parts[2] != "tree") {
		http.NotFound(w, r)
		return
	}
	if to := s.renamed(parts[0] + "/" + parts[1]); to != "" {
		http.Redirect(w, r, "/api/models/"+to+"/"+parts[2]+"/"+parts[3], http.StatusTemporaryRedirect)
		return
	}
	rev, _ := url.PathUnescape(parts[3])
	repo, ok := s.lookup(w, r, parts[0]+"/"+parts[1], rev)
	if !ok {
		return
	}
	s.mu.Lock()
	var names []string
	for p := range repo.Files {
		names = append(names, p)
	}
	names = append(names, repo.ExtraListing...)
	s.mu.Unlock()
	sort.Strings(names)
	w.Header().Set("Content-Type", "application/json")
	if parts[2] == "tree" {
		type entry struct {
			Type string `json:"type"`
			Path string `json:"path"`
		}
		var out []entry
		for _, n := range names {
			out = append(out, entry{Type: "file", Path: n})
		}
		json.NewEncoder(w).Encode(out)
		return
	}
	type sibling struct {
		RFilename string `json:"rfilename"`
	}
	info := struct {
		ID       string    `json:"id"`
		SHA      string    `json:"sha"`
		Siblings []sibling `json:"siblings"`
	}{ID: repo.ID, SHA: repo.Commit}
	for _, n := range names {
		info.Siblings = append(info.Siblings, sibling{n})
	}
	json.NewEncoder(w).Encode(info)
}

// CutCDN makes the first `times` CDN downloads of file stop after n body
// bytes by dropping the connection (the client sees an unexpected EOF).
func CutCDN(file string, n int64, times int) Fault {
	left := counter(times)
	return func(w http.ResponseWriter, r *http.Request, kind, f string) (http.ResponseWriter, bool) {
		if kind != "cdn" || f != file || r.Method != http.MethodGet || !left() {
			return w, false
		}
		return &cutWriter{ResponseWriter: w, left: n}, false
	}
}

// Corrupt flips one byte of file's body on the first `times` GETs of kind
// ("cdn" for LFS files, "resolve" for small ones; times < 0: always),
// keeping headers and length.
func Corrupt(kind, file string, times int) Fault {
	left := counter(times)
	return func(w http.ResponseWriter, r *http.Request, k, f string) (http.ResponseWriter, bool) {
		if k != kind || f != file || r.Method != http.MethodGet || !left() {
			return w, false
		}
		return &flipWriter{ResponseWriter: w}, false
	}
}

// Status answers the first `times` requests of kind for file ("" any file)
// with status (times < 0: always).
func Status(kind, file string, status, times int) Fault {
	left := counter(times)
	return func(w http.ResponseWriter, r *http.Request, k, f string) (http.ResponseWriter, bool) {
		if k != kind || (file != "" && f != file) || !left() {
			return w, false
		}
		http.Error(w, http.StatusText(status), status)
		return w, true
	}
}

// Delay holds the first `times` requests of kind for file ("" any file)
// for d before they are answered (times < 0: always).
func Delay(kind, file string, d time.Duration, times int) Fault {
	left := counter(times)
	return func(w http.ResponseWriter, r *http.Request, k, f string) (http.ResponseWriter, bool) {
		if k != kind || (file != "" && f != file) || !left() {
			return w, false
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
		return w, false
	}
}

// Header rewrites the headers of every answer to method requests of kind
// for file: set replaces values ("" deletes the header).
func Header(method, kind, file string, set map[string]string) Fault {
	return func(w http.ResponseWriter, r *http.Request, k, f string) (http.ResponseWriter, bool) {
		if k != kind || f != file || r.Method != method {
			return w, false
		}
		return &headerWriter{ResponseWriter: w, set: set}, false
	}
}

// Endless answers every GET of kind for file with 200 and n zero bytes,
// without a Content-Length (as a hub that streams past the size it
// announced); the writes stop when the client hangs up.
func Endless(kind, file string, n int64) Fault {
	return func(w http.ResponseWriter, r *http.Request, k, f string) (http.ResponseWriter, bool) {
		if k != kind || f != file || r.Method != http.MethodGet {
			return w, false
		}
		w.WriteHeader(http.StatusOK)
		chunk := make([]byte, 64<<10)
		for sent := int64(0); sent < n; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		return w, true
	}
}

// Malformed answers every request of kind for file with a response whose
// header block is not HTTP, then closes the connection.
func Malformed(kind, file string) Fault {
	return func(w http.ResponseWriter, r *http.Request, k, f string) (http.ResponseWriter, bool) {
		if k != kind || f != file {
			return w, false
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return w, true
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nthis is not a header line\r\n\r\n")
		buf.Flush()
		conn.Close()
		return w, true
	}
}

type headerWriter struct {
	http.ResponseWriter
	set  map[string]string
	done bool
}

func (h *headerWriter) rewrite() {
	if h.done {
		return
	}
	h.done = true
	for k, v := range h.set {
		if v == "" {
			h.Header().Del(k)
		} else {
			h.Header().Set(k, v)
		}
	}
}

func (h *headerWriter) WriteHeader(code int) { h.rewrite(); h.ResponseWriter.WriteHeader(code) }
func (h *headerWriter) Write(b []byte) (int, error) {
	h.rewrite()
	return h.ResponseWriter.Write(b)
}

// counter returns a func that reports true for the first n calls (always
// when n < 0).
func counter(n int) func() bool {
	var mu sync.Mutex
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		if n < 0 {
			return true
		}
		if n == 0 {
			return false
		}
		n--
		return true
	}
}

// cutWriter forwards n body bytes, then aborts the connection.
type cutWriter struct {
	http.ResponseWriter
	left int64
}

func (c *cutWriter) Write(b []byte) (int, error) {
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.ResponseWriter.Write(b)
	c.left -= int64(n)
	if c.left <= 0 {
		if f, ok := c.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	return n, err
}

// flipWriter inverts the first body byte it forwards.
type flipWriter struct {
	http.ResponseWriter
	done bool
}

func (f *flipWriter) Write(b []byte) (int, error) {
	if !f.done && len(b) > 0 {
		c := append([]byte(nil), b...)
		c[0] ^= 0xff
		f.done = true
		return f.ResponseWriter.Write(c)
	}
	return f.ResponseWriter.Write(b)
}

// Package server is the HTTP service behind `clip serve`: zero-shot
// classification and embeddings over a JSON/multipart API, with images of
// concurrent requests micro-batched into one inference, prompt embeddings
// cached across requests, and limits (body size, labels, queue, time,
// URL fetching) that keep a public deployment safe. It serves the same
// per-image records (clip.Record) as `clip classify --format json`.
package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clip-go/clip/pkg/clip"
)

// Config holds the server's limits and options; zero fields get the
// defaults documented on each.
type Config struct {
	MaxBatch      int           // images per inference batch (8)
	BatchWait     time.Duration // how long a batch waits for more images after its first (5ms)
	Queue         int           // images admitted at once, decoding, queued or in inference (64); beyond: 429
	Uploads       int           // request bodies being received at once (2×Queue); beyond: 429
	MinUploadRate int64         // bytes/s a body must average after UploadGrace (16 KiB/s; <0: none); slower: 408
	UploadGrace   time.Duration // time a body may take before MinUploadRate applies (5s)
	MaxImages     int           // images per request (Queue, at most); beyond: 413
	Decoders      int           // images decoded at once (GOMAXPROCS)
	DecodeMemory  int64         // estimated bytes of the images being decoded at once (1 GiB); more wait
	MaxBody       int64         // request body bytes (20 MB); beyond: 413
	MaxLabels     int           // labels (or texts) per request (1000)
	MaxTemplates  int           // templates per request (100)
	Timeout       time.Duration // per request, from its headers to its response (30s); beyond: 504
	Token         string        // bearer token required on /v1/* and /metrics; "" means none
	AllowPrivate  bool          // fetch image URLs that resolve to internal addresses
	URLTimeout    time.Duration // per URL image download (10s, at most Timeout)
	PromptCache   int           // prompt embeddings kept in memory (50,000)
	ReadHeader    time.Duration // http.Server ReadHeaderTimeout (10s)
	Idle          time.Duration // http.Server IdleTimeout (120s)
	ShutdownGrace time.Duration // time to drain in-flight requests on shutdown (30s)
	Logger        *slog.Logger  // access and error logs (discarded when nil)
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxBatch, 8)
	def(&c.Queue, 64)
	def(&c.Uploads, 2*c.Queue)
	def(&c.Decoders, max(1, runtime.GOMAXPROCS(0)))
	if c.DecodeMemory <= 0 {
		c.DecodeMemory = 1 << 30
	}
	def(&c.MaxImages, c.Queue)
	c.MaxImages = min(c.MaxImages, c.Queue)
	def(&c.MaxLabels, 1000)
	def(&c.MaxTemplates, 100)
	def(&c.PromptCache, 50000)
	if c.MaxBody <= 0 {
		c.MaxBody = 20 << 20
	}
	if c.MinUploadRate == 0 {
		c.MinUploadRate = 16 << 10
	}
	c.MinUploadRate = max(c.MinUploadRate, 0)
	defDur(&c.UploadGrace, 5*time.Second)
	defDur(&c.BatchWait, 5*time.Millisecond)
	defDur(&c.Timeout, 30*time.Second)
	defDur(&c.URLTimeout, 10*time.Second)
	c.URLTimeout = min(c.URLTimeout, c.Timeout)
	defDur(&c.ReadHeader, 10*time.Second)
	defDur(&c.Idle, 120*time.Second)
	defDur(&c.ShutdownGrace, 30*time.Second)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// loaded is everything that exists once the model is.
type loaded struct {
	model       Model
	info        *ModelInfo
	batch       *batcher
	prompts     *promptCache
	classifiers *classifiers
}

// Server is the service. Create it with New, serve Handler (or
// HTTPServer), call SetModel when the model has loaded, and
// BeginShutdown/Close to stop.
type Server struct {
	cfg      Config
	log      *slog.Logger
	metrics  *metrics
	state    atomic.Pointer[loaded]
	index    atomic.Pointer[searchIndex] // /v1/search; nil: none (404)
	shutting atomic.Bool
	inFlight atomic.Int64 // requests inside a handler, for the shutdown drain
	slots    *slots       // images in the server (Queue)
	uploads  *slots       // bodies being received (Uploads)
	fetcher  *urlFetcher
	engine   sync.Mutex    // one inference at a time, image or text
	decode   chan struct{} // bounds concurrent image decoding (Decoders)
	decodeMB *memBudget    // bounds their memory (DecodeMemory)
	handler  http.Handler
	promHTTP http.Handler
}

// New returns a server that answers 503 on the API until SetModel.
func New(cfg Config) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newMetrics(),
		decode: make(chan struct{}, cfg.Decoders), decodeMB: &memBudget{size: cfg.DecodeMemory}}
	s.slots = &slots{max: int64(cfg.Queue), gauge: s.metrics.queueDepth}
	s.uploads = &slots{max: int64(cfg.Uploads), gauge: s.metrics.uploads}
	s.fetcher = newURLFetcher(cfg.AllowPrivate, cfg.URLTimeout, cfg.MaxBody)
	s.promHTTP = s.metrics.handler()
	s.handler = s.routes()
	return s
}

// Config returns the effective configuration (defaults filled in).
func (s *Server) Config() Config { return s.cfg }

// SetModel makes the server ready with a loaded model. disk, when not nil,
// is the model's persistent prompt-embedding cache, shared with
// `clip classify`.
func (s *Server) SetModel(m Model, info ModelInfo, disk *clip.TextCache) {
	h, w := m.InputSize()
	info.InputSize = [2]int{h, w}
	sc := m.Scoring()
	info.Family, info.Scoring = string(m.Family()), sc.Name()
	info.LogitScale, info.LogitBias = sc.LogitScale, sc.LogitBias
	prompts := newPromptCache(m, disk, &s.engine, s.cfg.PromptCache, s.metrics)
	st := &loaded{
		model:       m,
		info:        &info,
		batch:       newBatcher(m, &s.engine, s.cfg.MaxBatch, s.cfg.BatchWait, s.cfg.Queue, s.metrics),
		prompts:     prompts,
		classifiers: &classifiers{prompts: prompts, scoring: sc, templates: m.DefaultTemplates(), m: map[string]*clip.ZeroShot{}, maxLabels: 20000},
	}
	s.state.Store(st)
}

// Ready reports whether the model is loaded and the server not shutting down.
func (s *Server) Ready() bool { return s.state.Load() != nil && !s.shutting.Load() }

// BeginShutdown makes /readyz fail and refuses new API requests with 503,
// while requests already in flight finish.
func (s *Server) BeginShutdown() { s.shutting.Store(true) }

// Close stops the batcher; call it after the HTTP server has drained.
func (s *Server) Close() {
	if st := s.state.Load(); st != nil {
		st.batch.close()
	}
}

// BatchStats reports the inference batches run and the images in them.
func (s *Server) BatchStats() (batches, images int64) {
	if st := s.state.Load(); st != nil {
		return st.batch.batches.Load(), st.batch.batchedImages.Load()
	}
	return 0, 0
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns an http.Server for addr with timeouts against slow
// clients (slowloris): headers within ReadHeader, the whole request within
// Timeout (API bodies also at MinUploadRate, see uploadReader), the
// response within Timeout plus a margin for writing errors and lingering.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeader,
		ReadTimeout:       s.cfg.Timeout,
		WriteTimeout:      s.cfg.Timeout + lingerTime + 10*time.Second,
		IdleTimeout:       s.cfg.Idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// ErrGraceExpired is returned by Serve when requests were still running
// when ShutdownGrace ran out: they were cut off.
var ErrGraceExpired = errors.New("--shutdown-grace ran out")

// Serve runs srv until ctx is cancelled, then drains: readiness and new
// API requests get 503 at once (the listener stays open, so load balancers
// see the 503 rather than a refused connection), in-flight requests get up
// to ShutdownGrace to finish, then the listener closes and the batcher
// stops. Requests still running when the grace runs out make Serve return
// ErrGraceExpired.
func (s *Server) Serve(ctx context.Context, srv *http.Server, serve func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		s.BeginShutdown()
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.BeginShutdown()
	srv.SetKeepAlivesEnabled(false)
	s.log.Info("shutting down: draining in-flight requests", "grace", s.cfg.ShutdownGrace.String(), "in_flight", s.inFlight.Load())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	// In-flight requests are counted by wrap; a new one arriving now only
	// gets its 503, so the count can only fall to zero and stay there.
	tick := time.NewTicker(10 * time.Millisecond)
	for s.inFlight.Load() > 0 && sctx.Err() == nil {
		select {
		case <-tick.C:
		case <-sctx.Done():
		}
	}
	tick.Stop()
	err := srv.Shutdown(sctx)
	s.Close()
	if err != nil {
		n := s.inFlight.Load()
		_ = srv.Close()
		s.log.Warn("shutdown grace ran out: cutting off requests still running", "in_flight", n)
		return fmt.Errorf("%w with %d requests still running (cut off)", ErrGraceExpired, n)
	}
	if err := <-errc; err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

// route is one endpoint.
type route struct {
	path    string
	method  string
	auth    bool
	handler func(http.ResponseWriter, *http.Request) *apiError
	// writeError sends the route's error answers (nil: writeAPIError, the
	// API's {"error":{"code","message"}}).
	writeError func(http.ResponseWriter, *apiError)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range []route{
		{path: "/v1/classify", method: http.MethodPost, auth: true, handler: s.withBody(s.handleClassify)},
		{path: "/v1/embed", method: http.MethodPost, auth: true, handler: s.withBody(s.handleEmbed)},
		{path: "/v1/search", method: http.MethodPost, auth: true, handler: s.handleSearch},
		{path: "/v1/models", method: http.MethodGet, auth: true, handler: s.handleModels},
		{path: "/metrics", method: http.MethodGet, auth: true, handler: s.handleMetrics},
		{path: "/healthz", method: http.MethodGet, handler: s.handleHealthz},
		{path: "/readyz", method: http.MethodGet, handler: s.handleReadyz},
		{path: "/openapi.json", method: http.MethodGet, handler: s.handleOpenAPI},
		// Weaviate's multi2vec-clip inference contract (weaviate.go).
		{path: "/vectorize", method: http.MethodPost, auth: true, handler: s.handleVectorize, writeError: writeWeaviateError},
		{path: "/meta", method: http.MethodGet, auth: true, handler: s.handleWeaviateMeta, writeError: writeWeaviateError},
		{path: "/.well-known/live", method: http.MethodGet, handler: s.handleWeaviateLive, writeError: writeWeaviateError},
		{path: "/.well-known/ready", method: http.MethodGet, handler: s.handleWeaviateReady, writeError: writeWeaviateError},
		{path: "/", method: http.MethodGet, handler: s.handlePage},
	} {
		pattern := rt.path
		if pattern == "/" {
			pattern = "/{$}" // the page; other paths are 404 below
		}
		mux.Handle(pattern, s.wrap(rt))
	}
	mux.Handle("/", s.wrap(route{path: "other", handler: func(w http.ResponseWriter, r *http.Request) *apiError {
		return errorf(http.StatusNotFound, CodeNotFound, "no such endpoint: "+r.URL.Path+" (see /openapi.json)")
	}}))
	return mux
}

// statusWriter records what a handler wrote, for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap adds what every endpoint shares: method check, bearer token,
// request id, panic recovery, access log and metrics.
func (s *Server) wrap(rt route) http.Handler {
	writeError := rt.writeError
	if writeError == nil {
		writeError = writeAPIError
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		w := &statusWriter{ResponseWriter: rw}
		body := &watchedBody{ReadCloser: r.Body} // before any handler wraps it, for lingering
		r.Body = body
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		var apiErr *apiError
		func() {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					s.log.Error("panic in handler", "request_id", id, "panic", fmt.Sprint(p))
					apiErr = errorf(http.StatusInternalServerError, CodeInternal, "internal error")
				}
			}()
			switch {
			case rt.method != "" && r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead):
				w.Header().Set("Allow", rt.method)
				apiErr = errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, fmt.Sprintf("%s %s: use %s", r.Method, rt.path, rt.method))
			case rt.auth && !s.authorized(r):
				apiErr = errorf(http.StatusUnauthorized, CodeUnauthorized, "missing or wrong bearer token (Authorization: Bearer …, or Basic with the token as password)")
			default:
				apiErr = rt.handler(w, r)
			}
		}()
		if apiErr != nil {
			// Counted before the answer is written: a client (or a test)
			// that reads /metrics right after its error response must see
			// it, and lingering over the rest of a body can take seconds.
			s.metrics.errors.WithLabelValues(apiErr.Code).Inc()
		}
		if apiErr != nil && w.status == 0 {
			switch {
			case r.ContentLength == 0 || r.Context().Err() != nil:
				writeError(w, apiErr)
			case apiErr.Status == http.StatusRequestTimeout || !body.mayBeSending(r):
				// What is left of the body will not come (soon): the
				// connection cannot carry another request.
				w.Header().Set("Connection", "close")
				writeError(w, apiErr)
			default:
				linger(w, body, apiErr, writeError)
			}
		}
		status := w.status
		if status == 0 {
			// The handler wrote nothing: the client went away first.
			status = 499
		}
		d := time.Since(start)
		code := fmt.Sprint(status)
		s.metrics.requests.WithLabelValues(rt.path, code).Inc()
		s.metrics.latency.WithLabelValues(rt.path).Observe(d.Seconds())
		attrs := []any{"request_id", id, "method", r.Method, "path", r.URL.Path, "status", status,
			"bytes", w.bytes, "duration_ms", float64(d.Microseconds()) / 1000, "remote", r.RemoteAddr}
		if apiErr != nil {
			attrs = append(attrs, "error", apiErr.Code, "message", apiErr.Message)
		}
		level := slog.LevelInfo
		if status >= 500 && status != 503 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request", attrs...)
	})
}

// authorized compares the bearer token in constant time (hashing both
// sides first, so not even the length leaks). The token is also accepted
// as the password of Basic authentication, any user name: Weaviate's
// multi2vec-clip module sends no headers of its own, but Go's HTTP client
// turns the user info of CLIP_INFERENCE_API (http://user:TOKEN@host) into
// a Basic Authorization header.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.Token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		if _, got, ok = r.BasicAuth(); !ok {
			return false
		}
	}
	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256([]byte(s.cfg.Token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// available returns the loaded state, or the 503 to answer with.
func (s *Server) available() (*loaded, *apiError) {
	if s.shutting.Load() {
		return nil, &apiError{Status: http.StatusServiceUnavailable, Code: CodeShuttingDown, Message: "the server is shutting down", RetryAfter: 5}
	}
	st := s.state.Load()
	if st == nil {
		return nil, &apiError{Status: http.StatusServiceUnavailable, Code: CodeNotReady, Message: "the model is still loading", RetryAfter: 5}
	}
	return st, nil
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) *apiError {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) *apiError {
	if _, e := s.available(); e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) *apiError {
	s.promHTTP.ServeHTTP(w, r)
	return nil
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) *apiError {
	st, e := s.available()
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, map[string]any{"schema": clip.SchemaVersion, "models": []*ModelInfo{st.info}})
	return nil
}

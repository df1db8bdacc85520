// Package serve implements `clip serve`: the classifier as an HTTP service
// (pkg/server) on one model loaded at start, with the same model loading,
// caches and record schema as `clip classify`.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/imageproc"
	"github.com/clip-go/clip/pkg/index"
	"github.com/clip-go/clip/pkg/server"
)

// TokenEnv is the environment variable holding the bearer token when
// --token is not given (keeps it out of process listings).
const TokenEnv = "CLIP_SERVE_TOKEN"

// ServeOptions are the flags and environment of one `clip serve`.
type ServeOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	Addr          string
	Variant       string
	MaxBatch      int
	BatchWait     time.Duration
	MaxBody       string
	MaxMegapixels float64
	DecodeMemory  string
	MaxLabels     int
	MaxImages     int
	Timeout       time.Duration
	URLTimeout    time.Duration
	Queue         int
	MaxUploads    int
	MinUploadRate string
	Token         string
	AllowPrivate  bool
	LogFormat     string
	NoCache       bool
	NoExifRotate  bool
	ExactDecode   bool
	Language      string // --language, for NLLB text towers
	ShutdownGrace time.Duration
	Index         string

	// OnReady, when set, is called with the listening address once the
	// model has loaded and the server is ready (tests and benchmarks).
	OnReady func(addr net.Addr, s *server.Server)
}

// NewCmdServe returns `clip serve`. runF replaces serveRun in tests that
// only check flag parsing.
func NewCmdServe(f *cmdutil.Factory, runF func(*ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve classification and embeddings over HTTP",
		Long: `Serve the model over an HTTP API: POST /v1/classify and /v1/embed (JSON or
multipart/form-data), GET /v1/models, /healthz, /readyz, /metrics (Prometheus)
and /openapi.json. Results are the records of 'clip classify --format json'.

The model loads once at start; /readyz answers 503 until it has. Images of
concurrent requests are batched into one inference (--max-batch, --batch-wait),
and label prompts are embedded once and cached (memory and disk).

With --index FILE, POST /v1/search ranks the images of a 'clip index' file by
a text query, an example image, or both (the records of 'clip search'); the
index is read once at start and must have been made with the served model
(exit 2 otherwise). POST /vectorize, GET /meta and /.well-known/live|ready
are the inference contract of Weaviate's multi2vec-clip module, so Weaviate
can use this server as its vectorizer (CLIP_INFERENCE_API).

Requests are limited in body size, labels, images, time and queue length;
beyond the queue (or --max-uploads bodies being received) the server answers
429 with Retry-After. A body slower than --min-upload-rate gets 408; a
request takes its queue slots only once its body has arrived. URL images are
fetched over http(s) only and never from loopback, private, link-local or
multicast addresses unless --allow-private-urls. With --token (or
$CLIP_SERVE_TOKEN) /v1/* and /metrics need "Authorization: Bearer TOKEN".
SIGTERM or SIGINT drains: /readyz and new requests get 503 while in-flight
requests get up to --shutdown-grace to finish; the exit is 0, or 130 when
the grace ran out with requests still running.`,
		Example: `  clip serve --model clip-vit-base-patch32
  CLIP_SERVE_TOKEN=s3cret clip serve --addr 0.0.0.0:8080 --log-format json
  curl -F image=@cat.jpg -F labels=cat,dog http://127.0.0.1:8080/v1/classify`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Token == "" {
				opts.Token = f.Getenv(TokenEnv)
			}
			if runF != nil {
				return runF(opts)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return serveRun(ctx, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "address to listen on (host:port)")
	fl.StringVar(&opts.Variant, "variant", "fp32", "model variant: fp32|fp16|quantized|uint8|q4|q4f16|bnb4")
	fl.IntVar(&opts.MaxBatch, "max-batch", 8, "images per inference batch")
	fl.DurationVar(&opts.BatchWait, "batch-wait", 5*time.Millisecond, "how long a batch waits for more images")
	fl.StringVar(&opts.MaxBody, "max-body", "20MB", "request body size limit (B, KB, MB, GB; KiB, MiB, GiB)")
	fl.Float64Var(&opts.MaxMegapixels, "max-megapixels", 50, "refuse images larger than this (from the header, before decoding)")
	fl.StringVar(&opts.DecodeMemory, "decode-memory", "1GiB", "estimated memory of the images decoded at once (from their headers); more wait")
	fl.IntVar(&opts.MaxLabels, "max-labels", 1000, "labels (or texts) per request")
	fl.IntVar(&opts.MaxImages, "max-images", 0, "images per request (default: --queue)")
	fl.DurationVar(&opts.Timeout, "timeout", 30*time.Second, "per-request time limit, upload included")
	fl.DurationVar(&opts.URLTimeout, "url-timeout", 10*time.Second, "time limit per URL image download")
	fl.IntVar(&opts.Queue, "queue", 64, "images in the server at once (decoding, queued, in inference); more get 429")
	fl.IntVar(&opts.MaxUploads, "max-uploads", 0, "request bodies received at once (default: 2 × --queue); more get 429")
	fl.StringVar(&opts.MinUploadRate, "min-upload-rate", "16KiB", "bytes/s a request body must average after its first 5s (0: no minimum); slower get 408")
	fl.StringVar(&opts.Token, "token", "", "require this bearer token on /v1/* and /metrics (default $"+TokenEnv+")")
	fl.BoolVar(&opts.AllowPrivate, "allow-private-urls", false, "allow URL images on loopback, private and link-local addresses")
	fl.StringVar(&opts.LogFormat, "log-format", "text", "access log format on stderr: text|json")
	fl.BoolVar(&opts.NoCache, "no-cache", false, "do not read or write the on-disk prompt-embedding cache")
	fl.BoolVar(&opts.NoExifRotate, "no-exif-rotate", false, "ignore EXIF orientation in JPEGs")
	fl.BoolVar(&opts.ExactDecode, "exact-decode", false, modelload.ExactDecodeUsage)
	fl.StringVar(&opts.Language, "language", clip.LanguageAuto, modelload.LanguageUsage)
	fl.DurationVar(&opts.ShutdownGrace, "shutdown-grace", 30*time.Second, "time in-flight requests get to finish on SIGTERM/SIGINT")
	fl.StringVar(&opts.Index, "index", "", "serve POST /v1/search over this index file (made by 'clip index' with the same model; read once at start)")
	return cmd
}

// ParseSize reads a byte size: a number with an optional unit B, KB, MB,
// GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit (20MB, 512KiB)", s)
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("size %q: unknown unit %q (B, KB, MB, GB, KiB, MiB, GiB)", s, unit)
	}
	n := v * mult
	if n < 1 || n > 1<<40 {
		return 0, fmt.Errorf("size %q is out of range", s)
	}
	return int64(n), nil
}

func (opts *ServeOptions) config() (server.Config, error) {
	var cfg server.Config
	body, err := ParseSize(opts.MaxBody)
	if err != nil {
		return cfg, cmdutil.UsageErrorf("--max-body: %v", err)
	}
	decodeMem, err := ParseSize(opts.DecodeMemory)
	if err != nil {
		return cfg, cmdutil.UsageErrorf("--decode-memory: %v", err)
	}
	rate := int64(-1) // no minimum
	if r := strings.TrimSpace(opts.MinUploadRate); r != "0" && r != "" {
		if rate, err = ParseSize(r); err != nil {
			return cfg, cmdutil.UsageErrorf("--min-upload-rate: %v", err)
		}
	}
	switch {
	case opts.MaxUploads < 0:
		return cfg, cmdutil.UsageErrorf("--max-uploads must be at least 1")
	case opts.MaxBatch < 1 || opts.MaxBatch > 256:
		return cfg, cmdutil.UsageErrorf("--max-batch must be between 1 and 256")
	case modelload.CheckLanguage(opts.Language) != nil:
		return cfg, modelload.CheckLanguage(opts.Language)
	case opts.BatchWait < 0 || opts.BatchWait > time.Second:
		return cfg, cmdutil.UsageErrorf("--batch-wait must be between 0 and 1s")
	case opts.Queue < 1:
		return cfg, cmdutil.UsageErrorf("--queue must be at least 1")
	case opts.MaxLabels < 1:
		return cfg, cmdutil.UsageErrorf("--max-labels must be at least 1")
	case opts.MaxImages < 0 || opts.MaxImages > opts.Queue:
		return cfg, cmdutil.UsageErrorf("--max-images must be between 1 and --queue (%d)", opts.Queue)
	case opts.MaxMegapixels <= 0:
		return cfg, cmdutil.UsageErrorf("--max-megapixels must be positive")
	case opts.Timeout <= 0 || opts.URLTimeout <= 0 || opts.ShutdownGrace < 0:
		return cfg, cmdutil.UsageErrorf("--timeout and --url-timeout must be positive")
	case opts.LogFormat != "text" && opts.LogFormat != "json":
		return cfg, cmdutil.UsageErrorf("--log-format must be text or json")
	}
	if _, _, err := net.SplitHostPort(opts.Addr); err != nil {
		return cfg, cmdutil.UsageErrorf("--addr %q: %v", opts.Addr, err)
	}
	return server.Config{
		MaxBatch: opts.MaxBatch, BatchWait: opts.BatchWait, Queue: opts.Queue, MaxImages: opts.MaxImages,
		Uploads: opts.MaxUploads, MinUploadRate: rate, DecodeMemory: decodeMem,
		MaxBody: body, MaxLabels: opts.MaxLabels, Timeout: opts.Timeout, URLTimeout: opts.URLTimeout,
		Token: opts.Token, AllowPrivate: opts.AllowPrivate, ShutdownGrace: opts.ShutdownGrace,
	}, nil
}

func (opts *ServeOptions) logger() *slog.Logger {
	if opts.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(opts.IO.ErrOut, nil))
	}
	return slog.New(slog.NewTextHandler(opts.IO.ErrOut, nil))
}

// serveRun listens at once (so /healthz and /readyz answer while the model
// loads), loads the model, and serves until ctx is cancelled (SIGTERM or
// SIGINT), then drains in-flight requests.
func serveRun(ctx context.Context, opts *ServeOptions) error {
	cfg, err := opts.config()
	if err != nil {
		return err
	}
	if opts.Index != "" {
		// A wrong path is a quick usage error, before the model loads.
		if _, err := os.Stat(opts.Index); err != nil {
			return cmdutil.UsageErrorf("--index %s: %v (make one with 'clip index PATH…')", opts.Index, unwrapPathError(err))
		}
	}
	log := opts.logger()
	cfg.Logger = log
	srv := server.New(cfg)
	httpSrv := srv.HTTPServer(opts.Addr)
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("--addr %s: %w", opts.Addr, err))
	}
	if host, _, _ := net.SplitHostPort(opts.Addr); !isLoopbackHost(host) && cfg.Token == "" {
		log.Warn("listening beyond loopback without a bearer token: anyone who can reach " + opts.Addr + " can use the server (set --token or " + TokenEnv + ")")
	}
	log.Info("listening", "addr", ln.Addr().String(), "model", modelName(opts.Factory))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type loadResult struct {
		m   *modelload.Model
		err error
	}
	loaded := make(chan loadResult, 1)
	go func() {
		m, info, disk, err := load(ctx, opts)
		if err == nil && opts.Index != "" {
			err = loadIndex(ctx, opts.Index, m, srv, log)
			if err != nil {
				m.Close()
			}
		}
		if err != nil {
			loaded <- loadResult{err: err}
			cancel()
			return
		}
		srv.SetModel(m, info, disk)
		h, w := m.InputSize()
		log.Info("ready", "model", m.Describe(), "input_size", fmt.Sprintf("%d×%d", h, w),
			"prompt_cache", diskPath(disk), "max_batch", cfg.MaxBatch, "queue", cfg.Queue)
		loaded <- loadResult{m: m}
		if opts.OnReady != nil {
			opts.OnReady(ln.Addr(), srv)
		}
	}()
	serveErr := srv.Serve(ctx, httpSrv, func() error { return httpSrv.Serve(ln) })
	lr := <-loaded
	if lr.m != nil {
		// Serve has drained the requests and stopped the batcher.
		lr.m.Close()
	}
	if lerr := lr.err; lerr != nil {
		if errors.Is(lerr, context.Canceled) {
			return nil // stopped while loading
		}
		if ee := (*cmdutil.ExitError)(nil); errors.As(lerr, &ee) {
			return lerr // the index: already says what failed
		}
		return cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("loading the model: %w", lerr))
	}
	if errors.Is(serveErr, server.ErrGraceExpired) {
		// Stopping was asked for; what failed is that requests were cut off.
		return cmdutil.NewExitError(cmdutil.ExitInterrupted, serveErr)
	}
	if serveErr != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, serveErr)
	}
	log.Info("stopped")
	return nil
}

// load opens the model as classify does, hashes its files once (every
// response names them), and opens the shared prompt-embedding cache.
func load(ctx context.Context, opts *ServeOptions) (*modelload.Model, server.ModelInfo, *clip.TextCache, error) {
	var info server.ModelInfo
	m, err := modelload.Open(ctx, opts.Factory, modelload.Options{
		Variant:     opts.Variant,
		Decode:      imageproc.DecodeOptions{NoEXIFRotate: opts.NoExifRotate, MaxMegapixels: opts.MaxMegapixels},
		ExactDecode: opts.ExactDecode,
		Language:    opts.Language,
	})
	if err != nil {
		return nil, info, nil, err
	}
	if err := m.Store.LocalSHA256(ctx, m.Local); err != nil {
		m.Close()
		return nil, info, nil, err
	}
	info = publicInfo(m)
	// Run the image batch sizes the server uses most (1 and --max-batch) once,
	// so the engine's compiled graphs exist before /readyz says ready.
	h, w := m.InputSize()
	for _, n := range []int{1, opts.MaxBatch} {
		if _, err := m.EncodeImages(ctx, make([]float32, n*3*h*w), n); err != nil {
			m.Close()
			return nil, info, nil, fmt.Errorf("warming up at batch %d: %w", n, err)
		}
	}
	var disk *clip.TextCache
	if !opts.NoCache {
		if disk, err = clip.OpenTextCache(m.TextCacheDir(), m.CacheKey()); err != nil {
			slog.Default().Warn("prompt cache unavailable", "error", err.Error())
			disk = nil
		}
	}
	return m, info, disk, nil
}

// loadIndex opens the --index file, refuses it when another model (or
// variant, preprocessing, decode mode) made it, and hands its vectors to
// the server for /v1/search.
func loadIndex(ctx context.Context, path string, m *modelload.Model, srv *server.Server, log *slog.Logger) error {
	ix, err := index.Open(ctx, path, index.Options{ReadOnly: true})
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	defer ix.Close()
	meta, err := m.IndexMeta(ctx)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("--index %s: %w", path, err))
	}
	if err := ix.Check(ctx, meta); err != nil {
		if mm := (*index.MismatchError)(nil); errors.As(err, &mm) {
			return cmdutil.UsageErrorf("--index: %v; serve it with --model %s (and the --variant and --exact-decode it was made with), or rebuild the index with this model", err, mm.Index.ModelID)
		}
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	start := time.Now()
	vecs, err := ix.Load(ctx, nil)
	if err != nil {
		return cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	srv.SetIndex(filepath.Base(path), vecs)
	log.Info("index loaded", "index", path, "images", vecs.Len(), "seconds", time.Since(start).Seconds())
	return nil
}

func unwrapPathError(err error) error {
	if pe := (*os.PathError)(nil); errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// publicInfo describes the model to clients without the server's file
// system: a local directory's model is named by the directory's base name,
// and files by their path inside the model directory.
func publicInfo(m *modelload.Model) server.ModelInfo {
	id := m.Local.ID
	if filepath.IsAbs(id) || id == m.Local.Dir {
		id = filepath.Base(m.Local.Dir)
	}
	inDir := func(p string) string {
		if p == "" {
			return ""
		}
		if rel, err := filepath.Rel(m.Local.Dir, p); err == nil && filepath.IsLocal(rel) {
			return filepath.ToSlash(rel)
		}
		return filepath.Base(p)
	}
	pre := m.Preprocess
	pre.Source = inDir(pre.Source)
	return server.ModelInfo{
		ID: id, Name: m.Local.Name, Variant: string(m.Local.Variant), Revision: m.Local.Revision,
		Commit: m.Local.Commit, Files: m.Local.Files, Preprocess: pre, Decode: m.DecodeMode(), Tokenizer: inDir(m.Tokenizer.Source()),
	}
}

func modelName(f *cmdutil.Factory) string {
	if f.Globals.Model != "" {
		return f.Globals.Model
	}
	return modelload.DefaultModel
}

func diskPath(c *clip.TextCache) string {
	if c == nil {
		return "memory only"
	}
	return c.Path()
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

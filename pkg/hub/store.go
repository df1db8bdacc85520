package hub

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultEndpoint is the hub used when HF_ENDPOINT is unset.
const DefaultEndpoint = "https://huggingface.co"

// StoreOptions configure a Store. Zero values take their defaults from the
// environment (through Getenv) or from the constants below.
type StoreOptions struct {
	// Root is the cache directory; default $CLIP_HOME, else
	// $XDG_CACHE_HOME/clip, else ~/.cache/clip.
	Root string
	// Endpoint is the hub; default $HF_ENDPOINT, else https://huggingface.co.
	Endpoint string
	// Token is sent as a bearer token; default $HF_TOKEN.
	Token string
	// Offline forbids every network access ($HF_HUB_OFFLINE=1 also does).
	Offline bool
	// CacheOnly forbids the network too, for commands that only look at
	// the cache (models info, path, rm, verify); unlike Offline, messages
	// do not blame offline mode for a model that is not there.
	CacheOnly bool
	// HTTPClient is used for every request; default http.DefaultClient.
	HTTPClient *http.Client
	// Progress, when set, is called as each file download starts, with the
	// file's size (-1 if unknown) and the bytes already present from an
	// earlier partial download. New bytes are written to the returned
	// writer, which is closed when the file is done.
	Progress func(file string, size, done int64) io.WriteCloser
	// Logf receives notes such as retries and lock waits; default: dropped.
	Logf func(format string, args ...any)
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
	// UserAgent is sent with every request; default "clip".
	UserAgent string
	// MaxAttempts bounds the tries of one request (default 5).
	MaxAttempts int
	// RetryBackoff is the first wait between tries, doubled each time
	// (default 1s, capped at 30s).
	RetryBackoff time.Duration
	// StallTimeout aborts (and retries) a request that receives nothing
	// for this long (default 60s).
	StallTimeout time.Duration
	// MaxFileSize refuses a file the hub announces as larger, and stops
	// reading one that grows past it (default DefaultMaxFileSize).
	MaxFileSize int64
}

// Store is the model cache and the way to fill it.
type Store struct {
	root         string
	endpoint     string
	token        string
	offline      bool // the user's --offline or HF_HUB_OFFLINE
	cacheOnly    bool
	client       *http.Client
	progress     func(file string, size, done int64) io.WriteCloser
	logfFn       func(format string, args ...any)
	userAgent    string
	maxAttempts  int
	backoff      time.Duration
	stallTimeout time.Duration
	maxFileSize  int64
	// sumsRacyWindow replaces racyWindow in tests (files they write are
	// always recent).
	sumsRacyWindow *time.Duration
}

// NewStore applies the defaults and checks the root can be determined.
func NewStore(opts StoreOptions) (*Store, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	root := opts.Root
	if root == "" {
		root = getenv("CLIP_HOME")
	}
	if root == "" {
		if x := getenv("XDG_CACHE_HOME"); x != "" {
			root = filepath.Join(x, "clip")
		}
	}
	if root == "" {
		home := getenv("HOME")
		if home == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("cannot place the model cache: set CLIP_HOME (%v)", err)
			}
			home = h
		}
		root = filepath.Join(home, ".cache", "clip")
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("model cache %q: %w", root, err)
	}
	endpoint := opts.Endpoint
	if endpoint == "" {
		endpoint = getenv("HF_ENDPOINT")
	}
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	endpoint = strings.TrimRight(endpoint, "/")
	if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
		return nil, fmt.Errorf("hub endpoint %q is not an http(s) URL (check HF_ENDPOINT)", endpoint)
	}
	token := opts.Token
	if token == "" {
		token = getenv("HF_TOKEN")
	}
	offline := opts.Offline
	switch strings.ToLower(getenv("HF_HUB_OFFLINE")) {
	case "1", "true", "yes", "on":
		offline = true
	}
	s := &Store{
		root: root, endpoint: endpoint, token: strings.TrimSpace(token), offline: offline, cacheOnly: opts.CacheOnly,
		client: opts.HTTPClient, progress: opts.Progress, logfFn: opts.Logf, userAgent: opts.UserAgent,
		maxAttempts: opts.MaxAttempts, backoff: opts.RetryBackoff, stallTimeout: opts.StallTimeout,
		maxFileSize: opts.MaxFileSize,
	}
	if s.client == nil {
		s.client = http.DefaultClient
	}
	if s.userAgent == "" {
		s.userAgent = "clip"
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = 5
	}
	if s.backoff <= 0 {
		s.backoff = time.Second
	}
	if s.stallTimeout <= 0 {
		s.stallTimeout = 60 * time.Second
	}
	if s.maxFileSize <= 0 {
		s.maxFileSize = DefaultMaxFileSize
	}
	return s, nil
}

// Root is the cache directory.
func (s *Store) Root() string { return s.root }

// Endpoint is the hub URL in use.
func (s *Store) Endpoint() string { return s.endpoint }

// Offline reports whether the network is forbidden.
func (s *Store) Offline() bool { return s.offline || s.cacheOnly }

func (s *Store) logf(format string, args ...any) {
	if s.logfFn != nil {
		s.logfFn(format, args...)
	}
}

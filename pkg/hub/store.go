package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
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
}

// Store is the model cache and the way to fill it.
type Store struct {
	root         string
	endpoint     string
	token        string
	offline      bool
	client       *http.Client
	progress     func(file string, size, done int64) io.WriteCloser
	logfFn       func(format string, args ...any)
	userAgent    string
	maxAttempts  int
	backoff      time.Duration
	stallTimeout time.Duration
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
		root: root, endpoint: endpoint, token: strings.TrimSpace(token), offline: offline,
		client: opts.HTTPClient, progress: opts.Progress, logfFn: opts.Logf, userAgent: opts.UserAgent,
		maxAttempts: opts.MaxAttempts, backoff: opts.RetryBackoff, stallTimeout: opts.StallTimeout,
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
	return s, nil
}

// Root is the cache directory.
func (s *Store) Root() string { return s.root }

// Endpoint is the hub URL in use.
func (s *Store) Endpoint() string { return s.endpoint }

// Offline reports whether the network is forbidden.
func (s *Store) Offline() bool { return s.offline }

func (s *Store) logf(format string, args ...any) {
	if s.logfFn != nil {
		s.logfFn(format, args...)
	}
}

// target is a hub model a reference names.
type target struct {
	Ref      string // as the user wrote it, for messages
	Repo     string
	Revision string
	Entry    *Entry // catalogue entry, when the repo is catalogued
}

// parseTarget turns a catalogue name or "owner/name[@revision]" into a
// target. revision, when not empty, overrides both.
func parseTarget(ref, revision string) (target, error) {
	base, rev, hasRev := strings.Cut(ref, "@")
	if revision != "" {
		rev, hasRev = revision, true
	}
	if hasRev {
		if err := validateRevision(rev); err != nil {
			return target{}, err
		}
	}
	t := target{Ref: ref}
	if e, ok := LookupCatalogue(base); ok {
		t.Entry = &e
		t.Repo = e.Repo
		t.Revision = e.Revision
	} else {
		rr, err := ParseRepoRef(base)
		if err != nil {
			return target{}, fmt.Errorf("%q is not a catalogue model (see `clip models list`), an owner/name repository id, or an existing directory", ref)
		}
		t.Repo = rr.Repo
		t.Revision = "main"
	}
	if hasRev {
		t.Revision = rev
	}
	return t, nil
}

func (s *Store) repoDir(repo string) string {
	return filepath.Join(s.root, "models", filepath.FromSlash(repo))
}

func (s *Store) modelDir(t target) string {
	return filepath.Join(s.repoDir(t.Repo), revisionDir(t.Revision))
}

func (s *Store) lockPath(t target) string {
	return filepath.Join(s.root, "locks", filepath.FromSlash(t.Repo), revisionDir(t.Revision)+".lock")
}

// Resolve turns a model reference into local files, downloading what is
// missing unless the store is offline. ref is a catalogue name, a hub repo
// id "owner/name[@revision]", or a directory in the HF or immich layout;
// "" means DefaultModel. A cached model is returned without touching the
// network.
func (s *Store) Resolve(ctx context.Context, ref string, variant Variant) (*LocalModel, error) {
	if variant == "" {
		variant = FP32
	}
	if ref == "" {
		ref = DefaultModel
	}
	if dir, ok := looksLikeDir(ref); ok {
		return OpenDir(dir, variant)
	}
	t, err := parseTarget(ref, "")
	if err != nil {
		return nil, err
	}
	return s.ensure(ctx, t, variant)
}

// Pull is Resolve for hub models only, with an optional revision that
// overrides the reference's.
func (s *Store) Pull(ctx context.Context, ref, revision string, variant Variant) (*LocalModel, error) {
	if variant == "" {
		variant = FP32
	}
	t, err := parseTarget(ref, revision)
	if err != nil {
		return nil, err
	}
	return s.ensure(ctx, t, variant)
}

// ensure returns the cached model, pulling it first when incomplete.
func (s *Store) ensure(ctx context.Context, t target, variant Variant) (*LocalModel, error) {
	if t.Entry != nil {
		if _, ok := t.Entry.Variants[variant]; !ok {
			return nil, fmt.Errorf("%s has no %s variant (available: %s)", t.Entry.Name, variant, joinVariants(t.Entry.VariantList()))
		}
	}
	dir := s.modelDir(t)
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	if missing := s.missing(dir, m, t, variant); len(missing) == 0 {
		return s.localModel(dir, m, t, variant)
	} else if s.offline {
		return nil, &NotInstalledError{Ref: t.Ref, Variant: variant, Root: s.root, Missing: missing}
	}

	lock, err := acquireLock(ctx, s.lockPath(t), func() {
		s.logf("waiting for another clip process that is downloading %s", t.Repo)
	})
	if err != nil {
		return nil, err
	}
	defer lock.release()
	// Whoever held the lock may have finished the job.
	if m, err = readManifest(dir); err != nil {
		return nil, err
	}
	if len(s.missing(dir, m, t, variant)) == 0 {
		return s.localModel(dir, m, t, variant)
	}
	if m, err = s.pull(ctx, dir, m, t, variant); err != nil {
		return nil, err
	}
	return s.localModel(dir, m, t, variant)
}

// missing lists what the cache lacks for variant; nil means complete.
// It stats files but never hashes them.
func (s *Store) missing(dir string, m *Manifest, t target, variant Variant) []string {
	if m == nil {
		return []string{manifestName}
	}
	required, optional, err := layoutFiles(m.Layout, variant)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, p := range required {
		f, ok := m.file(p)
		if !ok || !fileHasSize(filepath.Join(dir, filepath.FromSlash(p)), f.Size) {
			out = append(out, p)
		}
	}
	for _, p := range optional {
		if m.isAbsent(p) {
			continue
		}
		f, ok := m.file(p)
		if !ok || !fileHasSize(filepath.Join(dir, filepath.FromSlash(p)), f.Size) {
			out = append(out, p)
		}
	}
	return out
}

func fileHasSize(p string, size int64) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Size() == size
}

// pull downloads what variant needs into dir, recording each verified
// file in the manifest as it lands. Files are fetched at one commit: the
// manifest's if it has one, else the listing's, else the first HEAD's.
func (s *Store) pull(ctx context.Context, dir string, m *Manifest, t target, variant Variant) (*Manifest, error) {
	if m == nil {
		m = &Manifest{Repo: t.Repo, Revision: t.Revision}
		if t.Entry != nil {
			m.Name = t.Entry.Name
		}
	}
	var required, optional []string
	switch {
	case t.Entry != nil && !t.Entry.FromListing:
		var err error
		if required, optional, err = t.Entry.Files(variant); err != nil {
			return nil, err
		}
		m.Layout = t.Entry.Layout
	default:
		rev := t.Revision
		if m.Commit != "" {
			rev = m.Commit
		}
		l, err := s.listRepo(ctx, t.Repo, rev)
		if err != nil {
			return nil, err
		}
		layout, req, opt, absent, err := planFromListing(t.Repo, l, variant)
		if err != nil {
			return nil, err
		}
		if m.Layout != "" && m.Layout != layout {
			return nil, fmt.Errorf("%s: the cached files are in the %s layout but the hub now lists the %s layout; remove them with `clip models rm %s`", t.Repo, m.Layout, layout, t.Ref)
		}
		m.Layout, required, optional = layout, req, opt
		if m.Commit == "" && isHex(l.Commit, 40) {
			m.Commit = l.Commit
		}
		for _, a := range absent {
			m.markAbsent(a)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating model directory: %w", err)
	}
	for _, p := range append(append([]string(nil), required...), optional...) {
		if err := SafeRepoPath(p); err != nil {
			return nil, err
		}
		isOptional := !contains(required, p)
		if isOptional && m.isAbsent(p) {
			continue
		}
		dest := filepath.Join(dir, filepath.FromSlash(p))
		if f, ok := m.file(p); ok && fileHasSize(dest, f.Size) {
			continue
		}
		rev := t.Revision
		if m.Commit != "" {
			rev = m.Commit
		}
		rf, err := s.headFile(ctx, t.Repo, rev, p)
		var he *HTTPError
		if isOptional && errors.As(err, &he) && he.Status == http.StatusNotFound {
			m.markAbsent(p)
			if err := writeManifest(dir, m); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if rf.Commit != "" {
			if m.Commit == "" {
				m.Commit = rf.Commit
			} else if !strings.EqualFold(rf.Commit, m.Commit) {
				return nil, fmt.Errorf("%s: the hub served %s from commit %s, but the other files are from %s", t.Repo, p, rf.Commit, m.Commit)
			}
		}
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return nil, err
		}
		sum, size, err := s.downloadFile(ctx, rf, dest, t.Repo, rev)
		if err != nil {
			return nil, err
		}
		m.put(ManifestFile{Path: p, Size: size, SHA256: sum, Etag: rf.Etag})
		m.PulledAt = time.Now().UTC()
		if err := writeManifest(dir, m); err != nil {
			return nil, err
		}
	}
	if m.Commit == "" && isHex(t.Revision, 40) {
		m.Commit = t.Revision
	}
	m.PulledAt = time.Now().UTC()
	if err := writeManifest(dir, m); err != nil {
		return nil, err
	}
	return m, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// localModel describes a complete cached variant.
func (s *Store) localModel(dir string, m *Manifest, t target, variant Variant) (*LocalModel, error) {
	lm := &LocalModel{
		Dir: dir, ID: m.Repo, Name: m.Name, Revision: m.Revision, Commit: m.Commit,
		Variant: variant, Layout: m.Layout,
	}
	if t.Entry != nil {
		lm.Name = t.Entry.Name
	}
	required, optional, err := layoutFiles(m.Layout, variant)
	if err != nil {
		return nil, err
	}
	for _, p := range append(required, optional...) {
		if f, ok := m.file(p); ok {
			lm.Files = append(lm.Files, FileInfo{Path: p, Size: f.Size, SHA256: f.SHA256})
		}
	}
	fillPaths(lm)
	return lm, nil
}

// fillPaths sets the role paths of lm from the files present in lm.Dir.
func fillPaths(lm *LocalModel) {
	at := func(p string) string {
		full := filepath.Join(lm.Dir, filepath.FromSlash(p))
		if fileExists(full) {
			return full
		}
		return ""
	}
	switch lm.Layout {
	case LayoutImmich:
		lm.VisionPath = at("visual/model.onnx")
		lm.TextPath = at("textual/model.onnx")
		lm.TokenizerPath = at("textual/tokenizer.json")
		lm.VocabPath = at("textual/vocab.json")
		lm.MergesPath = at("textual/merges.txt")
		lm.PreprocessorPath = at("visual/preprocess_cfg.json")
	default:
		sfx := lm.Variant.onnxSuffix()
		lm.VisionPath = at("onnx/vision_model" + sfx + ".onnx")
		lm.TextPath = at("onnx/text_model" + sfx + ".onnx")
		lm.CombinedPath = at("onnx/model" + sfx + ".onnx")
		lm.TokenizerPath = at("tokenizer.json")
		lm.VocabPath = at("vocab.json")
		lm.MergesPath = at("merges.txt")
		lm.PreprocessorPath = at("preprocessor_config.json")
	}
	lm.ConfigPath = at("config.json")
}

// OpenDir describes a model directory that is not managed by the store:
// the HF layout (onnx/vision_model.onnx, onnx/text_model.onnx with
// _fp16/_quantized variants) or immich's (visual/model.onnx,
// textual/model.onnx). Sums are left for ComputeSHA256.
func OpenDir(dir string, variant Variant) (*LocalModel, error) {
	if variant == "" {
		variant = FP32
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("model directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("model %s is not a directory", dir)
	}
	lm := &LocalModel{Dir: abs, ID: abs, Variant: variant}
	switch {
	case dirExists(filepath.Join(abs, "onnx")):
		lm.Layout = LayoutHF
	case fileExists(filepath.Join(abs, "visual", "model.onnx")) || fileExists(filepath.Join(abs, "textual", "model.onnx")):
		lm.Layout = LayoutImmich
	default:
		return nil, fmt.Errorf("%s is not a model directory: expected onnx/vision_model.onnx and onnx/text_model.onnx (transformers.js layout) or visual/model.onnx and textual/model.onnx (immich layout)", dir)
	}
	required, optional, err := layoutFiles(lm.Layout, variant)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	required = combinedFallback(abs, lm.Layout, variant, required)
	var missing []string
	for _, p := range required {
		if !fileExists(filepath.Join(abs, filepath.FromSlash(p))) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		var present []string
		for _, v := range AllVariants {
			if variantPresent(abs, lm.Layout, v) {
				present = append(present, string(v))
			}
		}
		return nil, fmt.Errorf("%s has no %s model: missing %s (variants present: %s)", dir, variant, strings.Join(missing, ", "), listOrNone(present))
	}
	for _, p := range append(required, optional...) {
		if st, err := os.Stat(filepath.Join(abs, filepath.FromSlash(p))); err == nil && st.Mode().IsRegular() {
			lm.Files = append(lm.Files, FileInfo{Path: p, Size: st.Size()})
		}
	}
	fillPaths(lm)
	return lm, nil
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// Installed is one cached model revision.
type Installed struct {
	Dir      string
	Manifest Manifest
	Size     int64     // bytes of the recorded files
	Variants []Variant // variants whose graphs are all present
}

// Installed lists the cached model revisions, sorted by repo and revision.
func (s *Store) Installed() ([]Installed, error) {
	pattern := filepath.Join(s.root, "models", "*", "*", "*", manifestName)
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	var out []Installed
	for _, p := range paths {
		dir := filepath.Dir(p)
		m, err := readManifest(dir)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		in := Installed{Dir: dir, Manifest: *m}
		for _, f := range m.Files {
			in.Size += f.Size
		}
		for _, v := range AllVariants {
			req, _, err := layoutFiles(m.Layout, v)
			if err != nil {
				continue
			}
			ok := true
			for _, r := range req {
				if _, has := m.file(r); !has {
					ok = false
				}
			}
			if ok {
				in.Variants = append(in.Variants, v)
			}
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Manifest.Repo != out[j].Manifest.Repo {
			return out[i].Manifest.Repo < out[j].Manifest.Repo
		}
		return out[i].Manifest.Revision < out[j].Manifest.Revision
	})
	return out, nil
}

// installedFor returns the cached revisions ref names: one revision when
// ref carries @revision (or revision is set), else every cached revision
// of the repository.
func (s *Store) installedFor(ref, revision string) (target, []Installed, error) {
	t, err := parseTarget(ref, revision)
	if err != nil {
		return target{}, nil, err
	}
	_, _, explicit := strings.Cut(ref, "@")
	explicit = explicit || revision != ""
	all, err := s.Installed()
	if err != nil {
		return t, nil, err
	}
	var out []Installed
	for _, in := range all {
		if !strings.EqualFold(in.Manifest.Repo, t.Repo) {
			continue
		}
		if explicit && in.Manifest.Revision != t.Revision && !strings.EqualFold(in.Manifest.Commit, t.Revision) {
			continue
		}
		out = append(out, in)
	}
	return t, out, nil
}

// Find returns the cached revisions of ref (see installedFor); an error
// naming the pull command when there are none.
func (s *Store) Find(ref, revision string) ([]Installed, error) {
	t, found, err := s.installedFor(ref, revision)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, &NotInstalledError{Ref: ref, Root: s.root}
	}
	// The revision the reference resolves to comes first.
	sort.SliceStable(found, func(i, j int) bool {
		return found[i].Manifest.Revision == t.Revision && found[j].Manifest.Revision != t.Revision
	})
	return found, nil
}

// Remove deletes the cached revisions ref names and returns their
// directories. Each is removed under its lock so a running download is
// not cut from under another process.
func (s *Store) Remove(ctx context.Context, ref, revision string) ([]string, error) {
	found, err := s.Find(ref, revision)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, in := range found {
		t := target{Repo: in.Manifest.Repo, Revision: in.Manifest.Revision}
		lock, err := acquireLock(ctx, s.lockPath(t), nil)
		if err != nil {
			return removed, err
		}
		// Drop the manifest first: a reader that races us sees "not
		// installed" rather than a manifest naming deleted files.
		err = os.Remove(filepath.Join(in.Dir, manifestName))
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			err = os.RemoveAll(in.Dir)
		}
		lock.release()
		if err != nil {
			return removed, fmt.Errorf("removing %s: %w", in.Dir, err)
		}
		removed = append(removed, in.Dir)
		// Tidy empty parents (owner/name), never the models root itself.
		repoDir := filepath.Dir(in.Dir)
		if os.Remove(repoDir) == nil {
			os.Remove(filepath.Dir(repoDir))
		}
	}
	return removed, nil
}

// VerifyResult is the outcome for one recorded file.
type VerifyResult struct {
	Dir     string
	Path    string
	Size    int64
	SHA256  string // recorded
	Problem string // "" when the file matches
}

// Verify re-hashes every recorded file of the cached revisions ref names.
func (s *Store) Verify(ctx context.Context, ref, revision string) ([]VerifyResult, error) {
	found, err := s.Find(ref, revision)
	if err != nil {
		return nil, err
	}
	var out []VerifyResult
	for _, in := range found {
		for _, f := range in.Manifest.Files {
			r := VerifyResult{Dir: in.Dir, Path: f.Path, Size: f.Size, SHA256: f.SHA256}
			p := filepath.Join(in.Dir, filepath.FromSlash(f.Path))
			sum, size, err := hashFile(ctx, p)
			switch {
			case ctx.Err() != nil:
				return out, ctx.Err()
			case errors.Is(err, fs.ErrNotExist):
				r.Problem = "missing"
			case err != nil:
				r.Problem = err.Error()
			case size != f.Size:
				r.Problem = fmt.Sprintf("size %d, recorded %d", size, f.Size)
			case sum != f.SHA256:
				r.Problem = fmt.Sprintf("sha256 %s, recorded %s", sum, f.SHA256)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

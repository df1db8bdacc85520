// Package inputs turns image arguments (files, globs, directories, "-" for
// a path list on stdin, http(s) URLs) into an ordered list of inputs, and
// opens them with limits. It is a library below both the command line
// (pkg/cli, which binds its flags) and the server.
package inputs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clip-go/clip/pkg/imageproc"
)

// Input is one image to process. Err is set when the argument could not be
// resolved (a missing file, a glob matching nothing): it is reported as an
// error record in input order, and the other inputs are still processed.
type Input struct {
	Name  string // file path or URL, as the user will see it in the output
	IsURL bool
	Err   error
	stdin io.Reader // image data on stdin ("-"), read by Fetcher.Open
}

// StdinName is the name of an image read from standard input.
const StdinName = "-"

// DefaultExtensions are the image file extensions taken from directories.
var DefaultExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif", ".avif"}

// Options control expansion.
type Options struct {
	Recursive bool     // descend into sub-directories
	Include   []string // globs on the base name or the path below the directory; default: image extensions
	Exclude   []string // globs excluded (checked after Include)
	NulSep    bool     // "-" reads NUL-separated paths instead of lines
	Stdin     io.Reader
	Offline   bool // URLs become error records instead of being fetched
}

// errOffline is the error of a URL input when the network may not be used.
var errOffline = errors.New("not fetched: offline mode (--offline or HF_HUB_OFFLINE=1) never touches the network")

// Expand resolves args in order. Directory walks and glob matches are
// sorted, so the result is deterministic; they skip hidden (dot) files and
// directories, which are taken only when named. A given path is checked
// (it exists, is a regular file, can be opened) so that a bad one becomes
// an error record before any model is loaded. "-" is standard input: image
// data (told by its magic bytes) is one image named "-", anything else a
// list of paths. Reading standard input stops when ctx is cancelled.
func Expand(ctx context.Context, args []string, opt Options) ([]Input, error) {
	var out []Input
	seenStdin := false
	for _, a := range args {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch {
		case a == "-":
			if seenStdin {
				return nil, errors.New(`"-" given twice`)
			}
			seenStdin = true
			in, err := expandStdin(ctx, opt)
			if err != nil {
				return nil, err
			}
			out = append(out, in...)
		default:
			out = append(out, expandOne(ctx, a, opt)...)
		}
	}
	return out, nil
}

// expandStdin is "-": one image when stdin starts with an image's magic
// bytes (`cat img.png | clip classify -`), else a list of paths.
func expandStdin(ctx context.Context, opt Options) ([]Input, error) {
	if opt.Stdin == nil {
		return nil, errors.New("reading paths from stdin: no standard input")
	}
	stdin := bufio.NewReaderSize(opt.Stdin, 64<<10)
	var head []byte
	if err := runCtx(ctx, func() error {
		var err error
		head, err = stdin.Peek(16)
		if errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull) {
			err = nil
		}
		return err
	}); err != nil {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	if imageproc.Sniff(head) != "" {
		return []Input{{Name: StdinName, stdin: stdin}}, nil
	}
	var names []string
	if err := runCtx(ctx, func() error {
		var err error
		names, err = readList(stdin, opt.NulSep)
		return err
	}); err != nil {
		return nil, fmt.Errorf("reading paths from stdin: %w", err)
	}
	var out []Input
	for _, n := range names {
		out = append(out, expandOne(ctx, n, opt)...)
	}
	return out, nil
}

func expandOne(ctx context.Context, a string, opt Options) []Input {
	if isURL(a) {
		if opt.Offline {
			return []Input{{Name: a, IsURL: true, Err: errOffline}}
		}
		return []Input{{Name: a, IsURL: true}}
	}
	if hasMeta(a) {
		matches, err := Glob(a)
		if err != nil {
			return []Input{{Name: a, Err: err}}
		}
		if len(matches) == 0 {
			return []Input{{Name: a, Err: errors.New("no file matches this pattern")}}
		}
		var out []Input
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && st.IsDir() {
				out = append(out, walkDir(ctx, m, opt)...)
				continue
			}
			out = append(out, checked(m))
		}
		return out
	}
	if st, err := os.Stat(a); err == nil && st.IsDir() {
		in := walkDir(ctx, a, opt)
		if len(in) == 0 {
			return []Input{{Name: a, Err: errors.New("directory has no matching images (use -r for sub-directories, --include for other extensions)")}}
		}
		return in
	}
	return []Input{checked(a)}
}

// AllFailed reports whether no input can be read: a non-empty list whose
// every argument failed to resolve. Commands then report the errors
// without loading (or downloading) a model.
func AllFailed(in []Input) bool {
	for _, i := range in {
		if i.Err == nil {
			return false
		}
	}
	return len(in) > 0
}

// checked is the input for a named file, with Err set when it is not a
// readable regular file. Opening cannot block: FIFOs are refused first.
func checked(path string) Input {
	if err := checkRegular(path); err != nil {
		return Input{Name: path, Err: err}
	}
	f, err := os.Open(path)
	if err != nil {
		return Input{Name: path, Err: cleanPathError(err)}
	}
	f.Close()
	return Input{Name: path}
}

// runCtx runs a read that may block (standard input from a terminal or a
// stalled pipe) and returns when it ends or ctx is cancelled, whichever is
// first. On cancellation the read is abandoned: it holds only the stream,
// which the exiting process closes.
func runCtx(ctx context.Context, read func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- read() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func isHidden(name string) bool { return len(name) > 1 && name[0] == '.' && name != ".." }

func cleanPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func walkDir(ctx context.Context, root string, opt Options) []Input {
	var out []Input
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			out = append(out, Input{Name: p, Err: cleanPathError(err)})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p != root && isHidden(d.Name()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && !opt.Recursive {
				return fs.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if !Selected(rel, opt.Include, opt.Exclude) {
			return nil
		}
		switch {
		case d.Type().IsRegular():
			out = append(out, Input{Name: p})
		case d.Type()&fs.ModeSymlink != 0:
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				return nil // not followed, as WalkDir does not
			}
			out = append(out, checked(p))
		default:
			// A FIFO would block the read forever, a device never end:
			// an error record says why the file named like an image
			// was not read.
			out = append(out, Input{Name: p, Err: notRegular(d.Type())})
		}
		return nil
	})
	if err != nil {
		out = append(out, Input{Name: root, Err: err})
	}
	return out // WalkDir visits in lexical order
}

// Selected reports whether a file (path relative to the walked directory)
// passes the include and exclude globs. A glob matches the base name, or
// the whole relative path when it contains a slash.
func Selected(rel string, include, exclude []string) bool {
	rel = filepath.ToSlash(rel)
	match := func(globs []string) bool {
		for _, g := range globs {
			target := path.Base(rel)
			if strings.Contains(g, "/") {
				target = rel
			}
			if ok, _ := matchPath(g, target); ok {
				return true
			}
		}
		return false
	}
	if len(include) > 0 {
		if !match(include) {
			return false
		}
	} else if !HasImageExtension(rel) {
		return false
	}
	return !match(exclude)
}

// HasImageExtension reports whether name ends in one of DefaultExtensions (any case).
func HasImageExtension(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range DefaultExtensions {
		if ext == e {
			return true
		}
	}
	return false
}

// ReadLines reads a newline-separated list, dropping a trailing "\r" and
// skipping blank lines.
func ReadLines(r io.Reader) ([]string, error) { return readList(r, false) }

func readList(r io.Reader, nul bool) ([]string, error) {
	if r == nil {
		return nil, errors.New("no standard input")
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	if nul {
		sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
			if i := bytes.IndexByte(data, 0); i >= 0 {
				return i + 1, data[:i], nil
			}
			if atEOF && len(data) > 0 {
				return len(data), data, nil
			}
			return 0, nil, nil
		})
	}
	var out []string
	for sc.Scan() {
		s := sc.Text()
		if !nul {
			s = strings.TrimRight(s, "\r")
			if strings.TrimSpace(s) == "" {
				continue
			}
		} else if s == "" {
			continue
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func hasMeta(s string) bool { return strings.ContainsAny(s, "*?[") }

// Glob expands a pattern with filepath.Match syntax per path segment, plus
// "**" for any number of directories. Matches are sorted.
func Glob(pattern string) ([]string, error) {
	if !strings.Contains(pattern, "**") {
		m, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("bad pattern: %w", err)
		}
		if !isHidden(filepath.Base(pattern)) {
			kept := m[:0]
			for _, p := range m {
				if !isHidden(filepath.Base(p)) {
					kept = append(kept, p)
				}
			}
			m = kept
		}
		sort.Strings(m)
		return m, nil
	}
	// Walk from the longest literal prefix directory.
	slashed := filepath.ToSlash(pattern)
	segs := strings.Split(slashed, "/")
	i := 0
	for i < len(segs) && !hasMeta(segs[i]) {
		i++
	}
	root := strings.Join(segs[:i], "/")
	if root == "" {
		root = "."
		if strings.HasPrefix(slashed, "/") {
			root = "/"
		}
	}
	if _, err := matchPath(slashed, ""); err != nil {
		return nil, fmt.Errorf("bad pattern: %w", err)
	}
	// Hidden entries are walked only when the pattern names one (".cache/**").
	namesHidden := false
	for _, seg := range segs {
		namesHidden = namesHidden || isHidden(seg)
	}
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p != root && isHidden(d.Name()) && !namesHidden {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		candidate := filepath.ToSlash(p)
		if root == "." && strings.HasPrefix(slashed, "./") && candidate != "." {
			candidate = "./" + candidate // WalkDir(".") yields "a.png", the pattern says "./"
		}
		if ok, _ := matchPath(slashed, candidate); ok && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// matchPath matches a slash-separated path against a pattern whose
// segments use path.Match syntax, and where a "**" segment matches zero or
// more whole segments.
func matchPath(pattern, name string) (bool, error) {
	ps := strings.Split(pattern, "/")
	ns := strings.Split(name, "/")
	if name == "" {
		ns = nil
	}
	for _, p := range ps { // validate every segment once
		if p != "**" {
			if _, err := path.Match(p, ""); err != nil {
				return false, err
			}
		}
	}
	var rec func(pi, ni int) bool
	rec = func(pi, ni int) bool {
		for pi < len(ps) {
			if ps[pi] == "**" {
				for k := ni; k <= len(ns); k++ {
					if rec(pi+1, k) {
						return true
					}
				}
				return false
			}
			if ni >= len(ns) {
				return false
			}
			if ok, _ := path.Match(ps[pi], ns[ni]); !ok {
				return false
			}
			pi++
			ni++
		}
		return ni == len(ns)
	}
	return rec(0, 0), nil
}

// Shard is a stable 1/N slice of the inputs: K of N (0 ≤ K < N).
type Shard struct{ K, N int }

// ParseShard parses "K/N" (K is 0-based, as Kubernetes' JOB_COMPLETION_INDEX).
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(s, "/")
	ki, err1 := strconv.Atoi(strings.TrimSpace(k))
	ni, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil || ni < 1 || ki < 0 || ki >= ni {
		return Shard{}, fmt.Errorf("--shard %q: want K/N with 0 <= K < N, e.g. 0/4 (K is 0-based like JOB_COMPLETION_INDEX)", s)
	}
	return Shard{K: ki, N: ni}, nil
}

// Keeps reports whether name belongs to this shard. The choice depends on
// the name alone (FNV-1a), so every job of a sharded run agrees on it
// without coordination, whatever order the inputs come in.
func (s Shard) Keeps(name string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()%uint64(s.N) == uint64(s.K)
}

// Fetcher reads inputs with limits: URLs with a timeout, a size cap and a
// content-type check; files and image data on stdin with ReadFile's checks.
type Fetcher struct {
	Client   *http.Client
	MaxBytes int64 // URL body limit (default 50 MiB)
	Timeout  time.Duration
	// MaxFileBytes caps files and stdin (0: no limit); CheckHeader, if
	// set, sees their first bytes before the rest is read.
	MaxFileBytes int64
	CheckHeader  func(prefix []byte) error
}

// Open returns the bytes of an input: a file's contents, stdin's image
// data or a URL's body.
func (f *Fetcher) Open(ctx context.Context, in Input) ([]byte, error) {
	if in.Err != nil {
		return nil, in.Err
	}
	if in.stdin != nil {
		var b []byte
		err := runCtx(ctx, func() error {
			var err error
			b, err = readCapped(ctx, in.stdin, 0, f.MaxFileBytes, f.CheckHeader)
			return err
		})
		return b, err
	}
	if !in.IsURL {
		return ReadFile(ctx, in.Name, f.MaxFileBytes, f.CheckHeader)
	}
	timeout := f.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.Name, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "image/*")
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "image/") && !strings.HasPrefix(ct, "application/octet-stream") {
		return nil, fmt.Errorf("content type %q is not an image", ct)
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = 50 << 20
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("image is %d bytes, over the %d-byte limit", resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("image is over the %d-byte limit", limit)
	}
	return b, nil
}

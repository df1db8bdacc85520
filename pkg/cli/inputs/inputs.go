// Package inputs turns the image arguments of clip commands (files, globs,
// directories, "-" for a path list on stdin, http(s) URLs) into an ordered
// list of inputs, and opens them with limits.
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

	"github.com/spf13/pflag"
)

// Input is one image to process. Err is set when the argument could not be
// resolved (a missing file, a glob matching nothing): it is reported as an
// error record in input order, and the other inputs are still processed.
type Input struct {
	Name  string // file path or URL, as the user will see it in the output
	IsURL bool
	Err   error
}

// DefaultExtensions are the image file extensions taken from directories.
var DefaultExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif", ".avif"}

// Options control expansion.
type Options struct {
	Recursive bool     // descend into sub-directories
	Include   []string // globs on the base name or the path below the directory; default: image extensions
	Exclude   []string // globs excluded (checked after Include)
	NulSep    bool     // "-" reads NUL-separated paths instead of lines
	Stdin     io.Reader
}

// Expand resolves args in order. Directory walks and glob matches are
// sorted, so the result is deterministic.
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
			names, err := readList(opt.Stdin, opt.NulSep)
			if err != nil {
				return nil, fmt.Errorf("reading paths from stdin: %w", err)
			}
			for _, n := range names {
				out = append(out, expandOne(ctx, n, opt)...)
			}
		default:
			out = append(out, expandOne(ctx, a, opt)...)
		}
	}
	return out, nil
}

func expandOne(ctx context.Context, a string, opt Options) []Input {
	if isURL(a) {
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
			out = append(out, Input{Name: m})
		}
		return out
	}
	st, err := os.Stat(a)
	if err != nil {
		return []Input{{Name: a, Err: cleanPathError(err)}}
	}
	if st.IsDir() {
		in := walkDir(ctx, a, opt)
		if len(in) == 0 {
			return []Input{{Name: a, Err: errors.New("directory has no matching images (use -r for sub-directories, --include for other extensions)")}}
		}
		return in
	}
	return []Input{{Name: a}}
}

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
		if d.IsDir() {
			if p != root && !opt.Recursive {
				return fs.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if Selected(rel, opt.Include, opt.Exclude) {
			out = append(out, Input{Name: p})
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
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		candidate := filepath.ToSlash(p)
		if root == "." && !strings.HasPrefix(slashed, "./") {
			candidate = strings.TrimPrefix(candidate, "./")
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

// Fetcher downloads URL inputs with a timeout, a size cap and a content-type check.
type Fetcher struct {
	Client   *http.Client
	MaxBytes int64
	Timeout  time.Duration
}

// Open returns the bytes of an input: a file's contents or a URL's body.
func (f *Fetcher) Open(ctx context.Context, in Input) ([]byte, error) {
	if !in.IsURL {
		return os.ReadFile(in.Name)
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

// Flags are the command-line flags that choose inputs, shared by the
// commands that take images.
type Flags struct {
	Recursive bool
	Include   []string
	Exclude   []string
	NullSep   bool
}

// Register adds -r, --include, --exclude and -0 to fs.
func (f *Flags) Register(fs *pflag.FlagSet) {
	fs.BoolVarP(&f.Recursive, "recursive", "r", false, "descend into sub-directories")
	fs.StringSliceVar(&f.Include, "include", nil, "only files matching these globs (default: image extensions)")
	fs.StringSliceVar(&f.Exclude, "exclude", nil, "skip files matching these globs")
	fs.BoolVarP(&f.NullSep, "null", "0", false, `"-" reads NUL-separated paths (find -print0)`)
}

// Options are the expansion options these flags give, reading "-" from stdin.
func (f *Flags) Options(stdin io.Reader) Options {
	return Options{Recursive: f.Recursive, Include: f.Include, Exclude: f.Exclude, NulSep: f.NullSep, Stdin: stdin}
}

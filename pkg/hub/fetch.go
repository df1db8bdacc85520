package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxRetryAfter bounds how long a server's Retry-After can make us wait.
const maxRetryAfter = 2 * time.Minute

// errStalled is the cancel cause when no byte arrived for StallTimeout.
var errStalled = errors.New("no data received within the stall timeout")

// DefaultMaxFileSize bounds the size a hub may announce for one file of a
// model not in the catalogue: the largest CLIP graphs (ViT-bigG in fp32)
// are under 11 GB, so 16 GiB leaves room and still refuses a runaway
// announcement before a byte is written.
const DefaultMaxFileSize = 16 << 30

// permanentError marks a failure that another attempt cannot fix (a
// redirect to a scheme we do not speak, a malformed answer, a file that
// cannot be verified): retry gives up at once.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(format string, args ...any) error {
	return &permanentError{fmt.Errorf(format, args...)}
}

// httpScheme refuses URLs (redirect targets) that are not http or https.
func httpScheme(u *url.URL, file string) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return permanent("%s: the hub redirected to %q, which is not an http(s) URL; refusing it", file, u.Redacted())
	}
	return nil
}

// remoteFile is what a HEAD on a resolve URL told us about one file.
type remoteFile struct {
	Path     string
	Size     int64  // -1 when the hub did not say
	SHA256   string // expected sha256 (LFS files), "" when unknown
	GitSHA1  string // expected git blob id (small files), "" when unknown
	Etag     string // normalized, as recorded in the manifest
	Commit   string // X-Repo-Commit
	URL      string // where to GET it: the resolve URL, or the CDN location it redirects to
	sendAuth bool   // whether the token may go to URL
}

// resolveURL is {endpoint}/{repo}/resolve/{revision}/{path}, the revision
// escaped as one path segment (refs/pr/1 → refs%2Fpr%2F1) like the hub
// clients do.
func (s *Store) resolveURL(repo, revision, file string) string {
	segs := strings.Split(file, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return s.endpoint + "/" + repo + "/resolve/" + url.PathEscape(revision) + "/" + strings.Join(segs, "/")
}

// newRequest builds a request with our headers; the token is attached
// only when withAuth.
func (s *Store) newRequest(ctx context.Context, method, u string, withAuth bool) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", s.userAgent)
	// The hub reports sizes of the stored bytes; a transparently
	// compressed answer would not match them.
	req.Header.Set("Accept-Encoding", "identity")
	if withAuth && s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	return req, nil
}

// headFile asks the hub for a file's metadata without following the
// redirect to the CDN, as huggingface_hub does: relative redirects (a
// renamed repository) are followed with the token; an absolute one ends
// the walk, its Location is where the bytes will be fetched, and the
// token goes there only if the host is the hub's own.
func (s *Store) headFile(ctx context.Context, repo, revision, file string) (*remoteFile, error) {
	start := s.resolveURL(repo, revision, file)
	u := start
	client := *s.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for hop := 0; hop < 10; hop++ {
		var resp *http.Response
		err := s.retry(ctx, "HEAD "+file, func(ctx context.Context, kick func()) error {
			req, err := s.newRequest(ctx, http.MethodHead, u, true)
			if err != nil {
				return err
			}
			r, err := client.Do(req)
			if err != nil {
				return err
			}
			r.Body.Close()
			if retryableStatus(r.StatusCode) {
				return httpError(r, u, repo, revision, file)
			}
			resp = r
			return nil
		})
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc := resp.Header.Get("Location")
			if loc == "" {
				return nil, fmt.Errorf("%s: HTTP %d redirect without a Location from %s", file, resp.StatusCode, u)
			}
			target, err := url.Parse(loc)
			if err != nil {
				return nil, fmt.Errorf("%s: bad redirect Location %q: %v", file, loc, err)
			}
			base, _ := url.Parse(u)
			next := base.ResolveReference(target)
			if err := httpScheme(next, file); err != nil {
				return nil, err
			}
			if target.Host == "" {
				u = next.String() // same host: a renamed repo; keep going with the token
				continue
			}
			rf, err := metadataFrom(resp, repo, revision, file)
			if err != nil {
				return nil, err
			}
			rf.URL = next.String()
			rf.sendAuth = sameHost(next, base)
			return rf, nil
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			rf, err := metadataFrom(resp, repo, revision, file)
			if err != nil {
				return nil, err
			}
			rf.URL = u
			rf.sendAuth = true
			return rf, nil
		default:
			return nil, httpError(resp, u, repo, revision, file)
		}
	}
	return nil, fmt.Errorf("%s: too many redirects starting at %s", file, start)
}

func sameHost(a, b *url.URL) bool { return strings.EqualFold(a.Host, b.Host) }

// metadataFrom reads the hub's headers: X-Linked-Etag/X-Linked-Size for
// LFS files (on the redirect itself), else ETag/Content-Length.
func metadataFrom(resp *http.Response, repo, revision, file string) (*remoteFile, error) {
	rf := &remoteFile{Path: file, Size: -1, Commit: resp.Header.Get("X-Repo-Commit")}
	linked := resp.Header.Get("X-Linked-Etag")
	etag := normalizeEtag(linked)
	if etag == "" {
		etag = normalizeEtag(resp.Header.Get("ETag"))
	}
	rf.Etag = etag
	switch {
	case isHex(etag, 64):
		rf.SHA256 = strings.ToLower(etag)
	case linked == "" && isHex(etag, 40):
		// A file kept in git itself: the ETag is its git blob id.
		rf.GitSHA1 = strings.ToLower(etag)
	}
	if rf.SHA256 == "" && rf.GitSHA1 == "" {
		// huggingface_hub refuses a file without an ETag; a file we cannot
		// verify could be anything, and the manifest would call it good.
		what := "no ETag or X-Linked-Etag"
		if etag != "" {
			what = fmt.Sprintf("ETag %q, which is neither a sha256 nor a git blob id", etag)
		}
		return nil, permanent("%s: the hub sent %s, so the file cannot be verified; refusing it (a mirror set with HF_ENDPOINT must pass the hub's ETag headers through)", file, what)
	}
	sizeHeader := resp.Header.Get("X-Linked-Size")
	if sizeHeader == "" && resp.StatusCode < 300 {
		sizeHeader = resp.Header.Get("Content-Length")
	}
	if sizeHeader != "" {
		n, err := strconv.ParseInt(sizeHeader, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: the hub sent an invalid size %q", file, sizeHeader)
		}
		rf.Size = n
	}
	return rf, nil
}

// normalizeEtag drops the weak prefix and the quotes.
func normalizeEtag(e string) string {
	e = strings.TrimSpace(e)
	e = strings.TrimPrefix(e, "W/")
	return strings.Trim(e, `"`)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func httpError(resp *http.Response, u, repo, revision, file string) *HTTPError {
	e := &HTTPError{
		Status: resp.StatusCode, URL: u, Repo: repo, File: file, Revision: revision,
		Code: resp.Header.Get("X-Error-Code"), Message: resp.Header.Get("X-Error-Message"),
	}
	// Retry-After in seconds (the HTTP-date form is not worth the code).
	if n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && n > 0 {
		e.retryAfter = time.Duration(n) * time.Second
	}
	return e
}

func retryableStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
}

// retryable reports whether err is worth another attempt: server errors,
// timeouts, stalls and broken connections, but not 4xx answers, checksum
// errors or the caller's own cancellation.
func retryable(parent context.Context, err error) bool {
	if err == nil || parent.Err() != nil {
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return retryableStatus(he.Status)
	}
	var ce *ChecksumError
	var pe *permanentError
	if errors.As(err, &ce) || errors.As(err, &pe) {
		return false
	}
	// A malformed answer (status line, header) will be malformed again.
	var tpe textproto.ProtocolError
	if errors.As(err, &tpe) || strings.Contains(err.Error(), "malformed HTTP") {
		return false
	}
	if errors.Is(err, errStalled) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	// A host that does not resolve (no network, a typo in HF_ENDPOINT),
	// a port nothing listens on, a network with no route: the next try
	// meets the same, so fail now with the reason.
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) {
		return false
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true // connection refused or reset, broken pipe
	}
	var ue *url.Error
	return errors.As(err, &ue) // transport failures other than the above
}

// retry runs op until it succeeds, fails for good, or the attempts run
// out, sleeping with exponential backoff and jitter in between. op gets
// a context that is cancelled (with errStalled) when it makes no progress
// for StallTimeout; it calls kick whenever it does.
func (s *Store) retry(ctx context.Context, what string, op func(ctx context.Context, kick func()) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = s.attempt(ctx, op)
		if err == nil {
			return nil
		}
		if !retryable(ctx, err) || attempt >= s.maxAttempts {
			if attempt > 1 && retryable(ctx, err) {
				return fmt.Errorf("%s: giving up after %d attempts: %w", what, attempt, err)
			}
			return err
		}
		wait := s.backoff << (attempt - 1)
		if wait > 30*time.Second {
			wait = 30 * time.Second
		}
		wait += time.Duration(rand.Int64N(int64(wait/4) + 1))
		var he *HTTPError
		if errors.As(err, &he) && he.retryAfter > wait {
			wait = min(he.retryAfter, maxRetryAfter)
		}
		s.logf("%s: %v; retrying in %s (attempt %d of %d)", what, err, wait.Round(time.Millisecond), attempt+1, s.maxAttempts)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (s *Store) attempt(ctx context.Context, op func(ctx context.Context, kick func()) error) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(s.stallTimeout, func() { cancel(errStalled) })
	defer timer.Stop()
	err := op(actx, func() { timer.Reset(s.stallTimeout) })
	if err != nil && errors.Is(context.Cause(actx), errStalled) && ctx.Err() == nil {
		return fmt.Errorf("%w (%s): %v", errStalled, s.stallTimeout, err)
	}
	return err
}

// downloadFile fetches rf into dest: bytes stream into dest+".part",
// resuming an earlier partial download with Range; the complete file is
// checked against the hub's digest and only then renamed into place. It
// returns the file's sha256 and size. maxSize bounds what the hub may
// announce, and what is read when it announces nothing.
func (s *Store) downloadFile(ctx context.Context, rf *remoteFile, dest, repo, revision string, maxSize int64) (string, int64, error) {
	if rf.Size > maxSize {
		// Nothing of it can be kept: a .part from an earlier attempt goes too.
		os.Remove(dest + ".part")
		os.Remove(dest + ".part.etag")
		return "", 0, permanent("%s: the hub announces %d bytes, more than the %d bytes a file of this model can plausibly hold; refusing it", rf.Path, rf.Size, maxSize)
	}
	sum, size, resumed, err := s.downloadOnce(ctx, rf, dest, repo, revision, maxSize)
	var ce *ChecksumError
	if err != nil && resumed && errors.As(err, &ce) {
		// The bytes kept from an earlier run may belong to another version
		// of the file; they are gone now, so one fresh download decides.
		s.logf("%v; downloading %s again from the start", err, rf.Path)
		sum, size, _, err = s.downloadOnce(ctx, rf, dest, repo, revision, maxSize)
	}
	return sum, size, err
}

// downloadOnce is one download of rf; resumed reports whether bytes from
// an earlier partial download were kept.
func (s *Store) downloadOnce(ctx context.Context, rf *remoteFile, dest, repo, revision string, maxSize int64) (sum string, size int64, resumed bool, err error) {
	part := dest + ".part"
	validatorPath := part + ".etag" // the GET's ETag, for If-Range on resume
	var prog io.WriteCloser
	defer func() {
		if prog != nil {
			prog.Close()
		}
	}()
	// Go's client drops the Authorization header itself if this GET is
	// redirected to another host; redirects to other schemes are refused
	// for good rather than retried.
	client := *s.client
	checkRedirect := client.CheckRedirect
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := httpScheme(req.URL, rf.Path); err != nil {
			return err
		}
		if checkRedirect != nil {
			return checkRedirect(req, via)
		}
		if len(via) >= 10 {
			return permanent("%s: more than 10 redirects", rf.Path)
		}
		return nil
	}
	// Read at most one byte more than the file may hold: that byte proves
	// the hub sent too much, and nothing beyond it reaches the disk.
	expected := maxSize
	if rf.Size >= 0 {
		expected = rf.Size
	}
	err = s.retry(ctx, "GET "+rf.Path, func(ctx context.Context, kick func()) error {
		offset := int64(0)
		if st, err := os.Stat(part); err == nil {
			offset = st.Size()
		}
		if rf.Size >= 0 && offset > rf.Size {
			offset = 0 // longer than the file: not ours
		}
		if rf.Size >= 0 && offset == rf.Size && offset > 0 {
			resumed = true
			return nil // complete from an earlier run; the checksum decides
		}
		req, err := s.newRequest(ctx, http.MethodGet, rf.URL, rf.sendAuth)
		if err != nil {
			return err
		}
		if offset > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
			if v, err := os.ReadFile(validatorPath); err == nil && len(v) > 0 && !strings.HasPrefix(string(v), "W/") {
				req.Header.Set("If-Range", string(v))
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		kick()
		flags := os.O_WRONLY | os.O_CREATE
		switch {
		case resp.StatusCode == http.StatusPartialContent && offset > 0:
			start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
			if !ok || start != offset {
				// Not the bytes we asked for: start over rather than splice.
				os.Remove(part)
				return &HTTPError{Status: 503, URL: rf.URL, Repo: repo, File: rf.Path, Revision: revision,
					Message: fmt.Sprintf("server answered Range bytes=%d- with Content-Range %q", offset, resp.Header.Get("Content-Range"))}
			}
			flags |= os.O_APPEND
			resumed = true
		case resp.StatusCode == http.StatusOK:
			// A fresh download, or the server ignored our Range/If-Range.
			flags |= os.O_TRUNC
			offset = 0
		case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
			os.Remove(part)
			return &HTTPError{Status: 503, URL: rf.URL, Repo: repo, File: rf.Path, Revision: revision, Message: "range not satisfiable; restarting"}
		default:
			return httpError(resp, rf.URL, repo, revision, rf.Path)
		}
		if v := resp.Header.Get("ETag"); v != "" {
			_ = os.WriteFile(validatorPath, []byte(v), 0o644)
		} else {
			os.Remove(validatorPath)
		}
		f, err := os.OpenFile(part, flags, 0o644)
		if err != nil {
			return err
		}
		if prog == nil && s.progress != nil {
			prog = s.progress(rf.Path, rf.Size, offset)
		}
		var w io.Writer = f
		if prog != nil {
			w = io.MultiWriter(f, prog)
		}
		n, copyErr := io.Copy(w, io.LimitReader(&kickReader{r: resp.Body, kick: kick}, expected-offset+1))
		if err := f.Close(); copyErr == nil {
			copyErr = err
		}
		if copyErr != nil {
			return copyErr
		}
		if offset+n > expected {
			os.Remove(part)
			os.Remove(validatorPath)
			if rf.Size >= 0 {
				return permanent("%s: the hub sent more than the %d bytes it announced; refusing it", rf.Path, rf.Size)
			}
			return permanent("%s: the hub sent more than %d bytes (the most a file of this model can plausibly hold); refusing it", rf.Path, maxSize)
		}
		if rf.Size >= 0 {
			if st, err := os.Stat(part); err == nil && st.Size() < rf.Size {
				return fmt.Errorf("%s: connection ended at %d of %d bytes: %w", rf.Path, st.Size(), rf.Size, io.ErrUnexpectedEOF)
			}
		}
		return nil
	})
	if err != nil {
		return "", 0, resumed, err
	}
	sum, gitSum, size, err := hashPart(ctx, part)
	if err != nil {
		return "", 0, resumed, err
	}
	var bad error
	switch {
	case rf.Size >= 0 && size != rf.Size:
		bad = fmt.Errorf("%s: downloaded %d bytes, the hub announced %d", rf.Path, size, rf.Size)
	case rf.SHA256 != "" && sum != rf.SHA256:
		bad = &ChecksumError{File: rf.Path, Algorithm: "sha256", Want: rf.SHA256, Got: sum}
	case rf.GitSHA1 != "" && gitSum != rf.GitSHA1:
		bad = &ChecksumError{File: rf.Path, Algorithm: "git-sha1", Want: rf.GitSHA1, Got: gitSum}
	}
	if bad != nil {
		// Never keep bytes that failed the check, not even for a resume.
		os.Remove(part)
		os.Remove(validatorPath)
		return "", 0, resumed, fmt.Errorf("download of %s from %s rejected: %w", rf.Path, repo, bad)
	}
	if err := os.Rename(part, dest); err != nil {
		return "", 0, resumed, err
	}
	os.Remove(validatorPath)
	return sum, size, resumed, nil
}

// contentRangeStart parses "bytes START-END/TOTAL".
func contentRangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes ")
	if !ok {
		return 0, false
	}
	startStr, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(startStr, 10, 64)
	return n, err == nil
}

// kickReader tells the stall watchdog about every chunk that arrives.
type kickReader struct {
	r    io.Reader
	kick func()
}

func (k *kickReader) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	if n > 0 {
		k.kick()
	}
	return n, err
}

// hashPart computes the sha256 and the git blob id of a finished .part
// file (and syncs it to disk before it is renamed into place).
func hashPart(ctx context.Context, p string) (sha string, gitSHA1 string, size int64, err error) {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return "", "", 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", "", 0, err
	}
	h := sha256.New()
	g := sha1.New()
	fmt.Fprintf(g, "blob %d\x00", st.Size())
	n, err := io.Copy(io.MultiWriter(h, g), &ctxReader{ctx: ctx, r: f})
	if err != nil {
		return "", "", 0, fmt.Errorf("hashing %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		return "", "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), hex.EncodeToString(g.Sum(nil)), n, nil
}

// hashFile returns a file's sha256 and size.
func hashFile(ctx context.Context, p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, &ctxReader{ctx: ctx, r: f})
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ctxReader stops a long read when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

package hub

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/hub/hubtest"
)

// partFiles lists the .part files left under root.
func partFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".part") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestDownloadStopsAfterAnnouncedSize: a CDN that streams far more than
// the size the hub announced is cut off one byte past it, the download
// fails at once (no retries), and no .part is left behind.
func TestDownloadStopsAfterAnnouncedSize(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	srv := hubtest.New(true, repo)
	defer srv.Close()
	const file = "onnx/vision_model.onnx"
	srv.AddFault(hubtest.Endless("cdn", file, 200<<20))
	root := t.TempDir()
	_, err := newTestStore(t, srv, storeConfig{root: root}).Resolve(context.Background(), "test/tiny-clip", FP32)
	if err == nil || !strings.Contains(err.Error(), "more than the") || !strings.Contains(err.Error(), file) {
		t.Fatalf("got %v, want an error saying the hub sent more than it announced for %s", err, file)
	}
	srv.Close() // waits for the handler, which logs the request when it ends
	if n := srv.Count("GET", "cdn", file); n != 1 {
		t.Errorf("%d GETs of %s, want 1 (an over-long answer is not retried)", n, file)
	}
	for _, r := range srv.Requests() {
		// The server writes until the client hangs up: what it managed to
		// send is the file plus socket buffers, far below the 200 MB.
		if r.File == file && r.BodyBytes > 32<<20 {
			t.Errorf("the client let the server send %d bytes of a %d-byte file", r.BodyBytes, len(repo.Files[file]))
		}
	}
	if p := partFiles(t, root); len(p) > 0 {
		t.Errorf(".part files left: %v", p)
	}
}

// TestImplausibleAnnouncedSizeRefused: a hub announcing 10^15 bytes is
// refused before any byte is fetched, and an earlier .part of the file
// (which can never be completed) is removed.
func TestImplausibleAnnouncedSizeRefused(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	srv := hubtest.New(false, repo)
	defer srv.Close()
	const file = "onnx/vision_model.onnx"
	srv.AddFault(hubtest.Header("HEAD", "resolve", file, map[string]string{"X-Linked-Size": "1000000000000000"}))
	root := t.TempDir()
	s := newTestStore(t, srv, storeConfig{root: root})
	dir := s.modelDir(target{Repo: "test/tiny-clip", Revision: "main"})
	part := filepath.Join(dir, filepath.FromSlash(file)) + ".part"
	if err := os.MkdirAll(filepath.Dir(part), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part, make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := s.Resolve(context.Background(), "test/tiny-clip", FP32)
	if err == nil || !strings.Contains(err.Error(), "1000000000000000") || !strings.Contains(err.Error(), "plausibly") {
		t.Fatalf("got %v, want the announced size refused", err)
	}
	if n := srv.Count("GET", "cdn", file); n != 0 {
		t.Errorf("%d GETs of a file announced as 10^15 bytes", n)
	}
	if p := partFiles(t, root); len(p) > 0 {
		t.Errorf(".part files left: %v", p)
	}
}

// TestCatalogueSizeBoundsDownload: for a catalogued model, a file cannot
// be larger than twice its variant's listed size.
func TestCatalogueSizeBoundsDownload(t *testing.T) {
	s := newTestStore(t, nil, storeConfig{})
	e, _ := LookupCatalogue(DefaultModel)
	if got, want := s.maxFileSizeFor(target{Entry: &e}, Quantized), 2*e.Variants[Quantized]; got != want {
		t.Errorf("bound for %s quantized: %d, want %d", e.Name, got, want)
	}
	if got := s.maxFileSizeFor(target{Repo: "someone/else"}, FP32); got != DefaultMaxFileSize {
		t.Errorf("bound for an uncatalogued repo: %d, want %d", got, int64(DefaultMaxFileSize))
	}
}

// TestFileWithoutDigestRefused: a file served with no ETag (nor
// X-Linked-Etag) cannot be verified: it is refused at once, as
// huggingface_hub refuses it, rather than cached and later called ok by
// `models verify`.
func TestFileWithoutDigestRefused(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"small file", "config.json"},
		{"LFS file", "onnx/text_model.onnx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := newTestRepo("test/tiny-clip")
			srv := hubtest.New(false, repo)
			defer srv.Close()
			srv.AddFault(hubtest.Header("HEAD", "resolve", tc.file, map[string]string{"ETag": "", "X-Linked-Etag": ""}))
			root := t.TempDir()
			_, err := newTestStore(t, srv, storeConfig{root: root}).Resolve(context.Background(), "test/tiny-clip", FP32)
			if err == nil || !strings.Contains(err.Error(), "cannot be verified") || !strings.Contains(err.Error(), tc.file) {
				t.Fatalf("got %v, want %s refused as unverifiable", err, tc.file)
			}
			if n := srv.Count("HEAD", "resolve", tc.file); n != 1 {
				t.Errorf("%d HEADs of %s, want 1 (not retried)", n, tc.file)
			}
			if m, _ := filepath.Glob(filepath.Join(root, "models", "*", "*", "*", filepath.FromSlash(tc.file))); len(m) > 0 {
				t.Errorf("unverified file cached: %v", m)
			}
		})
	}
}

// TestPermanentErrorsFailAtOnce: answers no retry can fix end the pull
// after one request, not after MaxAttempts.
func TestPermanentErrorsFailAtOnce(t *testing.T) {
	const file = "onnx/vision_model.onnx"
	for _, tc := range []struct {
		name  string
		fault hubtest.Fault
		kind  string // where to count the requests
		want  string
	}{
		{"HEAD redirects to file://", hubtest.Header("HEAD", "resolve", file, map[string]string{"Location": "file:///etc/passwd"}), "resolve", "not an http(s) URL"},
		{"CDN redirects to file://", func(w http.ResponseWriter, r *http.Request, kind, f string) (http.ResponseWriter, bool) {
			if kind != "cdn" || f != file {
				return w, false
			}
			w.Header().Set("Location", "file:///etc/passwd")
			w.WriteHeader(http.StatusFound)
			return w, true
		}, "cdn", "not an http(s) URL"},
		{"malformed answer", hubtest.Malformed("cdn", file), "cdn", "malformed"},
		{"404 from the CDN", hubtest.Status("cdn", file, http.StatusNotFound, -1), "cdn", "404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := hubtest.New(true, newTestRepo("test/tiny-clip"))
			defer srv.Close()
			srv.AddFault(tc.fault)
			_, err := newTestStore(t, srv, storeConfig{tries: 4}).Resolve(context.Background(), "test/tiny-clip", FP32)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			method := "GET"
			if tc.kind == "resolve" {
				method = "HEAD"
			}
			if n := srv.Count(method, tc.kind, file); n != 1 {
				t.Errorf("%d %s requests of %s, want 1", n, tc.kind, file)
			}
		})
	}
}

// TestRevisionsKeptApart: feature/x and feature--x are two revisions and
// get two cache directories; a directory an earlier version made for
// feature/x (named feature--x) is still found, and moved to its new name.
func TestRevisionsKeptApart(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	repo.Branches = []string{"feature/x", "feature--x"}
	srv := hubtest.New(false, repo)
	defer srv.Close()
	root := t.TempDir()
	s := newTestStore(t, srv, storeConfig{root: root})
	slash, err := s.Resolve(context.Background(), "test/tiny-clip@feature/x", FP32)
	if err != nil {
		t.Fatal(err)
	}
	dashes, err := s.Resolve(context.Background(), "test/tiny-clip@feature--x", FP32)
	if err != nil {
		t.Fatal(err)
	}
	if slash.Dir == dashes.Dir {
		t.Fatalf("feature/x and feature--x share the cache directory %s", slash.Dir)
	}
	if slash.Revision != "feature/x" || dashes.Revision != "feature--x" {
		t.Errorf("revisions %q and %q", slash.Revision, dashes.Revision)
	}

	// The layout of earlier versions: feature/x cached as feature--x.
	if err := os.RemoveAll(dashes.Dir); err != nil {
		t.Fatal(err)
	}
	legacy := filepath.Join(filepath.Dir(slash.Dir), "feature--x")
	if err := os.Rename(slash.Dir, legacy); err != nil {
		t.Fatal(err)
	}
	offline := newTestStore(t, srv, storeConfig{root: root, offline: true})
	again, err := offline.Resolve(context.Background(), "test/tiny-clip@feature/x", FP32)
	if err != nil {
		t.Fatalf("feature/x cached by an earlier version: %v", err)
	}
	if again.Dir != slash.Dir || again.Revision != "feature/x" {
		t.Errorf("got %s at %q, want %s at feature/x", again.Dir, again.Revision, slash.Dir)
	}
	assertFilesMatch(t, again, repo.Files)
	if _, err := offline.Resolve(context.Background(), "test/tiny-clip@feature--x", FP32); err == nil {
		t.Error("feature--x resolves offline to feature/x's files")
	}
}

// TestResolvePartThenWhole: resolving the tokenizer part fetches only the
// tokenizer files; resolving the whole model later fetches the rest and
// not those again.
func TestResolvePartThenWhole(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	srv := hubtest.New(false, repo)
	defer srv.Close()
	s := newTestStore(t, srv, storeConfig{})
	lm, err := s.ResolvePart(context.Background(), "test/tiny-clip", FP32, TokenizerFiles)
	if err != nil {
		t.Fatal(err)
	}
	if lm.TokenizerPath == "" || lm.VisionPath != "" || lm.PreprocessorPath != "" {
		t.Errorf("tokenizer part: tokenizer %q, vision %q, preprocessor %q", lm.TokenizerPath, lm.VisionPath, lm.PreprocessorPath)
	}
	for _, r := range srv.Requests() {
		if r.Kind != "api" && !TokenizerFiles.wants(r.File) {
			t.Errorf("tokenizer part requested %s %s", r.Method, r.File)
		}
	}
	full, err := s.Resolve(context.Background(), "test/tiny-clip", FP32)
	if err != nil {
		t.Fatal(err)
	}
	assertFilesMatch(t, full, repo.Files)
	if full.VisionPath == "" || full.TextPath == "" {
		t.Error("the whole model lacks its graphs")
	}
	if n := srv.Count("GET", "resolve", "tokenizer.json"); n != 1 {
		t.Errorf("tokenizer.json fetched %d times, want once", n)
	}
}

package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clip-go/clip/pkg/hub/hubtest"
)

const testCommit = "4f6c2a0e9d1b3c5a7e9f0b2d4c6e8a0b1c3d5e7f"

// generated returns deterministic pseudo-random bytes; the seed keeps
// files distinct.
func generated(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// testRepoFiles is the model the fake hub serves: the tiny-shapes fixture
// when it is there, else generated files in the same layout (graphs larger
// than one read buffer, so cuts land mid-file).
func testRepoFiles() map[string][]byte {
	if files, err := loadDir(tinyShapesDir); err == nil {
		files["README.md"] = []byte("# not a model file\n")
		return files
	}
	return map[string][]byte{
		"onnx/vision_model.onnx":           generated(1, 300_000),
		"onnx/text_model.onnx":             generated(2, 200_000),
		"onnx/vision_model_quantized.onnx": generated(3, 80_000),
		"onnx/text_model_quantized.onnx":   generated(4, 60_000),
		"config.json":                      []byte(`{"architectures":["CLIPModel"],"model_type":"clip","projection_dim":512,"vision_config":{"image_size":224,"patch_size":32}}`),
		"preprocessor_config.json":         []byte(`{"crop_size":224,"image_mean":[0.48145466,0.4578275,0.40821073]}`),
		"tokenizer.json":                   generated(5, 40_000),
		"tokenizer_config.json":            []byte(`{"model_max_length":77}`),
		"special_tokens_map.json":          []byte(`{"eos_token":"<|endoftext|>"}`),
		"vocab.json":                       generated(6, 20_000),
		"merges.txt":                       generated(7, 10_000),
		"README.md":                        []byte("# not a model file\n"),
	}
}

func newTestRepo(id string) *hubtest.Repo {
	return &hubtest.Repo{ID: id, Commit: testCommit, Files: testRepoFiles()}
}

type storeConfig struct {
	root    string
	env     map[string]string
	offline bool
	token   string
	noEnd   bool // leave Endpoint empty (HF_ENDPOINT test)
	tries   int
	stall   time.Duration
}

func newTestStore(t *testing.T, srv *hubtest.Server, c storeConfig) *Store {
	t.Helper()
	if c.root == "" {
		c.root = t.TempDir()
	}
	if c.tries == 0 {
		c.tries = 4
	}
	if c.stall == 0 {
		c.stall = 5 * time.Second
	}
	endpoint := ""
	if srv != nil && !c.noEnd {
		endpoint = srv.URL()
	}
	s, err := NewStore(StoreOptions{
		Root: c.root, Endpoint: endpoint, Token: c.token, Offline: c.offline,
		HTTPClient:  &http.Client{},
		Getenv:      func(k string) string { return c.env[k] }, // isolated from the real environment
		MaxAttempts: c.tries, RetryBackoff: time.Millisecond, StallTimeout: c.stall,
		Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertFilesMatch checks every file of lm against the bytes the server holds.
func assertFilesMatch(t *testing.T, lm *LocalModel, want map[string][]byte) {
	t.Helper()
	for _, f := range lm.Files {
		got, err := os.ReadFile(filepath.Join(lm.Dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want[f.Path]) {
			t.Errorf("%s: content differs from the served file", f.Path)
		}
		if f.SHA256 != hubtest.SHA256(want[f.Path]) {
			t.Errorf("%s: recorded sha256 %s, served file's is %s", f.Path, f.SHA256, hubtest.SHA256(want[f.Path]))
		}
	}
}

func noPartFiles(t *testing.T, root string) {
	t.Helper()
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && (strings.HasSuffix(p, ".part") || strings.HasSuffix(p, ".part.etag")) {
			t.Errorf("leftover partial file %s", p)
		}
		return nil
	})
}

func TestPullFreshFromListing(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	srv := hubtest.New(false, repo)
	defer srv.Close()
	s := newTestStore(t, srv, storeConfig{})

	lm, err := s.Resolve(context.Background(), "test/tiny-clip", FP32)
	if err != nil {
		t.Fatal(err)
	}
	if lm.Layout != LayoutHF || lm.Commit != testCommit || lm.Revision != "main" || lm.ID != "test/tiny-clip" {
		t.Errorf("got layout %q commit %q revision %q id %q", lm.Layout, lm.Commit, lm.Revision, lm.ID)
	}
	if lm.VisionPath != filepath.Join(lm.Dir, "onnx", "vision_model.onnx") || lm.TextPath != filepath.Join(lm.Dir, "onnx", "text_model.onnx") {
		t.Errorf("paths: vision %q text %q", lm.VisionPath, lm.TextPath)
	}
	if lm.TokenizerPath == "" || lm.PreprocessorPath == "" || lm.ConfigPath == "" {
		t.Errorf("support paths missing: %+v", lm)
	}
	if lm.Dir != filepath.Join(s.Root(), "models", "test", "tiny-clip", "main") {
		t.Errorf("dir %s", lm.Dir)
	}
	if len(lm.Files) != 9 { // 2 graphs + 7 support files; README and other variants are not pulled
		t.Errorf("got %d files: %+v", len(lm.Files), lm.Files)
	}
	assertFilesMatch(t, lm, repo.Files)
	noPartFiles(t, s.Root())
	if n := srv.Count("GET", "resolve", "onnx/vision_model_quantized.onnx") + srv.Count("GET", "cdn", "onnx/vision_model_quantized.onnx"); n != 0 {
		t.Errorf("another variant was downloaded (%d requests)", n)
	}
	// Files were fetched at the listed commit, not at "main".
	for _, r := range srv.Requests() {
		if r.Kind == "resolve" && !strings.Contains(r.Path, "/resolve/"+testCommit+"/") {
			t.Errorf("request not pinned to the commit: %s", r.Path)
		}
	}

	// A second resolve is served from the cache without any request.
	srv.ResetLog()
	if _, err := s.Resolve(context.Background(), "test/tiny-clip", FP32); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("cached resolve made %d requests", n)
	}
	// Another variant adds its graphs at the same commit.
	lq, err := s.Resolve(context.Background(), "test/tiny-clip@main", Quantized)
	if err != nil {
		t.Fatal(err)
	}
	if lq.VisionPath != filepath.Join(lm.Dir, "onnx", "vision_model_quantized.onnx") {
		t.Errorf("quantized vision path %q", lq.VisionPath)
	}
	assertFilesMatch(t, lq, repo.Files)
}

func TestCatalogueEntryPinnedRevision(t *testing.T) {
	e, ok := LookupCatalogue(DefaultModel)
	if !ok {
		t.Fatal("default model not in the catalogue")
	}
	files := testRepoFiles()
	delete(files, "special_tokens_map.json") // an optional file the hub lacks
	repo := &hubtest.Repo{ID: e.Repo, Commit: e.Revision, Files: files}
	srv := hubtest.New(false, repo)
	defer srv.Close()
	s := newTestStore(t, srv, storeConfig{})
	lm, err := s.Resolve(context.Background(), "", FP32)
	if err != nil {
		t.Fatal(err)
	}
	if lm.Name != DefaultModel || lm.Commit != e.Revision || lm.Revision != e.Revision {
		t.Errorf("name %q commit %q revision %q", lm.Name, lm.Commit, lm.Revision)
	}
	if n := srv.Count("GET", "api", ""); n != 0 {
		t.Errorf("a catalogue model with a fixed file list used the listing API %d times", n)
	}
	assertFilesMatch(t, lm, repo.Files)
	m, err := readManifest(lm.Dir)
	if err != nil || m == nil {
		t.Fatal(err)
	}
	if !m.isAbsent("special_tokens_map.json") {
		t.Errorf("404 on an optional file not recorded as absent: %+v", m.Absent)
	}
	// Complete now: the absent file does not make later runs ask again.
	srv.ResetLog()
	if _, err := s.Resolve(context.Background(), "clip-vit-base-patch32", FP32); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests for a complete cached model", n)
	}
	// A required file the hub lacks is an error naming it.
	delete(repo.Files, "onnx/vision_model_fp16.onnx")
	delete(repo.Files, "onnx/text_model_fp16.onnx")
	_, err = s.Resolve(context.Background(), DefaultModel, FP16)
	if err == nil || !strings.Contains(err.Error(), "onnx/vision_model_fp16.onnx") || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing fp16 graph: got %v", err)
	}
}

func TestResumeAfterCut(t *testing.T) {
	const file = "onnx/vision_model.onnx"
	repo := newTestRepo("test/tiny-clip")
	size := int64(len(repo.Files[file]))
	const cut = 70_000

	t.Run("within one run", func(t *testing.T) {
		srv := hubtest.New(false, repo)
		defer srv.Close()
		srv.AddFault(hubtest.CutCDN(file, cut, 1))
		s := newTestStore(t, srv, storeConfig{})
		lm, err := s.Resolve(context.Background(), "test/tiny-clip", FP32)
		if err != nil {
			t.Fatal(err)
		}
		assertFilesMatch(t, lm, repo.Files)
		assertResumed(t, srv, file, cut, size)
	})
	t.Run("across runs", func(t *testing.T) {
		srv := hubtest.New(false, repo)
		defer srv.Close()
		srv.AddFault(hubtest.CutCDN(file, cut, 1))
		root := t.TempDir()
		_, err := newTestStore(t, srv, storeConfig{root: root, tries: 1}).Resolve(context.Background(), "test/tiny-clip", FP32)
		if err == nil {
			t.Fatal("a cut download with one attempt succeeded")
		}
		part := filepath.Join(root, "models", "test", "tiny-clip", "main", "onnx", "vision_model.onnx.part")
		if st, err := os.Stat(part); err != nil || st.Size() != cut {
			t.Fatalf("partial file after the cut: %v %v", st, err)
		}
		if _, err := os.Stat(strings.TrimSuffix(part, ".part")); err == nil {
			t.Fatal("a partial download was put in place")
		}
		lm, err := newTestStore(t, srv, storeConfig{root: root}).Resolve(context.Background(), "test/tiny-clip", FP32)
		if err != nil {
			t.Fatal(err)
		}
		assertFilesMatch(t, lm, repo.Files)
		assertResumed(t, srv, file, cut, size)
		noPartFiles(t, root)
	})
	t.Run("stale partial file from another version", func(t *testing.T) {
		srv := hubtest.New(false, repo)
		defer srv.Close()
		root := t.TempDir()
		part := filepath.Join(root, "models", "test", "tiny-clip", "main", "onnx", "vision_model.onnx.part")
		os.MkdirAll(filepath.Dir(part), 0o755)
		os.WriteFile(part, generated(99, cut), 0o644)
		lm, err := newTestStore(t, srv, storeConfig{root: root}).Resolve(context.Background(), "test/tiny-clip", FP32)
		if err != nil {
			t.Fatal(err)
		}
		assertFilesMatch(t, lm, repo.Files)
		var ranges []string
		for _, r := range srv.Requests() {
			if r.Kind == "cdn" && r.File == file && r.Method == "GET" {
				ranges = append(ranges, r.Range)
			}
		}
		if len(ranges) != 2 || ranges[0] != fmt.Sprintf("bytes=%d-", cut) || ranges[1] != "" {
			t.Errorf("GET ranges %q: want a resume, then (after the checksum failed) a full download", ranges)
		}
	})
	t.Run("server ignores Range", func(t *testing.T) {
		srv := hubtest.New(false, repo)
		defer srv.Close()
		srv.AddFault(hubtest.CutCDN(file, cut, 1))
		srv.AddFault(func(w http.ResponseWriter, r *http.Request, kind, f string) (http.ResponseWriter, bool) {
			r.Header.Del("Range") // answer 200 with the whole body
			return w, false
		})
		s := newTestStore(t, srv, storeConfig{})
		lm, err := s.Resolve(context.Background(), "test/tiny-clip", FP32)
		if err != nil {
			t.Fatal(err)
		}
		assertFilesMatch(t, lm, repo.Files)
	})
}

// assertResumed checks the second GET of file asked for the rest only and
// that no byte was sent twice.
func assertResumed(t *testing.T, srv *hubtest.Server, file string, cut, size int64) {
	t.Helper()
	var gets []hubtest.Request
	for _, r := range srv.Requests() {
		if r.Kind == "cdn" && r.File == file && r.Method == "GET" {
			gets = append(gets, r)
		}
	}
	if len(gets) != 2 {
		t.Fatalf("%d GETs of %s, want 2: %+v", len(gets), file, gets)
	}
	if gets[0].Range != "" {
		t.Errorf("first GET had Range %q", gets[0].Range)
	}
	if want := fmt.Sprintf("bytes=%d-", cut); gets[1].Range != want {
		t.Errorf("resume Range %q, want %q", gets[1].Range, want)
	}
	if gets[1].IfRange == "" {
		t.Errorf("resume without If-Range")
	}
	if gets[1].Status != http.StatusPartialContent {
		t.Errorf("resume status %d", gets[1].Status)
	}
	if total := gets[0].BodyBytes + gets[1].BodyBytes; total != size {
		t.Errorf("%d body bytes sent for a %d-byte file", total, size)
	}
}

func TestCorruptDownloadRejected(t *testing.T) {
	for _, tc := range []struct{ kind, file, algo string }{
		{"cdn", "onnx/vision_model.onnx", "sha256"}, // LFS file: X-Linked-Etag
		{"resolve", "tokenizer.json", "git-sha1"},   // small file: git blob id in ETag
	} {
		t.Run(tc.file, func(t *testing.T) {
			repo := newTestRepo("test/tiny-clip")
			srv := hubtest.New(false, repo)
			defer srv.Close()
			srv.AddFault(hubtest.Corrupt(tc.kind, tc.file, -1))
			s := newTestStore(t, srv, storeConfig{})
			_, err := s.Resolve(context.Background(), "test/tiny-clip", FP32)
			var ce *ChecksumError
			if !errors.As(err, &ce) || ce.File != tc.file || ce.Algorithm != tc.algo {
				t.Fatalf("got %v, want a %s checksum error for %s", err, tc.algo, tc.file)
			}
			dir := filepath.Join(s.Root(), "models", "test", "tiny-clip", "main")
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(tc.file))); err == nil {
				t.Error("corrupt file was cached")
			}
			noPartFiles(t, s.Root())
			if m, _ := readManifest(dir); m != nil {
				if _, ok := m.file(tc.file); ok {
					t.Error("corrupt file recorded in the manifest")
				}
			}
			// Once the server is healthy the file is fetched afresh.
			srv.ClearFaults()
			lm, err := s.Resolve(context.Background(), "test/tiny-clip", FP32)
			if err != nil {
				t.Fatal(err)
			}
			assertFilesMatch(t, lm, repo.Files)
		})
	}
}

func TestConcurrentPullsDownloadOnce(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	srv := hubtest.New(false, repo)
	defer srv.Close()
	// Slow the bytes down so the two runs overlap.
	srv.AddFault(hubtest.Delay("cdn", "", 100*time.Millisecond, -1))
	root := t.TempDir()
	var wg sync.WaitGroup
	results := make([]*LocalModel, 3)
	errs := make([]error, 3)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newTestStore(t, srv, storeConfig{root: root})
			results[i], errs[i] = s.Resolve(context.Background(), "test/tiny-clip", FP32)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		assertFilesMatch(t, results[i], repo.Files)
	}
	for _, f := range results[0].Files {
		kind := "resolve"
		if strings.HasSuffix(f.Path, ".onnx") {
			kind = "cdn"
		}
		if n := srv.Count("GET", kind, f.Path); n != 1 {
			t.Errorf("%s downloaded %d times", f.Path, n)
		}
	}
}

func TestOffline(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	srv := hubtest.New(false, repo)
	defer srv.Close()
	root := t.TempDir()
	if _, err := newTestStore(t, srv, storeConfig{root: root}).Resolve(context.Background(), "test/tiny-clip", FP32); err != nil {
		t.Fatal(err)
	}
	srv.ResetLog()
	for _, tc := range []struct {
		name string
		cfg  storeConfig
	}{
		{"option", storeConfig{offline: true}},
		{"HF_HUB_OFFLINE", storeConfig{env: map[string]string{"HF_HUB_OFFLINE": "1"}}},
	} {
		t.Run(tc.name+"/hit", func(t *testing.T) {
			c := tc.cfg
			c.root = root
			lm, err := newTestStore(t, srv, c).Resolve(context.Background(), "test/tiny-clip", FP32)
			if err != nil {
				t.Fatal(err)
			}
			assertFilesMatch(t, lm, repo.Files)
		})
		t.Run(tc.name+"/miss", func(t *testing.T) {
			c := tc.cfg
			c.root = root
			_, err := newTestStore(t, srv, c).Resolve(context.Background(), "test/tiny-clip", Quantized)
			var ni *NotInstalledError
			if !errors.As(err, &ni) {
				t.Fatalf("got %v, want NotInstalledError", err)
			}
			if !strings.Contains(err.Error(), "clip models pull test/tiny-clip --variant quantized") {
				t.Errorf("error does not say how to fetch the model: %v", err)
			}
			c.root = t.TempDir()
			_, err = newTestStore(t, srv, c).Resolve(context.Background(), "", FP32)
			if !errors.As(err, &ni) || !strings.Contains(err.Error(), "clip models pull "+DefaultModel) {
				t.Errorf("default model offline miss: %v", err)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("offline store made %d requests", n)
	}
}

// TestOddListingNamesIgnored: a listing that also names files clip does
// not need, with names that must never become paths (traversal, absolute,
// backslashes, drive letters), does not stop the pull; those names are
// never requested and nothing lands outside the model directory.
func TestOddListingNamesIgnored(t *testing.T) {
	for _, evil := range []string{"../../../evil.onnx", "onnx/../../evil.onnx", "/etc/evil", `onnx\..\evil.onnx`, "C:/evil"} {
		t.Run(evil, func(t *testing.T) {
			repo := newTestRepo("test/tiny-clip")
			repo.ExtraListing = []string{evil}
			srv := hubtest.New(false, repo)
			defer srv.Close()
			root := t.TempDir()
			s := newTestStore(t, srv, storeConfig{root: filepath.Join(root, "cache")})
			lm, err := s.Resolve(context.Background(), "test/tiny-clip", FP32)
			if err != nil {
				t.Fatalf("a listing with %q besides the model's files: %v", evil, err)
			}
			assertFilesMatch(t, lm, repo.Files)
			for _, r := range srv.Requests() {
				if strings.Contains(r.Path, "evil") {
					t.Errorf("requested %s %s", r.Method, r.Path)
				}
			}
			if m, _ := filepath.Glob(filepath.Join(root, "*evil*")); len(m) > 0 {
				t.Errorf("files outside the cache: %v", m)
			}
		})
	}
}

func TestSafeRepoPath(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{"onnx/vision_model.onnx", true},
		{"config.json", true},
		{"visual/preprocess_cfg.json", true},
		{"", false},
		{"..", false},
		{"../x", false},
		{"a/../../x", false},
		{"a/./b", false},
		{"a//b", false},
		{"/abs", false},
		{`a\b`, false},
		{"c:x", false},
		{"a/b/", false},
		{"a\x00b", false},
	} {
		if err := SafeRepoPath(tc.p); (err == nil) != tc.ok {
			t.Errorf("SafeRepoPath(%q) = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

func TestVerifyCatchesFlippedByte(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	srv := hubtest.New(false, repo)
	defer srv.Close()
	s := newTestStore(t, srv, storeConfig{})
	lm, err := s.Resolve(context.Background(), "test/tiny-clip", FP32)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Verify(context.Background(), "test/tiny-clip", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Problem != "" {
			t.Errorf("fresh pull: %s: %s", r.Path, r.Problem)
		}
	}
	f, err := os.OpenFile(lm.TextPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	f.ReadAt(b, 12345)
	b[0] ^= 0x01
	f.WriteAt(b, 12345)
	f.Close()
	res, err = s.Verify(context.Background(), "test/tiny-clip", "")
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, r := range res {
		if r.Problem != "" {
			bad++
			if r.Path != "onnx/text_model.onnx" || !strings.Contains(r.Problem, "sha256") {
				t.Errorf("unexpected problem %s: %s", r.Path, r.Problem)
			}
		}
	}
	if bad != 1 {
		t.Errorf("%d problems, want 1", bad)
	}
}

func TestTokenAndRedirects(t *testing.T) {
	for _, separate := range []bool{false, true} {
		t.Run(fmt.Sprintf("separateCDN=%v", separate), func(t *testing.T) {
			repo := newTestRepo("private/tiny-clip")
			repo.Gated = true
			srv := hubtest.New(separate, repo)
			defer srv.Close()
			srv.Token = "hf_testtoken"

			_, err := newTestStore(t, srv, storeConfig{}).Resolve(context.Background(), "private/tiny-clip", FP32)
			var he *HTTPError
			if !errors.As(err, &he) || he.Status != 401 || !strings.Contains(err.Error(), "HF_TOKEN") {
				t.Fatalf("no token: got %v", err)
			}
			srv.ResetLog()
			lm, err := newTestStore(t, srv, storeConfig{env: map[string]string{"HF_TOKEN": "hf_testtoken"}}).Resolve(context.Background(), "private/tiny-clip", FP32)
			if err != nil {
				t.Fatal(err)
			}
			assertFilesMatch(t, lm, repo.Files)
			for _, r := range srv.Requests() {
				switch {
				case r.Kind == "cdn" && separate && r.Authorization != "":
					t.Errorf("token sent to the CDN host %s", r.Host)
				case r.Kind == "cdn" && !separate && r.Authorization != "Bearer hf_testtoken":
					t.Errorf("token not sent to a same-host redirect target (huggingface_hub keeps it): %q", r.Authorization)
				case r.Kind != "cdn" && r.Authorization != "Bearer hf_testtoken":
					t.Errorf("%s %s without the bearer token", r.Method, r.Path)
				}
			}
		})
	}
}

func TestHFEndpointHonoured(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	srv := hubtest.New(false, repo)
	defer srv.Close()
	s := newTestStore(t, srv, storeConfig{noEnd: true, env: map[string]string{"HF_ENDPOINT": srv.URL() + "/"}})
	if s.Endpoint() != srv.URL() {
		t.Errorf("endpoint %q", s.Endpoint())
	}
	if _, err := s.Resolve(context.Background(), "test/tiny-clip", FP32); err != nil {
		t.Fatal(err)
	}
	if len(srv.Requests()) == 0 {
		t.Error("no request reached HF_ENDPOINT")
	}
}

func TestHubErrors(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	for _, tc := range []struct {
		name, ref string
		fault     hubtest.Fault
		want      []string
	}{
		{"unknown repo", "nobody/nothing", nil, []string{"repository nobody/nothing not found"}},
		{"unknown revision", "test/tiny-clip@v9", nil, []string{`revision "v9" not found in test/tiny-clip`}},
		{"missing file", "test/tiny-clip", hubtest.Status("resolve", "onnx/text_model.onnx", 404, -1), []string{`file "onnx/text_model.onnx"`, "404"}},
		{"forbidden", "test/tiny-clip", hubtest.Status("resolve", "config.json", 403, -1), []string{"HTTP 403", "HF_TOKEN"}},
		{"server keeps failing", "test/tiny-clip", hubtest.Status("resolve", "config.json", 502, -1), []string{"giving up after 3 attempts", "502"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := hubtest.New(false, repo)
			defer srv.Close()
			if tc.fault != nil {
				srv.AddFault(tc.fault)
			}
			_, err := newTestStore(t, srv, storeConfig{tries: 3}).Resolve(context.Background(), tc.ref, FP32)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestRetriesServerErrorsThenSucceeds(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	srv := hubtest.New(false, repo)
	defer srv.Close()
	srv.AddFault(hubtest.Status("resolve", "config.json", 503, 2))
	srv.AddFault(hubtest.Status("cdn", "onnx/text_model.onnx", 500, 1))
	srv.AddFault(hubtest.Status("api", "", 502, 1))
	var limited atomic.Bool
	srv.AddFault(func(w http.ResponseWriter, r *http.Request, kind, f string) (http.ResponseWriter, bool) {
		if kind == "resolve" && f == "merges.txt" && r.Method == "GET" && limited.CompareAndSwap(false, true) {
			// rate limited once, with a wait the client must honour
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return w, true
		}
		return w, false
	})
	lm, err := newTestStore(t, srv, storeConfig{}).Resolve(context.Background(), "test/tiny-clip", FP32)
	if err != nil {
		t.Fatal(err)
	}
	assertFilesMatch(t, lm, repo.Files)
	if n := srv.Count("HEAD", "resolve", "config.json"); n != 3 {
		t.Errorf("config.json HEADs: %d, want 3 (two 503s, then success)", n)
	}
	if n := srv.Count("GET", "cdn", "onnx/text_model.onnx"); n != 2 {
		t.Errorf("text model GETs: %d, want 2", n)
	}
	var merges []hubtest.Request
	for _, r := range srv.Requests() {
		if r.Method == "GET" && r.File == "merges.txt" {
			merges = append(merges, r)
		}
	}
	if len(merges) != 2 || merges[0].Status != http.StatusTooManyRequests {
		t.Fatalf("merges.txt GETs: %+v", merges)
	}
	if gap := merges[1].Time.Sub(merges[0].Time); gap < time.Second {
		t.Errorf("retried %s after a 429 with Retry-After: 1", gap)
	}
}

func TestStalledResponses(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	t.Run("slow once then fine", func(t *testing.T) {
		srv := hubtest.New(false, repo)
		defer srv.Close()
		srv.AddFault(hubtest.Delay("cdn", "onnx/vision_model.onnx", 2*time.Second, 1))
		lm, err := newTestStore(t, srv, storeConfig{stall: 200 * time.Millisecond}).Resolve(context.Background(), "test/tiny-clip", FP32)
		if err != nil {
			t.Fatal(err)
		}
		assertFilesMatch(t, lm, repo.Files)
	})
	t.Run("always slow", func(t *testing.T) {
		srv := hubtest.New(false, repo)
		defer srv.Close()
		srv.AddFault(hubtest.Delay("resolve", "config.json", 2*time.Second, -1))
		_, err := newTestStore(t, srv, storeConfig{stall: 100 * time.Millisecond, tries: 2}).Resolve(context.Background(), "test/tiny-clip", FP32)
		if err == nil || !strings.Contains(err.Error(), "stall") || !strings.Contains(err.Error(), "config.json") {
			t.Fatalf("got %v, want a stall error naming config.json", err)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		srv := hubtest.New(false, repo)
		defer srv.Close()
		srv.AddFault(hubtest.Delay("resolve", "", 2*time.Second, -1))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := newTestStore(t, srv, storeConfig{}).Resolve(ctx, "test/tiny-clip", FP32)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want the caller's deadline", err)
		}
	})
}

func TestImmichLayoutFromListing(t *testing.T) {
	files := map[string][]byte{
		"visual/model.onnx":          generated(11, 90_000),
		"visual/preprocess_cfg.json": []byte(`{"size":[224,224],"mean":[0.48145466,0.4578275,0.40821073],"std":[0.26862954,0.26130258,0.27577711],"interpolation":"bicubic","resize_mode":"shortest"}`),
		"visual/fp16/model.armnn":    generated(12, 1000),
		"textual/model.onnx":         generated(13, 70_000),
		"textual/tokenizer.json":     generated(14, 5_000),
		"textual/vocab.json":         generated(15, 5_000),
		"config.json":                []byte(`{"embed_dim":512}`),
	}
	e, _ := LookupCatalogue("vit-b-32-laion2b-s34b-b79k")
	repo := &hubtest.Repo{ID: e.Repo, Commit: testCommit, Files: files}
	srv := hubtest.New(false, repo)
	defer srv.Close()
	s := newTestStore(t, srv, storeConfig{})
	lm, err := s.Resolve(context.Background(), e.Name, FP32)
	if err != nil {
		t.Fatal(err)
	}
	if lm.Layout != LayoutImmich || lm.VisionPath == "" || lm.TextPath == "" || lm.PreprocessorPath == "" || lm.TokenizerPath == "" {
		t.Errorf("%+v", lm)
	}
	assertFilesMatch(t, lm, files)
	if n := srv.Count("GET", "resolve", "visual/fp16/model.armnn") + srv.Count("GET", "cdn", "visual/fp16/model.armnn"); n != 0 {
		t.Error("armnn file downloaded")
	}
	if _, err := s.Resolve(context.Background(), e.Name, FP16); err == nil {
		t.Error("fp16 of an immich model resolved")
	}
}

func TestOpenDir(t *testing.T) {
	hf := t.TempDir()
	files := testRepoFiles()
	delete(files, "onnx/vision_model_fp16.onnx") // a directory without the fp16 variant
	delete(files, "onnx/text_model_fp16.onnx")
	for p, b := range files {
		os.MkdirAll(filepath.Join(hf, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(hf, p), b, 0o644)
	}
	lm, err := OpenDir(hf, Quantized)
	if err != nil {
		t.Fatal(err)
	}
	if lm.Layout != LayoutHF || lm.VisionPath != filepath.Join(hf, "onnx", "vision_model_quantized.onnx") {
		t.Errorf("%+v", lm)
	}
	for _, f := range lm.Files {
		if f.SHA256 != "" {
			t.Errorf("sha256 of %s computed eagerly", f.Path)
		}
	}
	sums, err := NewStore(StoreOptions{Root: t.TempDir(), Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := sums.LocalSHA256(context.Background(), lm); err != nil {
		t.Fatal(err)
	}
	assertFilesMatch(t, lm, files)
	// The combined export alone is a usable variant (pkg/clip splits it).
	if lm, err := OpenDir(hf, FP16); err != nil || lm.CombinedPath == "" || lm.VisionPath != "" {
		t.Errorf("fp16 with only onnx/model_fp16.onnx: %+v %v", lm, err)
	}
	os.Remove(filepath.Join(hf, "onnx", "model_fp16.onnx"))
	_, err = OpenDir(hf, FP16)
	if err == nil || !strings.Contains(err.Error(), "variants present: fp32, quantized") {
		t.Errorf("missing variant: %v", err)
	}
	// Resolve treats an existing directory as a local model.
	s := newTestStore(t, nil, storeConfig{offline: true})
	if lm, err := s.Resolve(context.Background(), hf, FP32); err != nil || lm.Dir != hf {
		t.Errorf("Resolve(dir): %v %v", lm, err)
	}

	imm := t.TempDir()
	os.MkdirAll(filepath.Join(imm, "visual"), 0o755)
	os.MkdirAll(filepath.Join(imm, "textual"), 0o755)
	os.WriteFile(filepath.Join(imm, "visual", "model.onnx"), []byte("v"), 0o644)
	os.WriteFile(filepath.Join(imm, "textual", "model.onnx"), []byte("t"), 0o644)
	os.WriteFile(filepath.Join(imm, "visual", "preprocess_cfg.json"), []byte("{}"), 0o644)
	lm, err = OpenDir(imm, FP32)
	if err != nil || lm.Layout != LayoutImmich || lm.PreprocessorPath == "" {
		t.Errorf("immich dir: %+v %v", lm, err)
	}
	if _, err := OpenDir(t.TempDir(), FP32); err == nil || !strings.Contains(err.Error(), "not a model directory") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestRemoveAndInstalled(t *testing.T) {
	repo := newTestRepo("test/tiny-clip")
	srv := hubtest.New(false, repo)
	defer srv.Close()
	s := newTestStore(t, srv, storeConfig{})
	if _, err := s.Resolve(context.Background(), "test/tiny-clip", Quantized); err != nil {
		t.Fatal(err)
	}
	in, err := s.Installed()
	if err != nil || len(in) != 1 {
		t.Fatalf("installed: %+v %v", in, err)
	}
	if len(in[0].Variants) != 1 || in[0].Variants[0] != Quantized || in[0].Manifest.Commit != testCommit {
		t.Errorf("installed: %+v", in[0])
	}
	removed, err := s.Remove(context.Background(), "test/tiny-clip", "")
	if err != nil || len(removed) != 1 {
		t.Fatalf("remove: %v %v", removed, err)
	}
	if _, err := os.Stat(removed[0]); err == nil {
		t.Error("directory still there")
	}
	if _, err := s.Remove(context.Background(), "test/tiny-clip", ""); err == nil {
		t.Error("removing a model that is not installed succeeded")
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Variant
		ok   bool
	}{{"", FP32, true}, {"fp32", FP32, true}, {"FP16", FP16, true}, {"int8", Quantized, true}, {"quantized", Quantized, true},
		{"q4", Q4, true}, {"Q4F16", Q4F16, true}, {"bnb4", BNB4, true}, {"uint8", Uint8, true}, {"q3", "", false}, {"int4", "", false}} {
		v, err := ParseVariant(tc.in)
		if (err == nil) != tc.ok || v != tc.want {
			t.Errorf("ParseVariant(%q) = %q, %v", tc.in, v, err)
		}
	}
	for _, tc := range []struct {
		in, repo, rev string
		ok            bool
	}{
		{"Xenova/clip-vit-base-patch32", "Xenova/clip-vit-base-patch32", "", true},
		{"a/b@refs/pr/1", "a/b", "refs/pr/1", true},
		{"a/b@" + testCommit, "a/b", testCommit, true},
		{"a", "", "", false},
		{"a/b/c", "", "", false},
		{"../b", "", "", false},
		{"a/b@", "", "", false},
		{"a/b@../x", "", "", false},
	} {
		r, err := ParseRepoRef(tc.in)
		if (err == nil) != tc.ok || r.Repo != tc.repo || r.Revision != tc.rev {
			t.Errorf("ParseRepoRef(%q) = %+v, %v", tc.in, r, err)
		}
	}
}

func TestCatalogueConsistent(t *testing.T) {
	if _, ok := LookupCatalogue(DefaultModel); !ok {
		t.Fatal("default model missing")
	}
	seen := map[string]bool{}
	for _, e := range Catalogue() {
		if seen[e.Name] {
			t.Errorf("duplicate name %s", e.Name)
		}
		seen[e.Name] = true
		if _, err := ParseRepoRef(e.Repo + "@" + e.Revision); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
		if !strings.HasPrefix(e.Source, "https://huggingface.co/"+e.Repo+"/") {
			t.Errorf("%s: source %q is not the repo's page", e.Name, e.Source)
		}
		if len(e.VariantList()) == 0 {
			t.Errorf("%s: no variants", e.Name)
		}
		for _, v := range e.VariantList() {
			req, opt, err := e.Files(v)
			if want := 2; err != nil || e.CombinedOnly && len(req) != 1 || !e.CombinedOnly && len(req) != want {
				t.Errorf("%s %s: %v %v", e.Name, v, req, err)
			}
			for _, p := range append(req, opt...) {
				if err := SafeRepoPath(p); err != nil {
					t.Error(err)
				}
			}
		}
	}
}

// tinyShapesDir is the fixtures engineer's tiny CLIP-shaped model
// (testdata/models/tiny-shapes); the fake hub serves it as a repository.
const tinyShapesDir = "../../testdata/models/tiny-shapes"

// loadDir reads every file under dir, keyed by slash path.
func loadDir(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	return files, err
}

func TestPullTinyShapesFixture(t *testing.T) {
	files, err := loadDir(tinyShapesDir)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fixture %s: %v", tinyShapesDir, err)
		}
		t.Skipf("fixture %s not there yet (%v)", tinyShapesDir, err)
	}
	repo := &hubtest.Repo{ID: "fixtures/tiny-shapes", Commit: testCommit, Files: files}
	srv := hubtest.New(true, repo)
	defer srv.Close()
	s := newTestStore(t, srv, storeConfig{})
	for _, v := range AllVariants {
		sfx := v.onnxSuffix()
		if (files["onnx/vision_model"+sfx+".onnx"] == nil || files["onnx/text_model"+sfx+".onnx"] == nil) && v != FP32 {
			continue // the fixture does not ship this variant (uint8: the vision tower only)
		}
		lm, err := s.Resolve(context.Background(), "fixtures/tiny-shapes", v)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if lm.VisionPath == "" || lm.TextPath == "" {
			t.Fatalf("%s: no graphs resolved: %+v", v, lm)
		}
		assertFilesMatch(t, lm, files)
	}
	res, err := s.Verify(context.Background(), "fixtures/tiny-shapes", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Problem != "" {
			t.Errorf("%s: %s", r.Path, r.Problem)
		}
	}
}

func TestRenamedRepoFollowsRelativeRedirect(t *testing.T) {
	repo := newTestRepo("newowner/tiny-clip")
	repo.RenamedFrom = "oldowner/tiny-clip"
	repo.Gated = true
	srv := hubtest.New(true, repo)
	defer srv.Close()
	srv.Token = "hf_rename"
	s := newTestStore(t, srv, storeConfig{token: "hf_rename"})
	lm, err := s.Resolve(context.Background(), "oldowner/tiny-clip", FP32)
	if err != nil {
		t.Fatal(err)
	}
	assertFilesMatch(t, lm, repo.Files)
	redirected := 0
	for _, r := range srv.Requests() {
		if r.Kind == "resolve" && strings.HasPrefix(r.Path, "/oldowner/") {
			redirected++
		}
		if r.Kind == "resolve" && strings.HasPrefix(r.Path, "/newowner/") && r.Authorization != "Bearer hf_rename" {
			t.Errorf("token dropped on the relative redirect: %s %s", r.Method, r.Path)
		}
	}
	if redirected == 0 {
		t.Error("no request went to the old name")
	}
}

// TestGitBlobID checks the git blob id used to verify small files against
// git's own: well-known ids, and `git hash-object` when git is installed.
func TestGitBlobID(t *testing.T) {
	cases := map[string]string{
		"":        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", // git's empty blob
		"hello\n": "ce013625030ba8dba906f756967f9e9ca394464a",
	}
	if git, err := exec.LookPath("git"); err == nil {
		for _, content := range []string{`{"model_max_length": 77}`, string(generated(21, 5000))} {
			cmd := exec.Command(git, "hash-object", "--stdin")
			cmd.Stdin = strings.NewReader(content)
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			cases[content] = strings.TrimSpace(string(out))
		}
	}
	for content, want := range cases {
		p := filepath.Join(t.TempDir(), "f")
		os.WriteFile(p, []byte(content), 0o644)
		_, got, _, err := hashPart(context.Background(), p)
		if err != nil || got != want {
			t.Errorf("git blob id of %d bytes: %s, want %s (%v)", len(content), got, want, err)
		}
		if hubtest.GitBlobSHA1([]byte(content)) != want {
			t.Errorf("hubtest.GitBlobSHA1 disagrees with git for %d bytes", len(content))
		}
	}
}

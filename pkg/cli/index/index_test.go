package index_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/clip-go/clip/internal/testmodels"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/index"
)

const repoRoot = "../../.."

func tinyModel(t *testing.T) string { return testmodels.TinyShapes(t) }

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string {
		if k == "CLIP_HOME" {
			return filepath.Join(os.TempDir(), "clip-index-test-home")
		}
		return ""
	}}
	// A run that hangs (CI once saw one stuck for 9 minutes in the
	// --rebuild run of TestIncremental, never reproduced) fails here with
	// the stacks of this package's and clip's goroutines instead of eating
	// the package's whole timeout and leaving only the tail of a dump.
	stuck := time.AfterFunc(3*time.Minute, func() {
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		fmt.Fprintf(os.Stderr, "clip %s: still running after 3 minutes; goroutines:\n%s\n", strings.Join(args, " "), b.String())
		panic("clip " + strings.Join(args, " ") + ": stuck (goroutine stacks above)")
	})
	defer stuck.Stop()
	code := cli.Run(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

// copyShapes copies testdata/shapes (the images only) into a new directory.
func copyShapes(t *testing.T, dir string) []string {
	t.Helper()
	src := filepath.Join(repoRoot, "testdata", "shapes")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name())
	}
	return names
}

type summary struct {
	Added, Updated, Moved, Unchanged, Removed, Errors, Embedded, Images int
}

func indexDir(t *testing.T, model, ix, dir string, extra ...string) summary {
	t.Helper()
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	args := append([]string{"index", "-m", model, "--index", ix, "--summary", sumPath, "-r", dir}, extra...)
	code, _, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("clip index: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(sumPath)
	if err != nil {
		t.Fatal(err)
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

type hit struct {
	Schema int
	File   string
	Score  float64
}

func search(t *testing.T, model, ix string, args ...string) []hit {
	t.Helper()
	code, out, errOut := run(t, append([]string{"search", "-m", model, "--index", ix, "--format", "jsonl"}, args...)...)
	if code != 0 {
		t.Fatalf("clip search %v: exit %d: %s", args, code, errOut)
	}
	var hits []hit
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var h hit
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		hits = append(hits, h)
	}
	return hits
}

// label is "red circle" for red-circle-2.jpg.
func label(path string) string {
	base := filepath.Base(path)
	parts := strings.SplitN(base, "-", 3)
	return parts[0] + " " + parts[1]
}

// heldOut are the combinations tiny-shapes never saw in training: their
// images' embeddings are wherever the model happens to put them.
var heldOut = map[string]bool{"red triangle": true, "green cross": true, "blue square": true, "yellow circle": true}

// TestSearchFindsEachShape: over the images of the colour-shape
// combinations the model was trained on, a text query for each ranks that
// combination's images first; every indexed image used as --image comes
// back first with score ≈ 1.
func TestSearchFindsEachShape(t *testing.T) {
	model := tinyModel(t)
	dir := filepath.Join(t.TempDir(), "shapes")
	var names []string
	for _, n := range copyShapes(t, dir) {
		if heldOut[label(n)] {
			_ = os.Remove(filepath.Join(dir, n))
			continue
		}
		names = append(names, n)
	}
	ix := filepath.Join(t.TempDir(), "ix.sqlite")
	if s := indexDir(t, model, ix, dir); s.Added != len(names) || s.Embedded != len(names) || s.Errors != 0 {
		t.Fatalf("first run: %+v, want %d added", s, len(names))
	}
	count := map[string]int{}
	for _, n := range names {
		count[label(n)]++
	}
	for l, n := range count {
		hits := search(t, model, ix, "--template", "a photo of a {}.", "-k", fmt.Sprint(n), l)
		for _, h := range hits {
			if label(h.File) != l {
				t.Errorf("query %q: top %d include %s (score %.3f)", l, n, filepath.Base(h.File), h.Score)
			}
		}
	}
	for _, n := range names {
		hits := search(t, model, ix, "--image", filepath.Join(dir, n), "-k", "1")
		if len(hits) != 1 || filepath.Base(hits[0].File) != n || math.Abs(hits[0].Score-1) > 0.002 || hits[0].Schema != 1 {
			t.Errorf("--image %s: %+v, want itself with score ≈ 1", n, hits)
		}
	}
	// --under keeps a subtree; --threshold drops weak hits.
	if hits := search(t, model, ix, "--under", filepath.Join(dir, "nothing-here"), "red circle"); len(hits) != 0 {
		t.Errorf("--under an empty prefix: %v", hits)
	}
	for _, h := range search(t, model, ix, "--threshold", "0.5", "-k", "0", "red circle") {
		if h.Score < 0.5 {
			t.Errorf("--threshold 0.5 returned %+v", h)
		}
	}
}

// TestIncremental: a rerun embeds nothing; a changed file is re-embedded
// alone; a renamed file is moved without embedding; a deleted one is
// removed; another model is refused (exit 2) unless --rebuild.
func TestIncremental(t *testing.T) {
	model := tinyModel(t)
	dir := filepath.Join(t.TempDir(), "shapes")
	names := copyShapes(t, dir)
	ix := filepath.Join(t.TempDir(), "ix.sqlite")
	indexDir(t, model, ix, dir)
	// The run leaves the vector file searches map; an unchanged rerun
	// leaves it alone. (The searches below read it: each must see the
	// run before it.)
	vf, err := os.Stat(index.VectorFile(ix))
	if err != nil {
		t.Fatalf("no vector file after a run: %v", err)
	}
	old := vf.ModTime().Add(-time.Hour)
	_ = os.Chtimes(index.VectorFile(ix), old, old)

	if s := indexDir(t, model, ix, dir); s.Embedded != 0 || s.Unchanged != len(names) {
		t.Errorf("unchanged rerun: %+v, want 0 embedded, %d unchanged", s, len(names))
	}
	if vf, err := os.Stat(index.VectorFile(ix)); err != nil || !vf.ModTime().Equal(old) {
		t.Errorf("an unchanged rerun rewrote the vector file (%v)", err)
	}

	// One file's content changes (another image's bytes).
	b, _ := os.ReadFile(filepath.Join(dir, "blue-cross-1.png"))
	if err := os.WriteFile(filepath.Join(dir, "red-circle-1.png"), append(b, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	if s := indexDir(t, model, ix, dir); s.Embedded != 1 || s.Updated != 1 || s.Unchanged != len(names)-1 {
		t.Errorf("one changed file: %+v, want 1 embedded and updated", s)
	}
	if hits := search(t, model, ix, "--image", filepath.Join(dir, "blue-cross-1.png"), "-k", "2"); filepath.Base(hits[1].File) != "red-circle-1.png" {
		t.Errorf("the changed file's new vector is not the blue cross's: %+v", hits)
	}

	// A rename, with a newer mtime as mv across a copy would give.
	from, to := filepath.Join(dir, "green-square-1.png"), filepath.Join(dir, "sub", "renamed.png")
	_ = os.MkdirAll(filepath.Dir(to), 0o755)
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	_ = os.Chtimes(to, later, later)
	if s := indexDir(t, model, ix, dir); s.Embedded != 0 || s.Moved != 1 || s.Removed != 0 || s.Images != len(names) {
		t.Errorf("renamed file: %+v, want 1 moved, 0 embedded", s)
	}
	if hits := search(t, model, ix, "--image", to, "-k", "1"); hits[0].File != to {
		t.Errorf("after the rename the image is found at %s, want %s", hits[0].File, to)
	}

	if err := os.Remove(filepath.Join(dir, "red-square-1.png")); err != nil {
		t.Fatal(err)
	}
	if s := indexDir(t, model, ix, dir); s.Removed != 1 || s.Images != len(names)-1 {
		t.Errorf("deleted file: %+v, want 1 removed", s)
	}

	// A root that has vanished (an unmounted disk) removes nothing.
	if err := os.Rename(dir, dir+"-unmounted"); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "index", "-m", model, "--index", ix, "-r", dir); code != 3 || !strings.Contains(errOut, "removed 0") {
		t.Errorf("index of a missing directory: exit %d, %q; want 3 and nothing removed", code, errOut)
	}
	checkIndex(t, ix, len(names)-1)
	if err := os.Rename(dir+"-unmounted", dir); err != nil {
		t.Fatal(err)
	}

	// Another model (the opset-17 export: same weights, other files).
	other, _ := filepath.Abs(filepath.Join(repoRoot, "testdata", "models", "tiny-shapes-opset17"))
	if code, _, errOut := run(t, "index", "-m", other, "--index", ix, dir); code != 2 || !strings.Contains(errOut, "--rebuild") {
		t.Errorf("index with another model: exit %d, %q; want 2 naming --rebuild", code, errOut)
	}
	if code, _, errOut := run(t, "search", "-m", other, "--index", ix, "red circle"); code != 2 || !strings.Contains(errOut, "was made with model") {
		t.Errorf("search with another model: exit %d, %q; want 2", code, errOut)
	}
	if s := indexDir(t, other, ix, dir, "--rebuild"); s.Embedded != len(names)-1 || s.Added != len(names)-1 {
		t.Errorf("--rebuild: %+v, want everything re-embedded", s)
	}
}

// TestConcurrentRuns: two index runs on one file at once both finish and
// leave a sound index holding every image once.
func TestConcurrentRuns(t *testing.T) {
	model := tinyModel(t)
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	na, nb := len(copyShapes(t, a)), len(copyShapes(t, b))
	ix := filepath.Join(root, "ix.sqlite")
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, d := range []string{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var e string
			codes[i], _, e = run(t, "index", "-m", model, "--index", ix, "-r", d)
			if codes[i] != 0 {
				t.Logf("run %d: %s", i, e)
			}
		}()
	}
	wg.Wait()
	if codes[0] != 0 || codes[1] != 0 {
		t.Fatalf("exit codes %v", codes)
	}
	checkIndex(t, ix, na+nb)
}

func checkIndex(t *testing.T, path string, want int) {
	t.Helper()
	x, err := index.Open(context.Background(), path, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if s, err := x.IntegrityCheck(context.Background()); err != nil || s != "ok" {
		t.Errorf("PRAGMA integrity_check: %q, %v", s, err)
	}
	if n, err := x.Count(context.Background()); err != nil || n != want {
		t.Errorf("index holds %d images (%v), want %d", n, err, want)
	}
}

// TestKillMidRun runs the built binary on 50 copies of the shapes,
// SIGKILLs it once the index holds some images, and checks that the index
// opens, passes PRAGMA integrity_check, and that a rerun embeds only what
// is missing and finishes.
func TestKillMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and indexes 3,200 images")
	}
	model := tinyModel(t)
	root := t.TempDir()
	bin := filepath.Join(root, "clip")
	if out, err := exec.Command("go", "build", "-o", bin, "../../../cmd/clip").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	photos := filepath.Join(root, "photos")
	names := copyShapes(t, filepath.Join(photos, "000"))
	for i := 1; i < 50; i++ {
		d := filepath.Join(photos, fmt.Sprintf("%03d", i))
		_ = os.MkdirAll(d, 0o755)
		for _, n := range names {
			// Hard links would share mtime and content: each copy differs
			// by a trailing byte so each is embedded, not found by hash.
			b, _ := os.ReadFile(filepath.Join(photos, "000", n))
			if err := os.WriteFile(filepath.Join(d, n), append(b, byte(i)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	total := 50 * len(names)
	ix := filepath.Join(root, "ix.sqlite")
	cmd := exec.Command(bin, "index", "-q", "-m", model, "--index", ix, "-r", photos)
	cmd.Env = append(os.Environ(), "CLIP_HOME="+filepath.Join(root, "home"))
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	killed := false
	for !killed && time.Now().Before(deadline) {
		select {
		case <-done:
			t.Fatal("the run finished before it could be killed; use more images")
		case <-time.After(50 * time.Millisecond):
		}
		if n := countRows(ix); n >= 3*64 {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			killed = true
		}
	}
	if !killed {
		_ = cmd.Process.Kill()
		t.Fatal("the index got no rows within 2 minutes")
	}
	before := countRows(ix)
	if before <= 0 || before >= total {
		t.Fatalf("killed with %d of %d rows", before, total)
	}
	checkIndex(t, ix, before)

	cmd = exec.Command(bin, "index", "-q", "-m", model, "--index", ix, "-r", photos, "--summary", filepath.Join(root, "s.json"))
	cmd.Env = append(os.Environ(), "CLIP_HOME="+filepath.Join(root, "home"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(filepath.Join(root, "s.json"))
	var s summary
	_ = json.Unmarshal(b, &s)
	if s.Unchanged != before || s.Embedded != total-before || s.Images != total {
		t.Errorf("rerun after kill with %d rows: %+v, want %d unchanged, %d embedded", before, s, before, total-before)
	}
	checkIndex(t, ix, total)
}

// countRows reads the index without disturbing the writer (-1 when it
// cannot be read yet).
func countRows(path string) int {
	if _, err := os.Stat(path); err != nil {
		return -1
	}
	x, err := index.Open(context.Background(), path, index.Options{ReadOnly: true})
	if err != nil {
		return -1
	}
	defer x.Close()
	n, err := x.Count(context.Background())
	if err != nil {
		return -1
	}
	return n
}

// TestSearchFormats: json is one array, csv has a header and the same
// order, the table shows rank, score and file; a missing index is exit 2
// before the model loads.
func TestSearchFormats(t *testing.T) {
	model := tinyModel(t)
	dir := filepath.Join(t.TempDir(), "shapes")
	copyShapes(t, dir)
	ix := filepath.Join(t.TempDir(), "ix.sqlite")
	indexDir(t, model, ix, dir)
	want := search(t, model, ix, "-k", "3", "red circle")
	code, out, _ := run(t, "search", "-m", model, "--index", ix, "--format", "json", "-k", "3", "red", "circle")
	var arr []hit
	if err := json.Unmarshal([]byte(out), &arr); code != 0 || err != nil || len(arr) != 3 || arr[0] != want[0] || arr[2] != want[2] {
		t.Errorf("json: exit %d, %v, %q; want %v", code, err, out, want)
	}
	code, out, _ = run(t, "search", "-m", model, "--index", ix, "--format", "csv", "-k", "3", "red circle")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || lines[0] != "file,score" || !strings.HasPrefix(lines[1], want[0].File+",") {
		t.Errorf("csv: exit %d, %q", code, out)
	}
	code, out, _ = run(t, "search", "-m", model, "--index", ix, "--format", "table", "-k", "3", "red circle")
	if first := strings.Fields(strings.Split(out, "\n")[0]); code != 0 || len(first) != 3 || first[0] != "1" || first[2] != want[0].File {
		t.Errorf("table: exit %d, %q", code, out)
	}
	// An index made with --exact-decode is searched without repeating it.
	exact := filepath.Join(t.TempDir(), "exact.sqlite")
	indexDir(t, model, exact, dir, "--exact-decode")
	if hits := search(t, model, exact, "--image", filepath.Join(dir, "red-circle-2.jpg"), "-k", "1"); filepath.Base(hits[0].File) != "red-circle-2.jpg" {
		t.Errorf("search of an --exact-decode index: %+v", hits)
	}
	if code, _, errOut := run(t, "search", "-m", "no-such-model-dir", "--index", filepath.Join(t.TempDir(), "none.sqlite"), "x"); code != 2 || !strings.Contains(errOut, "clip index") {
		t.Errorf("missing index: exit %d, %q; want 2 saying how to make one", code, errOut)
	}
}

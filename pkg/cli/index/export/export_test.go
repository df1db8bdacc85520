package export_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clip-go/clip/internal/testmodels"
	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/index"
)

func run(t testing.TB, dir string, args ...string) (int, string, string) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Version: "test", Getenv: func(k string) string {
		if k == "CLIP_HOME" {
			return filepath.Join(os.TempDir(), "clip-export-test-home")
		}
		return ""
	}}
	code := cli.Run(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

// collection makes a working directory holding a directory literally
// named "export" and another one, with shapes images in both, and indexes
// them (the "export" one as ./export). It returns the directory and the
// index file.
func collection(t *testing.T) (string, string) {
	t.Helper()
	model := testmodels.TinyShapes(t)
	dir := t.TempDir()
	src := filepath.Join(testmodels.Root(), "testdata", "shapes")
	for sub, names := range map[string][]string{
		"export": {"red-circle-1.png", "green-square-2.jpg"},
		"more":   {"blue-triangle-1.png", "yellow-cross-2.jpg", "purple-square-1.png"},
	} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(src, n))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, sub, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if code, _, errOut := run(t, dir, "index", "-m", model, "./export", "-r", "more", "-q"); code != 0 {
		t.Fatalf("clip index ./export -r more: exit %d: %s", code, errOut)
	}
	return dir, filepath.Join(dir, "clip-index.sqlite")
}

// TestDirectoryNamedExportStaysIndexable: "export" alone names the
// sub-command (and says how to index such a directory); ./export and
// export/ are directories.
func TestDirectoryNamedExportStaysIndexable(t *testing.T) {
	dir, ix := collection(t)
	files := indexedFiles(t, ix)
	if len(files) != 5 || !strings.HasPrefix(files[0].Path, filepath.Join(dir, "export")+"/") {
		t.Fatalf("indexed %+v, want 5 files, two under %s/export", files, dir)
	}
	model := testmodels.TinyShapes(t)
	for _, args := range [][]string{{"index", "export"}, {"index", "-r", "export", "-m", model}} {
		code, _, errOut := run(t, dir, args...)
		if code != cmdutil.ExitUsage || !strings.Contains(errOut, "write 'clip index ./export'") {
			t.Errorf("clip %v: exit %d, stderr %q; want exit 2 naming ./export", args, code, errOut)
		}
	}
	if code, _, errOut := run(t, dir, "index", "-m", model, "export/", "-q"); code != 0 {
		t.Errorf("clip index export/: exit %d: %s", code, errOut)
	}
}

func indexedFiles(t *testing.T, ix string) []index.File {
	t.Helper()
	x, err := index.Open(context.Background(), ix, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	files, err := x.Files(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func storedVectors(t *testing.T, ix string) (map[string][]float32, index.Meta) {
	t.Helper()
	x, err := index.Open(context.Background(), ix, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	meta, _, err := x.Meta(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v, err := x.Load(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for i, p := range v.Paths {
		out[p] = v.Float32(i)
	}
	return out, meta
}

// fileFacts are a file's size, mtime and sha256 read from disk, not from
// the index.
func fileFacts(t *testing.T, path string) (int64, int64, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return st.Size(), st.ModTime().UnixNano(), hex.EncodeToString(sum[:])
}

// duckdb runs scripts/parquet-check/read_parquet.mjs (DuckDB, through its
// Node.js package) on file; without node or the package the test skips,
// and fails under CI, whose .ci/run installs it.
func duckdb(t *testing.T, file string) []byte {
	t.Helper()
	dir := filepath.Join(testmodels.Root(), "scripts", "parquet-check")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api"))
	}
	if err != nil {
		msg := "DuckDB reader unavailable (" + err.Error() + "): run (cd scripts/parquet-check && npm ci)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, filepath.Join(dir, "read_parquet.mjs"), file).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("DuckDB cannot read %s: %v\n%s", file, err, msg)
	}
	return out
}

// TestExportParquetReadByDuckDB: DuckDB reads the exported file with the
// documented column types; paths, sizes, mtimes and hashes are the files'
// own (read from disk), vectors the stored ones, and the model provenance
// is in the key-value metadata.
func TestExportParquetReadByDuckDB(t *testing.T) {
	dir, ix := collection(t)
	out := filepath.Join(t.TempDir(), "photos.parquet")
	code, _, errOut := run(t, dir, "index", "export", "-o", out)
	if code != 0 || !strings.Contains(errOut, "5 images (parquet)") {
		t.Fatalf("clip index export: exit %d: %s", code, errOut)
	}
	var got struct {
		DuckDB string
		Types  map[string]string
		Rows   []struct {
			Path       string
			Size       string // DuckDB's JSON gives BIGINT as a string
			MtimeNs    string `json:"mtime_ns"`
			SHA256     string
			Vector     []float64
			SelfCosine float64 `json:"self_cosine"`
		}
		Metadata map[string]string
	}
	if err := json.Unmarshal(duckdb(t, out), &got); err != nil {
		t.Fatal(err)
	}
	t.Logf("read by DuckDB %s", got.DuckDB)
	wantTypes := map[string]string{"path": "VARCHAR", "size": "BIGINT", "mtime": "TIMESTAMP WITH TIME ZONE", "sha256": "VARCHAR", "vector": "FLOAT[]"}
	for col, typ := range wantTypes {
		if got.Types[col] != typ {
			t.Errorf("column %s: DuckDB type %q, want %q (all: %v)", col, got.Types[col], typ, got.Types)
		}
	}
	vecs, meta := storedVectors(t, ix)
	if len(got.Rows) != len(vecs) || len(got.Rows) != 5 {
		t.Fatalf("%d rows, want the index's %d", len(got.Rows), len(vecs))
	}
	for _, r := range got.Rows {
		size, mtime, sum := fileFacts(t, r.Path)
		// DuckDB's TIMESTAMP WITH TIME ZONE holds microseconds: it drops
		// the file's nanoseconds (the JSON lines test checks them).
		if r.Size != strconv.FormatInt(size, 10) || r.MtimeNs != strconv.FormatInt(mtime/1000*1000, 10) || r.SHA256 != sum {
			t.Errorf("%s: size %s, mtime %s, sha256 %s; the file has %d, %d, %s", r.Path, r.Size, r.MtimeNs, r.SHA256, size, mtime, sum)
		}
		want := vecs[r.Path]
		if len(r.Vector) != len(want) || len(want) != meta.Dim {
			t.Fatalf("%s: vector of %d, want %d", r.Path, len(r.Vector), meta.Dim)
		}
		for i := range want {
			if float32(r.Vector[i]) != want[i] {
				t.Fatalf("%s: vector[%d] = %v, stored %v", r.Path, i, r.Vector[i], want[i])
			}
		}
		if math.Abs(r.SelfCosine-1) > 1e-6 {
			t.Errorf("%s: DuckDB list_cosine_similarity(vector, vector) = %v", r.Path, r.SelfCosine)
		}
	}
	for k, v := range map[string]string{
		"clip.model_id": meta.ModelID, "clip.model_fingerprint": meta.Fingerprint, "clip.model_sha256": meta.ModelSHA256,
		"clip.variant": "fp32", "clip.preprocess": meta.Preprocess, "clip.dim": strconv.Itoa(meta.Dim), "clip.stored_encoding": "float16",
	} {
		if got.Metadata[k] != v || v == "" {
			t.Errorf("metadata %s = %q, want %q", k, got.Metadata[k], v)
		}
	}
}

// TestExportJSONLinesAndUsage: --format jsonl to stdout with --under;
// formats other than parquet, jsonl and json, and a missing -o or index,
// are usage errors.
func TestExportJSONLinesAndUsage(t *testing.T) {
	dir, ix := collection(t)
	code, out, errOut := run(t, dir, "index", "export", "--format", "jsonl", "-o", "-", "--under", "more")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	vecs, _ := storedVectors(t, ix)
	var n int
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Schema    int
			File      string
			Size      int64
			Mtime     time.Time
			SHA256    string
			Embedding []float32
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		size, mtime, sum := fileFacts(t, r.File)
		if r.Schema != 1 || !strings.HasPrefix(r.File, filepath.Join(dir, "more")+"/") || r.Size != size || r.Mtime.UnixNano() != mtime || r.SHA256 != sum || len(r.Embedding) != len(vecs[r.File]) {
			t.Errorf("record %+v does not match the file or its stored vector", r)
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d records under more/, want 3", n)
	}
	for _, args := range [][]string{
		{"index", "export", "--format", "csv", "-o", "x.csv"},
		{"index", "export"},
		{"index", "export", "-o", "x.parquet", "--index", "missing.sqlite"},
	} {
		if code, _, errOut := run(t, dir, args...); code != cmdutil.ExitUsage {
			t.Errorf("clip %v: exit %d (%s), want 2", args, code, errOut)
		}
	}
}

// BenchmarkExportParquet100k exports an index of 100,000 synthetic 512-d
// vectors to Parquet and reports the file's bytes per image.
func BenchmarkExportParquet100k(b *testing.B) {
	const n, dim, batch = 100_000, 512, 1000
	ctx := context.Background()
	dir := b.TempDir()
	ixPath := filepath.Join(dir, "ix.sqlite")
	ix, err := index.Open(ctx, ixPath, index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := ix.SetMeta(ctx, index.Meta{ModelID: "bench", Fingerprint: "x", Dim: dim}); err != nil {
		b.Fatal(err)
	}
	seed := uint64(1)
	for start := 0; start < n; start += batch {
		changes := make([]index.Change, batch)
		for i := range changes {
			emb := make([]float32, dim)
			for j := range emb {
				seed = seed*6364136223846793005 + 1442695040888963407
				emb[j] = float32(int32(seed>>32)) / (1 << 31) / 13
			}
			changes[i] = index.Change{File: index.File{Path: filepath.Join("/home/someone/Pictures", strconv.Itoa(start+i)+".jpg"),
				Size: 3_000_000, MtimeNs: 1700000000000000000, SHA256: strconv.FormatInt(int64(start+i), 16)}, Embedding: emb}
		}
		if err := ix.Apply(ctx, changes); err != nil {
			b.Fatal(err)
		}
	}
	ix.Close()
	out := filepath.Join(dir, "x.parquet")
	for b.Loop() {
		if code, _, errOut := run(b, "", "index", "export", "--index", ixPath, "-o", out, "-q"); code != 0 {
			b.Fatal(errOut)
		}
	}
	if st, err := os.Stat(out); err == nil {
		b.ReportMetric(float64(st.Size())/n, "bytes/image")
	}
}

package index

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestDotsInt8 checks the AVX2 int8 kernel and its Go twin against int64
// sums, including the extreme codes and query values quantizeQuery allows
// (no int32 overflow).
func TestDotsInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, dim := range []int{16, 32, 48, 64, 80, 512, 768, 1024, 7} {
		const count = 37
		q := make([]float32, dim)
		for i := range q {
			q[i] = float32(r.NormFloat64())
		}
		qi, _ := quantizeQuery(q)
		codes := make([]int8, count*dim)
		for i := range codes {
			codes[i] = int8(r.IntN(255) - 127)
		}
		// Vector 0: every code at the extreme of the query's sign.
		for j := range dim {
			codes[j] = 127
			if qi[j] < 0 {
				codes[j] = -127
			}
		}
		want := make([]int64, count)
		for i := range want {
			for j := range dim {
				want[i] += int64(qi[j]) * int64(codes[i*dim+j])
			}
		}
		for name, fn := range map[string]func([]int16, []int8, int, []int32){"dotsInt8": dotsInt8, "dotsInt8Go": dotsInt8Go} {
			out := make([]int32, count)
			fn(qi, codes, dim, out)
			for i := range out {
				if int64(out[i]) != want[i] {
					t.Fatalf("%s dim %d vector %d: %d, want %d", name, dim, i, out[i], want[i])
				}
			}
		}
	}
	t.Logf("AVX2 int8 kernel used: %v", hasAVX2)
}

// halfValues are v's float16 vectors as float32, for float64 references.
func halfValues(v *Vectors) [][]float32 {
	out := make([][]float32, v.Len())
	for i := range out {
		out[i] = make([]float32, v.Dim)
		for j, h := range v.Codes[i*v.Dim : (i+1)*v.Dim] {
			out[i][j] = halfToFloat(h)
		}
	}
	return out
}

// TestSearchMatchesFloat64 compares Search (the int8 scan with float16
// rescoring, and the float16 scan of Vectors without scan codes) with a
// float64 brute-force ranking of the stored float16 values, with and
// without a threshold.
func TestSearchMatchesFloat64(t *testing.T) {
	const n, dim = 20000, 512
	r := rand.New(rand.NewPCG(13, 14))
	var v Vectors
	v.Dim = dim
	for i, e := range clipLike(r, n, dim) {
		v.Append(fmt.Sprint(i), e)
	}
	plain := Vectors{Dim: dim, Paths: v.Paths, Codes: v.Codes}
	stored := halfValues(&v)
	var missed, total int
	for _, q := range clipLike(r, 20, dim) {
		want := exactTop(stored, q, 10)
		for name, vs := range map[string]*Vectors{"int8+float16": &v, "float16": &plain} {
			hits := vs.Search(q, SearchOptions{K: 10, Workers: 2})
			if len(hits) != 10 {
				t.Fatalf("%s: %d hits", name, len(hits))
			}
			for j, h := range hits {
				var ref float64
				for d, x := range stored[want[j]] {
					ref += float64(x) * float64(q[d])
				}
				if name == "float16" && h.Path != fmt.Sprint(want[j]) {
					t.Fatalf("%s hit %d = %s, want %d", name, j, h.Path, want[j])
				}
				if name == "int8+float16" {
					total++
					if h.Path != fmt.Sprint(want[j]) {
						missed++
						continue
					}
				}
				if math.Abs(float64(h.Score)-ref) > 1e-5 {
					t.Errorf("%s hit %d score %g, want %g", name, j, h.Score, ref)
				}
			}
		}
		// A threshold keeps exactly the vectors scoring at least it.
		th := float32(0.5)
		var wantN int
		for _, s := range stored {
			var d float64
			for j := range s {
				d += float64(s[j]) * float64(q[j])
			}
			if d >= float64(th)+1e-5 {
				wantN++
			}
		}
		hits := v.Search(q, SearchOptions{K: 0, Threshold: th, HasMin: true})
		if len(hits) < wantN {
			t.Errorf("threshold %g: %d hits, want at least %d", th, len(hits), wantN)
		}
		for _, h := range hits {
			if h.Score < th {
				t.Errorf("threshold %g: hit %s scores %g", th, h.Path, h.Score)
			}
		}
	}
	// Keep restricts both scans to the paths it accepts.
	even := func(p string) bool { return p[len(p)-1]%2 == 0 }
	for _, q := range clipLike(r, 5, dim) {
		for name, vs := range map[string]*Vectors{"int8+float16": &v, "float16": &plain} {
			hits := vs.Search(q, SearchOptions{K: 10, Keep: even})
			var want []int
			for _, i := range exactTop(stored, q, 40) {
				if i%2 == 0 && len(want) < 10 {
					want = append(want, i)
				}
			}
			if len(hits) != 10 {
				t.Fatalf("%s with Keep: %d hits", name, len(hits))
			}
			for j, h := range hits {
				if !even(h.Path) {
					t.Fatalf("%s with Keep: hit %s not kept", name, h.Path)
				}
				if name == "float16" && h.Path != fmt.Sprint(want[j]) {
					t.Errorf("%s with Keep: hit %d = %s, want %d", name, j, h.Path, want[j])
				}
			}
		}
	}
	// Rescoring makes the int8 scan rank like float16 nearly always.
	if missed*100 > total {
		t.Errorf("int8 scan with rescoring: %d of %d ranks differ from float16's", missed, total)
	}
}

// newTestIndex writes n CLIP-like vectors into a new index.
func newTestIndex(t *testing.T, n, dim int) (string, [][]float32) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ix.sqlite")
	ix, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.SetMeta(ctx, Meta{ModelID: "test", Fingerprint: "x", Dim: dim}); err != nil {
		t.Fatal(err)
	}
	vecs := clipLike(rand.New(rand.NewPCG(uint64(n), 15)), n, dim)
	var changes []Change
	for i, e := range vecs {
		changes = append(changes, Change{File: File{Path: fmt.Sprintf("/p/%05d.jpg", i)}, Embedding: e})
	}
	if err := ix.Apply(ctx, changes); err != nil {
		t.Fatal(err)
	}
	return path, vecs
}

func load(t *testing.T, path string, keep func(string) bool) (*Vectors, bool) {
	t.Helper()
	ix, err := Open(context.Background(), path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	v, err := ix.Load(context.Background(), keep)
	if err != nil {
		t.Fatal(err)
	}
	return v, v.unmap != nil
}

func top1(t *testing.T, path string, q []float32) Hit {
	t.Helper()
	v, _ := load(t, path, nil)
	defer v.Close()
	hits := v.Search(q, SearchOptions{K: 1})
	if len(hits) != 1 {
		t.Fatalf("%d hits", len(hits))
	}
	return hits[0]
}

// TestVectorFileNeverStale changes the index behind clip's back, with
// plain SQL as the sqlite3 shell would, and checks that every search
// answers from the changed rows, and that the vector file is used when it
// is current.
func TestVectorFileNeverStale(t *testing.T) {
	const n, dim = 300, 64
	path, vecs := newTestIndex(t, n, dim)
	vf := VectorFile(path)
	if _, err := os.Stat(vf); err == nil {
		t.Fatal("vector file written before anything loaded")
	}
	if v, mapped := load(t, path, nil); mapped || v.Len() != n {
		t.Fatalf("first load: %d vectors, mapped %v; want %d from SQLite", v.Len(), mapped, n)
	}
	if _, err := os.Stat(vf); err != nil {
		t.Fatalf("first load wrote no vector file: %v", err)
	}
	v, mapped := load(t, path, nil)
	if !mapped || v.Len() != n {
		t.Fatalf("second load: %d vectors, mapped %v; want %d from the vector file", v.Len(), mapped, n)
	}
	v.Close()

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// A new vector for one row: a query for it must find that row.
	q := make([]float32, dim)
	q[3] = 1
	exec(`UPDATE images SET embedding = ? WHERE path = '/p/00007.jpg'`, halfBytes(Encode(q)))
	if h := top1(t, path, q); h.Path != "/p/00007.jpg" || h.Score < 0.999 {
		t.Fatalf("after UPDATE: top hit %+v, want /p/00007.jpg at 1", h)
	}
	// A renamed row.
	exec(`UPDATE images SET path = '/q/renamed.jpg' WHERE path = '/p/00007.jpg'`)
	if h := top1(t, path, q); h.Path != "/q/renamed.jpg" {
		t.Fatalf("after rename: top hit %+v", h)
	}
	// A deleted row.
	exec(`DELETE FROM images WHERE path = '/q/renamed.jpg'`)
	if h := top1(t, path, q); h.Path == "/q/renamed.jpg" {
		t.Fatalf("after DELETE: deleted row found")
	}
	// An inserted row.
	exec(`INSERT INTO images(path, size, mtime_ns, sha256, embedding, indexed_at) VALUES ('/new.jpg', 1, 1, 'x', ?, 0)`, halfBytes(Encode(q)))
	if h := top1(t, path, q); h.Path != "/new.jpg" {
		t.Fatalf("after INSERT: top hit %+v", h)
	}
	if v, mapped := load(t, path, nil); !mapped || v.Len() != n {
		t.Fatalf("vector file not rewritten after the changes: %d vectors, mapped %v", v.Len(), mapped)
	}
	// Without its triggers the generation proves nothing: SQLite is read.
	exec(`DROP TRIGGER vectors_gen_update`)
	exec(`UPDATE images SET embedding = ? WHERE path = '/p/00001.jpg'`, halfBytes(Encode(q)))
	if v, mapped := load(t, path, nil); mapped {
		t.Fatalf("vector file used although a generation trigger is gone (%d vectors)", v.Len())
	}
	exec(`DELETE FROM images WHERE path = '/new.jpg'`)
	if h := top1(t, path, q); h.Path != "/p/00001.jpg" {
		t.Fatalf("without the trigger: top hit %+v, want /p/00001.jpg", h)
	}
	_ = vecs
}

// TestVectorFileOfAnotherIndex: an index replaced by another one with the
// same number of changes (same generation) must not use the old file.
func TestVectorFileOfAnotherIndex(t *testing.T) {
	const n, dim = 200, 32
	a, _ := newTestIndex(t, n, dim)
	b := filepath.Join(t.TempDir(), "b.sqlite")
	if err := copyFile(a, b); err != nil {
		t.Fatal(err)
	}
	load(t, a, nil) // writes a's vector file
	// b: same rows, then one row changed; then a's file copied beside b,
	// and b's generation set back to a's by hand.
	db, err := sql.Open("sqlite", b)
	if err != nil {
		t.Fatal(err)
	}
	q := make([]float32, dim)
	q[0] = 1
	if _, err := db.Exec(`UPDATE images SET embedding = ? WHERE path = '/p/00003.jpg'`, halfBytes(Encode(q))); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE vectors_state SET generation = generation - 1, uid = 'other'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := copyFile(VectorFile(a), VectorFile(b)); err != nil {
		t.Fatal(err)
	}
	if v, mapped := load(t, b, nil); mapped {
		t.Fatalf("another index's vector file used (%d vectors)", v.Len())
	}
	if h := top1(t, b, q); h.Path != "/p/00003.jpg" {
		t.Fatalf("top hit %+v, want /p/00003.jpg", h)
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// TestVectorFileDamaged: a truncated or scribbled vector file is not used.
func TestVectorFileDamaged(t *testing.T) {
	path, _ := newTestIndex(t, 100, 32)
	load(t, path, nil)
	vf := VectorFile(path)
	st, _ := os.Stat(vf)
	if err := os.Truncate(vf, st.Size()-1); err != nil {
		t.Fatal(err)
	}
	if v, mapped := load(t, path, nil); mapped || v.Len() != 100 {
		t.Fatalf("truncated file: mapped %v, %d vectors", mapped, v.Len())
	}
	b, _ := os.ReadFile(vf)
	b[20]++ // the count, under the checksum
	os.WriteFile(vf, b, 0o644)
	if v, mapped := load(t, path, nil); mapped || v.Len() != 100 {
		t.Fatalf("scribbled header: mapped %v, %d vectors", mapped, v.Len())
	}
}

// TestVectorFileMapAndReadAgree: the mapping and the plain-read fallback
// give the same vectors as SQLite, and --under's filter the same subset.
func TestVectorFileMapAndReadAgree(t *testing.T) {
	const n, dim = 500, 48
	path, _ := newTestIndex(t, n, dim)
	fromSQL, mapped := load(t, path, nil)
	if mapped {
		t.Fatal("first load mapped")
	}
	ix, err := Open(context.Background(), path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	gen, _ := ix.generation(context.Background())
	ix.Close()
	mappedV, err := readVectorFileWith(VectorFile(path), gen, dim, mapFile)
	if err != nil {
		t.Fatal(err)
	}
	defer mappedV.Close()
	readV, err := readVectorFileWith(VectorFile(path), gen, dim, readFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]*Vectors{"mapped": mappedV, "read": readV} {
		if !slices.Equal(v.Paths, fromSQL.Paths) || !slices.Equal(v.Codes, fromSQL.Codes) ||
			!slices.Equal(v.q8, fromSQL.q8) || !slices.Equal(v.scale, fromSQL.scale) {
			t.Errorf("%s vector file differs from the SQLite rows", name)
		}
	}
	// Searches agree too (the mapped vectors rescore rows read with pread).
	if mappedV.file == nil {
		t.Error("mapped vectors do not read rows for rescoring from the file")
	}
	many := &Vectors{Dim: dim}
	for range 40 { // past Search's size for the int8 scan
		for i := range fromSQL.Len() {
			many.Paths = append(many.Paths, fromSQL.Paths[i])
		}
		many.Codes = append(many.Codes, fromSQL.Codes...)
	}
	many.quantize()
	dir := t.TempDir()
	manyGen := generation{uid: "0123456789abcdef0123456789abcdef", n: 7, ok: true}
	if err := writeVectorFile(filepath.Join(dir, "v"), many, manyGen); err != nil {
		t.Fatal(err)
	}
	manyMapped, err := readVectorFile(filepath.Join(dir, "v"), manyGen, dim)
	if err != nil {
		t.Fatal(err)
	}
	defer manyMapped.Close()
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		q := clipLike(r, 1, dim)[0]
		a := many.Search(q, SearchOptions{K: 10, Workers: 2})
		b := manyMapped.Search(q, SearchOptions{K: 10, Workers: 2})
		if !slices.Equal(a, b) {
			t.Fatalf("search over mapped vectors %v, over memory %v", b, a)
		}
	}
	keep := func(p string) bool { return p < "/p/00100.jpg" }
	sub, _ := load(t, path, keep)
	defer sub.Close()
	if sub.Len() != 100 || !slices.Equal(sub.Codes, fromSQL.Codes[:100*dim]) || !slices.Equal(sub.q8, fromSQL.q8[:100*dim]) {
		t.Errorf("filtered load: %d vectors, want the first 100", sub.Len())
	}
}

// TestWriteVectorFile: clip index's call writes the file, and leaves a
// current one alone.
func TestWriteVectorFile(t *testing.T) {
	path, _ := newTestIndex(t, 50, 16)
	ix, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.WriteVectorFile(context.Background()); err != nil {
		t.Fatal(err)
	}
	st1, err := os.Stat(VectorFile(path))
	if err != nil {
		t.Fatal(err)
	}
	os.Chtimes(VectorFile(path), st1.ModTime().Add(-1e9*3600), st1.ModTime().Add(-1e9*3600))
	if err := ix.WriteVectorFile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(VectorFile(path)); !st2.ModTime().Before(st1.ModTime()) {
		t.Error("a current vector file was rewritten")
	}
	if _, mapped := load(t, path, nil); !mapped {
		t.Error("the written vector file is not used")
	}

	// A killed writer's temporary file goes once abandoned, a fresh one
	// (maybe still being written) stays.
	old := filepath.Join(filepath.Dir(path), "."+filepath.Base(VectorFile(path))+".123.tmp")
	fresh := filepath.Join(filepath.Dir(path), "."+filepath.Base(VectorFile(path))+".456.tmp")
	for _, f := range []string{old, fresh} {
		if err := os.WriteFile(f, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Chtimes(old, st1.ModTime().Add(-1e9*3600), st1.ModTime().Add(-1e9*3600))
	db, _ := sql.Open("sqlite", path)
	db.Exec(`DELETE FROM images WHERE path = '/p/00001.jpg'`)
	db.Close()
	if err := ix.WriteVectorFile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); err == nil {
		t.Error("abandoned temporary file left")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh temporary file was removed")
	}
}

// BenchmarkDotsInt8 is the int8 scan kernel on 512-d codes, against its
// Go twin.
func BenchmarkDotsInt8(b *testing.B) {
	const dim = 512
	r := rand.New(rand.NewPCG(1, 1))
	q := make([]float32, dim)
	for i := range q {
		q[i] = float32(r.NormFloat64())
	}
	qi, _ := quantizeQuery(q)
	codes := make([]int8, scanBlock*dim)
	for i := range codes {
		codes[i] = int8(r.IntN(255) - 127)
	}
	out := make([]int32, scanBlock)
	for name, fn := range map[string]func([]int16, []int8, int, []int32){"kernel": dotsInt8, "go": dotsInt8Go} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(codes)))
			for b.Loop() {
				fn(qi, codes, dim, out)
			}
		})
	}
}

// TestQuantizeRow compares the int8 codes with round(x·127/max|x|) in
// float64, and checks the all-zero and non-finite rows.
func TestQuantizeRow(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	h := make([]uint16, 512)
	dst := make([]int8, 512)
	var off int
	for range 200 {
		for i := range h {
			h[i] = ToFloat16(float32(r.NormFloat64() / 22.6))
		}
		scale := quantizeRow(dst, h)
		var peak float64
		for _, c := range h {
			peak = max(peak, math.Abs(float64(halfToFloat(c))))
		}
		if math.Abs(float64(scale)-peak/127) > 1e-6*peak {
			t.Fatalf("scale %g, want %g", scale, peak/127)
		}
		for i, c := range h {
			want := math.Round(float64(halfToFloat(c)) * 127 / peak)
			if d := math.Abs(float64(dst[i]) - want); d > 1 {
				t.Fatalf("code of %g: %d, want %g", halfToFloat(c), dst[i], want)
			} else if d != 0 {
				off++ // a float32 rounding at a half step
			}
		}
	}
	if off > 200*512/1000 {
		t.Errorf("%d of %d codes off by one", off, 200*512)
	}
	clear(h)
	if s := quantizeRow(dst, h); s != 0 || slices.ContainsFunc(dst, func(c int8) bool { return c != 0 }) {
		t.Errorf("zero row: scale %g, codes %v", s, dst[:4])
	}
	h[3] = 0x7c00 // +Inf
	if s := quantizeRow(dst, h); s != 0 {
		t.Errorf("row with Inf: scale %g", s)
	}
}

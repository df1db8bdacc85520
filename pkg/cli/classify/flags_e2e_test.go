package classify_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClassifyFlagBehaviour checks, on the real tiny model, what each of
// the remaining flags does to the output.
func TestClassifyFlagBehaviour(t *testing.T) {
	model := tinyModel(t)
	imgs := shapeImages(t)
	home := t.TempDir()
	base := []string{"classify", "--model", model, "--offline", "-q", "--labels", labels}

	// Directory walking: top level, -r, --include, --exclude.
	dir := t.TempDir()
	cp := func(src, dst string) {
		b, _ := os.ReadFile(src)
		os.MkdirAll(filepath.Dir(filepath.Join(dir, dst)), 0o755)
		os.WriteFile(filepath.Join(dir, dst), b, 0o644)
	}
	cp(imgs[0], "a.png")
	cp(imgs[1], "b.png")
	cp(imgs[2], "sub/c.png")
	cp(imgs[3], "sub/skip-d.png")
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644)
	files := func(args ...string) string {
		r := run(t, home, "", append(append(append([]string{}, base...), args...), dir)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		var out []string
		for _, rec := range records(t, r.stdout) {
			rel, _ := filepath.Rel(dir, rec.File)
			out = append(out, filepath.ToSlash(rel))
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "a.png b.png"},
		{[]string{"-r"}, "a.png b.png sub/c.png sub/skip-d.png"},
		{[]string{"-r", "--exclude", "skip-*"}, "a.png b.png sub/c.png"},
		{[]string{"-r", "--include", "sub/*.png"}, "sub/c.png sub/skip-d.png"},
	} {
		if got := files(c.args...); got != c.want {
			t.Errorf("%v: classified %q, want %q", c.args, got, c.want)
		}
	}

	probs := func(args ...string) []float64 {
		r := run(t, home, "", append(append(append([]string{}, base...), args...), imgs[:9]...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		var p []float64
		for _, rec := range records(t, r.stdout) {
			for _, s := range rec.Labels {
				p = append(p, s.Probability)
			}
		}
		return p
	}
	maxDiff := func(a, b []float64) float64 {
		d := 0.0
		for i := range a {
			d = math.Max(d, math.Abs(a[i]-b[i]))
		}
		return d
	}
	ref := probs()
	if d := maxDiff(ref, probs("-b", "1")); d > 1e-6 {
		t.Errorf("--batch-size 1 changes probabilities by %g", d)
	}
	if d := maxDiff(ref, probs("--threads", "1")); d > 1e-6 {
		t.Errorf("--threads 1 changes probabilities by %g", d)
	}
	// The reduced-precision exports give close, not identical, answers.
	for variant, tol := range map[string]float64{"fp16": 0.05, "quantized": 0.2} {
		d := maxDiff(ref, probs("--variant", variant))
		t.Logf("--variant %s: max |ΔP| vs fp32 %.3g", variant, d)
		if d > tol || d == 0 {
			t.Errorf("--variant %s: max |ΔP| %g (want a different file, within %g)", variant, d, tol)
		}
	}

	// EXIF orientation: a rotated JPEG gives other pixels without rotation.
	rotated := filepath.Join(repoRoot, "testdata", "images", "exif_orientation_6.jpg")
	with := run(t, home, "", append(append([]string{}, base...), rotated)...)
	without := run(t, home, "", append(append([]string{}, base...), "--no-exif-rotate", rotated)...)
	if with.code != 0 || without.code != 0 || with.stdout == without.stdout {
		t.Errorf("--no-exif-rotate made no difference (exit %d/%d)", with.code, without.code)
	}

	// Size limits: images over --max-megapixels and URLs over --url-max-bytes are error records.
	big := run(t, home, "", append(append([]string{}, base...), "--max-megapixels", "0.001", imgs[0])...)
	if big.code != 3 || !strings.Contains(records(t, big.stdout)[0].Error, "large") {
		t.Errorf("--max-megapixels: exit %d, %s", big.code, big.stdout)
	}
	body, _ := os.ReadFile(imgs[0])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(body)
	}))
	defer srv.Close()
	capped := run(t, home, "", "classify", "--model", model, "-q", "--labels", labels, "--url-max-bytes", "100", srv.URL+"/x.png")
	if capped.code != 3 || !strings.Contains(records(t, capped.stdout)[0].Error, "limit") {
		t.Errorf("--url-max-bytes: exit %d, %s", capped.code, capped.stdout)
	}
}

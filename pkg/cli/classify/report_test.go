package classify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --report writes one card per input, grouped by the label the records
// give, with the unreadable file first; a bad path is a usage error at once.
func TestClassifyReportHasACardPerInputUnderItsLabel(t *testing.T) {
	model := tinyModel(t)
	imgs := shapeImages(t)[:6]
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.png")
	if err := os.WriteFile(broken, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.html")
	r := run(t, t.TempDir(), "", append([]string{"classify", "--model", model, "--offline", "--labels", labels,
		"--max-errors", "1", "--report", out, broken}, imgs...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "report: "+out+" (") || !strings.Contains(r.stderr, "kB per image)") {
		t.Errorf("stderr does not give the report's size:\n%s", r.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if n := strings.Count(page, `<article class="card"`); n != len(imgs)+1 {
		t.Errorf("%d cards for %d inputs", n, len(imgs)+1)
	}
	recs := records(t, run(t, t.TempDir(), "", append([]string{"classify", "--model", model, "--offline", "--labels", labels, "--format", "jsonl", "-q"}, imgs...)...).stdout)
	for _, rec := range recs {
		// Each file's card sits in the section of its label (sections are
		// in order, so the last heading before the card names it).
		at := strings.Index(page, `<h3 title="`+rec.File+`"`)
		if at < 0 {
			t.Errorf("no card for %s", rec.File)
			continue
		}
		h := page[strings.LastIndex(page[:at], "<h2 "):at]
		if !strings.Contains(h, ">"+rec.Label+" <span") {
			t.Errorf("%s (%s) is under %.60q", rec.File, rec.Label, h)
		}
	}
	if u := strings.Index(page, ">unreadable <span"); u < 0 || u > strings.Index(page, `<h3 title="`+imgs[0]) {
		t.Error("the unreadable group is not first")
	}
	if !strings.Contains(page, "tiny-shapes") {
		t.Error("the footer does not name the model")
	}

	bad := run(t, t.TempDir(), "", "classify", "--model", model, "--offline", "--labels", labels,
		"--report", filepath.Join(dir, "missing", "r.html"), imgs[0])
	if bad.code != 2 || !strings.Contains(bad.stderr, "--report") {
		t.Errorf("report in a missing directory: exit %d, %q", bad.code, bad.stderr)
	}
	if r := run(t, t.TempDir(), "", "classify", "--model", model, "--offline", "--labels", labels, "--report", "-", imgs[0]); r.code != 2 || !strings.Contains(r.stderr, "--report") {
		t.Errorf("--report -: exit %d, %q", r.code, r.stderr)
	}
}

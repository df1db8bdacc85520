package classify_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestClassifyWarnsAboutSpoiltPrompts: a label longer than the model's
// context, a single label and a template without {} each get one warning
// on stderr naming it, and the same warnings in the --summary file.
func TestClassifyWarnsAboutSpoiltPrompts(t *testing.T) {
	model := tinyModel(t)
	img := shapeImages(t)[0]
	home := t.TempDir()
	long := strings.Repeat("very ", 80) + "red circle"
	summary := filepath.Join(t.TempDir(), "s.json")
	r := run(t, home, "", "classify", img, "--model", model, "--offline", "--labels", long+",green square", "--summary", summary)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := `clip: warning: label "` + long + `": its prompt is `
	if strings.Count(r.stderr, want) != 1 || !strings.Contains(r.stderr, "longer than the model's context of 77: the end is cut off\n") {
		t.Errorf("stderr lacks one long-label warning %q:\n%s", want, r.stderr)
	}
	if strings.Contains(r.stderr, `"green square": its prompt`) {
		t.Errorf("short label warned about:\n%s", r.stderr)
	}
	var s struct {
		Warnings  []string `json:"warnings"`
		Templates []string `json:"templates"`
	}
	b, _ := os.ReadFile(summary)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) != 1 || !strings.HasPrefix(s.Warnings[0], `label "`+long+`": its prompt is `) {
		t.Errorf("summary warnings = %q", s.Warnings)
	}
	if len(s.Templates) != 1 || s.Templates[0] != "a photo of a {}." {
		t.Errorf("summary templates = %q, want the default template used", s.Templates)
	}

	r = run(t, home, "", "classify", img, "--model", model, "--offline", "--labels", "red circle", "-t", "a photo of")
	for _, w := range []string{
		`clip: warning: only one label ("red circle"): its probability is always 1.000 under softmax`,
		`clip: warning: --template "a photo of" has no {}: the label is appended to it ("a photo of LABEL")`,
	} {
		if !strings.Contains(r.stderr, w+"") {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	if r = run(t, home, "", "classify", img, "--model", model, "--offline", "--labels", "red circle", "-q"); strings.Contains(r.stderr, "warning") {
		t.Errorf("-q still warns: %q", r.stderr)
	}
}

// TestClassifySummaryKeysSnakeCase: every key of the summary (but label
// names, which are data) is snake_case, the model's preprocessing included.
func TestClassifySummaryKeysSnakeCase(t *testing.T) {
	model := tinyModel(t)
	summary := filepath.Join(t.TempDir(), "s.json")
	r := run(t, t.TempDir(), "", "classify", shapeImages(t)[0], "--model", model, "--offline", "--labels", "red circle,green square", "--summary", summary)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, _ := os.ReadFile(summary)
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch t2 := v.(type) {
		case map[string]any:
			for k, x := range t2 {
				if !snake.MatchString(k) && !strings.HasSuffix(path, ".per_label") {
					t.Errorf("summary key %s.%s is not snake_case", path, k)
				}
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range t2 {
				walk(path+"[]", x)
			}
		}
	}
	walk("", v)
	if !strings.Contains(string(b), `"resample": "bicubic"`) {
		t.Errorf("preprocess resample not by name:\n%s", b)
	}
}

// TestClassifyThresholdKeepsTheRanking: below --threshold the JSON record
// says "unknown" and still ranks every label; the table names the best.
func TestClassifyThresholdKeepsTheRanking(t *testing.T) {
	model := tinyModel(t)
	img := filepath.Join(repoRoot, "testdata", "shapes", "blue-square-1.png")
	args := []string{"classify", img, "--model", model, "--offline", "-q", "--labels", "red circle,green square,purple triangle,orange cross", "--threshold", "0.99"}
	r := run(t, t.TempDir(), "", append(args, "--format", "jsonl")...)
	recs := records(t, r.stdout)
	if r.code != 0 || len(recs) != 1 || recs[0].Label != "unknown" || len(recs[0].Labels) != 4 || recs[0].Labels[0].Label == "unknown" {
		t.Fatalf("exit %d, records %+v", r.code, recs)
	}
	best := recs[0].Labels[0]
	r = run(t, t.TempDir(), "", append(args, "--format", "table")...)
	want := fmt.Sprintf("unknown (best: %s)", best.Label)
	if r.code != 0 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, fmt.Sprintf("%.3f", best.Probability)) {
		t.Errorf("table lacks %q %.3f:\n%s", want, best.Probability, r.stdout)
	}
}

package diff_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/diff"
	"github.com/clip-go/clip/pkg/cli/iostreams"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	f := &cmdutil.Factory{IOStreams: ios, Version: "test", Commit: "test", Globals: &cmdutil.GlobalOptions{},
		Getenv: func(string) string { return "" }}
	code := cli.Run(context.Background(), f, append([]string{"diff"}, args...))
	return result{code, out.String(), errOut.String()}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Records as clip classify writes them (README's record schema).
const baseline = `{"schema":1,"file":"a.png","label":"cat","probability":0.9,"labels":[{"label":"cat","probability":0.9,"similarity":0.3},{"label":"dog","probability":0.1,"similarity":0.2}]}
{"schema":1,"file":"b.png","label":"dog","probability":0.8,"labels":[{"label":"dog","probability":0.8,"similarity":0.3},{"label":"cat","probability":0.2,"similarity":0.2}]}
{"schema":1,"file":"c.png","error":"unexpected EOF"}
{"schema":1,"file":"d.png","label":"cat","probability":0.7,"labels":[{"label":"cat","probability":0.7,"similarity":0.3},{"label":"dog","probability":0.3,"similarity":0.2}]}
`

func TestDiffNoChangeExitsZero(t *testing.T) {
	old := write(t, "old.jsonl", baseline)
	// The same records as a json array (--format json), probabilities
	// moved within the tolerance.
	var recs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(strings.ReplaceAll(baseline, "0.9,", "0.905,")), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, m)
	}
	arr, _ := json.Marshal(recs)
	r := run(t, string(arr), old, "-", "--format", "jsonl")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "no changes in 4 images") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and no changes", r.code, r.stdout, r.stderr)
	}
}

func TestDiffReportsEachKindOfChange(t *testing.T) {
	old := write(t, "old.jsonl", baseline)
	cur := write(t, "new.jsonl", `{"schema":1,"file":"e.png","label":"dog","probability":0.6}
{"schema":1,"file":"a.png","label":"dog","probability":0.55,"labels":[{"label":"dog","probability":0.55,"similarity":0.3},{"label":"cat","probability":0.45,"similarity":0.2}]}
{"schema":1,"file":"b.png","error":"truncated"}
{"schema":1,"file":"c.png","label":"cat","probability":0.99}
`)
	// d.png is gone, e.png is new.
	r := run(t, "", old, cur, "--format", "jsonl")
	if r.code != cmdutil.ExitCheckFailed || !strings.Contains(r.stderr, "5 changes in 5 images") {
		t.Fatalf("exit %d, stderr %q; want 1 and 5 changes", r.code, r.stderr)
	}
	var got []diff.Change
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	for dec.More() {
		var c diff.Change
		if err := dec.Decode(&c); err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	want := []struct{ file, change, oldLabel, newLabel string }{
		{"a.png", diff.Label, "cat", "dog"},
		{"b.png", diff.Unreadable, "dog", ""},
		{"c.png", diff.Readable, "", "cat"},
		{"d.png", diff.Disappeared, "cat", ""},
		{"e.png", diff.Appeared, "", "dog"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d changes, want %d:\n%s", len(got), len(want), r.stdout)
	}
	for i, w := range want {
		g := got[i]
		if g.File != w.file || g.Change != w.change || g.OldLabel != w.oldLabel || g.NewLabel != w.newLabel {
			t.Errorf("change %d = %+v, want %+v", i, g, w)
		}
	}
	if got[1].Error != "truncated" {
		t.Errorf("unreadable change lacks the new error: %+v", got[1])
	}
}

func TestDiffProbabilityTolerance(t *testing.T) {
	old := write(t, "old.jsonl", baseline)
	cur := write(t, "new.jsonl", strings.Replace(strings.Replace(baseline,
		`"probability":0.7,"labels":[{"label":"cat","probability":0.7`, `"probability":0.6,"labels":[{"label":"cat","probability":0.6`, 1),
		`{"label":"dog","probability":0.3,`, `{"label":"dog","probability":0.4,`, 1))
	r := run(t, "", old, cur, "--format", "table")
	if r.code != cmdutil.ExitCheckFailed {
		t.Fatalf("exit %d (stderr %q), want 1 for a 0.1 move over the 0.01 default", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "d.png") || !strings.Contains(lines[1], "probability") ||
		!strings.Contains(lines[1], "cat 0.700") || !strings.Contains(lines[1], "cat 0.600") {
		t.Errorf("table:\n%s", r.stdout)
	}
	if r := run(t, "", old, cur, "--tolerance", "0.2"); r.code != 0 {
		t.Errorf("--tolerance 0.2: exit %d, want 0 (stdout %q)", r.code, r.stdout)
	}
}

func TestDiffBadInputIsUsageError(t *testing.T) {
	old := write(t, "old.jsonl", baseline)
	for name, tc := range map[string]struct{ content, want string }{
		"malformed": {baseline + "{not json\n", "new.jsonl:5: not a JSON record"},
		"duplicate": {baseline + `{"schema":1,"file":"a.png","label":"cat","probability":0.9}` + "\n", "a.png appears twice"},
		"no file":   {`{"schema":1,"label":"cat"}` + "\n", `without "file"`},
	} {
		cur := write(t, "new.jsonl", tc.content)
		r := run(t, "", old, cur)
		if r.code != cmdutil.ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", name, r.code, r.stderr, tc.want)
		}
	}
	if r := run(t, "", old, filepath.Join(t.TempDir(), "missing.jsonl")); r.code != cmdutil.ExitUsage || !strings.Contains(r.stderr, "missing.jsonl") {
		t.Errorf("missing file: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(t, "", old, old, "--tolerance", "-1"); r.code != cmdutil.ExitUsage {
		t.Errorf("--tolerance -1: exit %d", r.code)
	}
}

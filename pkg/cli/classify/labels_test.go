package classify

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/clip"
)

func TestParseLabelFlags(t *testing.T) {
	got, err := parseLabelFlags([]string{"cat, dog", `"red, white and blue",zebra`})
	if err != nil {
		t.Fatal(err)
	}
	want := []clip.Label{{Name: "cat"}, {Name: "dog"}, {Name: "red, white and blue"}, {Name: "zebra"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"a,,b", `"unterminated`, ""} {
		if _, err := parseLabelFlags([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestReadLabelsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, body string
		want       []clip.Label
	}{
		{"a.txt", "# animals\ncat\n\n  dog  \r\nzebra\n", []clip.Label{{Name: "cat"}, {Name: "dog"}, {Name: "zebra"}}},
		{"b.json", `["cat", "dog"]`, []clip.Label{{Name: "cat"}, {Name: "dog"}}},
		{"c.json", `{"zebra": ["a striped horse", "a zebra"], "cat": "a kitten", "dog": null}`,
			[]clip.Label{{Name: "zebra", Prompts: []string{"a striped horse", "a zebra"}}, {Name: "cat", Prompts: []string{"a kitten"}}, {Name: "dog"}}},
		{"d.yaml", "zebra:\n  - a striped horse\ncat: a kitten\n", []clip.Label{{Name: "zebra", Prompts: []string{"a striped horse"}}, {Name: "cat", Prompts: []string{"a kitten"}}}},
		{"e.yml", "- cat\n- dog\n", []clip.Label{{Name: "cat"}, {Name: "dog"}}},
	}
	for _, c := range cases {
		got, err := readLabelsFile(write(c.name, c.body))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
	bad := map[string]string{
		"empty.txt":   "# nothing\n\n",
		"bad.json":    `{"cat": [1, 2]}`,
		"broken.json": `["cat",`,
		"bad.yaml":    "cat: [unclosed\n",
		"num.yaml":    "cat: 3\n",
		"binary.txt":  "cat\x00\xff\n",
	}
	for name, body := range bad {
		p := write(name, body)
		_, err := readLabelsFile(p)
		if err == nil {
			t.Errorf("%s accepted", name)
		} else if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	if _, err := readLabelsFile(filepath.Join(dir, "missing.txt")); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("missing file: %v", err)
	}
}

// TestLabelsFileBOM: a UTF-8 byte order mark (Windows editors write one)
// must not become part of the first label.
func TestLabelsFileBOM(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"l.txt":  "cat\ndog\n",
		"l.json": `["cat", "dog"]`,
		"m.json": `{"cat": null, "dog": null}`,
		"l.yaml": "- cat\n- dog\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("\uFEFF"+body), 0o644)
		got, err := readLabelsFile(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) != 2 || got[0].Name != "cat" || got[1].Name != "dog" {
			t.Errorf("%s: labels %q, want cat, dog", name, got)
		}
	}
}

func TestLabelsFileNotStdin(t *testing.T) {
	if _, err := readLabelsFile("-"); err == nil || !strings.Contains(err.Error(), "standard input") {
		t.Errorf(`--labels-file -: %v, want a refusal that says why`, err)
	}
}

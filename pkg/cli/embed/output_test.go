package embed_test

import (
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbedTextOperandsAndRecordOrder: `--text "a cat" "a dog"` (the
// README's form) embeds both texts, in that order, and records keep
// classify's field order: schema, text/file, embedding.
func TestEmbedTextOperandsAndRecordOrder(t *testing.T) {
	model := tinyModel(t)
	code, out, errOut := run(t, "embed", "--model", model, "--offline", "--text", "a cat", "a dog")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], `{"schema":1,"text":"a cat","embedding":[`) || !strings.HasPrefix(lines[1], `{"schema":1,"text":"a dog","embedding":[`) {
		t.Errorf("records:\n%s", out)
	}
	img := filepath.Join(repoRoot, "testdata", "shapes", "red-circle-1.png")
	code, out, _ = run(t, "embed", "--model", model, "--offline", "--out", filepath.Join(t.TempDir(), "e.npy"), img)
	if code != 0 || out != `{"schema":1,"file":"`+img+`","row":0}`+"\n" {
		t.Errorf("--out record: exit %d, %q", code, out)
	}
}

// TestEmbedCSVOneColumnPerDimension, with a failed input first (its row
// waits for the header, which the first embedding sizes).
func TestEmbedCSVOneColumnPerDimension(t *testing.T) {
	model := tinyModel(t)
	img := filepath.Join(repoRoot, "testdata", "shapes", "red-circle-1.png")
	missing := filepath.Join(t.TempDir(), "missing.png")
	code, out, errOut := run(t, "embed", "--model", model, "--offline", "--format", "csv", "--max-errors", "1", missing, img)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(rows) != 3 {
		t.Fatalf("%d CSV rows, want header + 2:\n%s", len(rows), out)
	}
	head := rows[0]
	dim := len(head) - 3
	if dim < 2 || strings.Join(head[:5], ",") != "file,row,error,e0,e1" || head[len(head)-1] != "e"+itoa(dim-1) {
		t.Errorf("header %v", head)
	}
	if rows[1][0] != missing || rows[1][2] == "" || rows[2][0] != img || rows[2][2] != "" || rows[2][3] == "" {
		t.Errorf("rows %q / %q", rows[1][:4], rows[2][:4])
	}
	code, out, _ = run(t, "embed", "--model", model, "--offline", "--format", "csv", "--text", "a cat")
	if code != 0 || !strings.HasPrefix(out, "text,row,error,e0,") {
		t.Errorf("text CSV: exit %d, %q", code, out)
	}
}

func itoa(n int) string {
	s := ""
	for {
		s = string(rune('0'+n%10)) + s
		n /= 10
		if n == 0 {
			return s
		}
	}
}

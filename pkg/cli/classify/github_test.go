package classify

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The escapes of GitHub's workflow commands, as the runner decodes them
// (actions/toolkit's command.ts): data escapes %, \r, \n; properties also
// : and ,.
func TestWorkflowCommandEscaping(t *testing.T) {
	if got, want := escapeData("50% done\r\nnext: a,b"), "50%25 done%0D%0Anext: a,b"; got != want {
		t.Errorf("escapeData = %q, want %q", got, want)
	}
	if got, want := escapeProperty("dir:a,b/100%\nx.png"), "dir%3Aa%2Cb/100%25%0Ax.png"; got != want {
		t.Errorf("escapeProperty = %q, want %q", got, want)
	}
}

func TestAnnotationsCappedPerType(t *testing.T) {
	var entries []ciEntry
	for i := 0; i < 25; i++ {
		entries = append(entries, ciEntry{file: fmt.Sprintf("img%02d.png", i), label: "dog", checkKind: checkExpect, why: "is dog"})
	}
	for i := 0; i < 12; i++ {
		entries = append(entries, ciEntry{file: fmt.Sprintf("bad%02d.png", i), err: "truncated"})
	}
	entries = append(entries, ciEntry{file: "https://example.test/a.png", err: "404"})
	var b strings.Builder
	if err := writeAnnotations(&b, entries, 100); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var notice string
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		level := strings.SplitN(strings.TrimPrefix(l, "::"), " ", 2)[0]
		count[level]++
		if level == "notice" {
			notice = l
		}
	}
	if count["error"] != 10 || count["warning"] != 10 || count["notice"] != 1 {
		t.Fatalf("counts %v, want 10 errors, 10 warnings (unreadable within --max-errors), 1 notice:\n%s", count, b.String())
	}
	if !strings.Contains(notice, "15 more errors and 3 more warnings") {
		t.Errorf("notice %q", notice)
	}
	// Over --max-errors, unreadable images fail the run: errors.
	b.Reset()
	_ = writeAnnotations(&b, entries[25:], 0)
	if !strings.HasPrefix(b.String(), "::error file=bad00.png,title=clip%3A unreadable image::bad00.png: truncated\n") {
		t.Errorf("got %q", b.String())
	}
	if strings.Contains(b.String(), "file=https") {
		t.Errorf("a URL got a file= property:\n%s", b.String())
	}
}

func TestStepSummaryStaysUnderLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	// An earlier step of the job already wrote most of the budget.
	if err := os.WriteFile(path, []byte(strings.Repeat("x", maxStepSummaryBytes-50_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	var entries []ciEntry
	for i := 0; i < 5000; i++ {
		entries = append(entries, ciEntry{file: fmt.Sprintf("photos/%05d|<b>*x*</b>.jpg", i), label: "cat", probability: 0.9})
	}
	if err := appendStepSummary(path, entries, []string{"cat", "dog"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if len(data) > maxStepSummaryBytes {
		t.Errorf("summary is %d bytes, over GitHub's %d", len(data), maxStepSummaryBytes)
	}
	md := string(data[maxStepSummaryBytes-50_000:])
	if !strings.Contains(md, "| cat | 5000 |") || !strings.Contains(md, "more images not listed") {
		t.Errorf("summary lacks the counts or the cut notice:\n%.500s", md)
	}
	if !strings.Contains(md, `| photos/00000\|&lt;b&gt;\*x\*&lt;/b&gt;.jpg | cat | 0.900 | ok |`) {
		t.Errorf("file cell not escaped:\n%.800s", md)
	}
	// A file already at the limit: an error, not a summary over it.
	if err := appendStepSummary(path, entries, []string{"cat"}); err == nil {
		t.Error("no error when the summary file is already full")
	}
}

package classify

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/clip"
)

// formatGitHub is classify's own --format: GitHub Actions workflow commands.
const formatGitHub = "github"

// outputFormat resolves --format for classify, which also takes "github"
// (the root command has rejected any other unknown format).
// GITHUB_ACTIONS=true does not change stdout's format (a jq pipeline in a
// workflow still gets jsonl); it only turns on the step summary.
func outputFormat(f *cmdutil.Factory) (string, error) {
	if f.Globals.Format == formatGitHub {
		return formatGitHub, nil
	}
	return f.OutputFormat()
}

// stepSummaryPath is the file the Markdown summary is appended to: GitHub's
// $GITHUB_STEP_SUMMARY, with --format github or inside GitHub Actions.
func stepSummaryPath(f *cmdutil.Factory, format string) string {
	path := f.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" || (format != formatGitHub && f.Getenv("GITHUB_ACTIONS") != "true") {
		return ""
	}
	return path
}

// GitHub's limits: annotations shown per step and type, and the size of
// one step's summary.
const (
	maxAnnotationsPerType = 10
	maxStepSummaryBytes   = 1 << 20
)

// gitHubWriter is --format github's stdout while images stream: the results
// table, folded in a log group. Stop-commands around the rows keep a file
// named like a workflow command ("::error::…") from being run as one.
type gitHubWriter struct {
	w     io.Writer
	table *tableWriter
	token string
}

func newGitHubWriter(w io.Writer, labels, files []string, threshold bool, n int) (*gitHubWriter, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	g := &gitHubWriter{w: w, table: newTableWriter(w, labels, files, threshold), token: hex.EncodeToString(b[:])}
	_, err := fmt.Fprintf(w, "::group::clip classify: %d images\n::stop-commands::%s\n", n, g.token)
	return g, err
}

func (g *gitHubWriter) Write(r clip.Record) error { return g.table.Write(r) }

func (g *gitHubWriter) Close() error {
	_, err := fmt.Fprintf(g.w, "::%s::\n::endgroup::\n", g.token)
	return err
}

// writeAnnotations writes one ::error per image that failed a check and per
// unreadable image when they fail the run (more than --max-errors), else
// ::warning, at most maxAnnotationsPerType of each, then one ::notice
// counting those left out.
func writeAnnotations(w io.Writer, entries []ciEntry, maxErrors int) error {
	unreadable := 0
	for _, e := range entries {
		if e.err != "" {
			unreadable++
		}
	}
	unreadableLevel := "warning"
	if unreadable > maxErrors {
		unreadableLevel = "error"
	}
	var b strings.Builder
	shown := map[string]int{}
	left := map[string]int{}
	for _, e := range entries {
		var level, title, msg string
		switch {
		case e.err != "":
			level, title, msg = unreadableLevel, "clip: unreadable image", e.file+": "+e.err
		case e.why != "":
			level, title, msg = "error", "clip: --"+e.checkKind+" failed", e.why
		default:
			continue
		}
		if shown[level] == maxAnnotationsPerType {
			left[level]++
			continue
		}
		shown[level]++
		b.WriteString("::" + level + " ")
		if isLocalFile(e.file) {
			b.WriteString("file=" + escapeProperty(e.file) + ",")
		}
		b.WriteString("title=" + escapeProperty(title) + "::" + escapeData(msg) + "\n")
	}
	if left["error"]+left["warning"] > 0 {
		fmt.Fprintf(&b, "::notice title=clip classify::%s\n", escapeData(fmt.Sprintf(
			"%d more errors and %d more warnings not annotated (GitHub shows %d of each per step); every image is in the log above",
			left["error"], left["warning"], maxAnnotationsPerType)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// isLocalFile tells a file path (which GitHub links to the repository) from
// a URL or stdin.
func isLocalFile(name string) bool { return name != "-" && !strings.Contains(name, "://") }

// escapeData escapes a workflow command's message, as actions/toolkit does.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value: also ':' and
// ',', which end a property.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// appendStepSummary appends a Markdown section to the step summary: totals,
// per-label counts, then one row per image until the section would pass
// GitHub's size limit (with what is already in the file).
func appendStepSummary(path string, entries []ciEntry, labels []string) error {
	existing := int64(0)
	if fi, err := os.Stat(path); err == nil {
		existing = fi.Size()
	}
	budget := int(maxStepSummaryBytes - existing)
	errs, fails := countEntries(entries)
	perLabel := map[string]int{}
	for _, e := range entries {
		if e.err == "" {
			perLabel[e.label]++
		}
	}
	var head strings.Builder
	fmt.Fprintf(&head, "### clip classify\n\n%d images: %d passed, %d failed a check, %d unreadable\n\n",
		len(entries), len(entries)-errs-fails, fails, errs)
	head.WriteString("| label | images |\n|---|---:|\n")
	order := append(append([]string(nil), labels...), clip.UnknownLabel)
	seen := map[string]bool{}
	for _, l := range order {
		if n := perLabel[l]; n > 0 && !seen[l] {
			seen[l] = true
			fmt.Fprintf(&head, "| %s | %d |\n", markdownCell(l), n)
		}
	}
	var rest []string
	for l := range perLabel {
		if !seen[l] {
			rest = append(rest, l)
		}
	}
	sort.Strings(rest)
	for _, l := range rest {
		fmt.Fprintf(&head, "| %s | %d |\n", markdownCell(l), perLabel[l])
	}
	head.WriteString("\n| file | label | probability | result |\n|---|---|---:|---|\n")

	const tailRoom = 200 // the "n more images" line and the final newline
	var b strings.Builder
	b.WriteString(head.String())
	if b.Len()+tailRoom > budget {
		return fmt.Errorf("%s already holds %d bytes of GitHub's %d", path, existing, maxStepSummaryBytes)
	}
	listed := 0
	for _, e := range entries {
		var row string
		switch {
		case e.err != "":
			row = fmt.Sprintf("| %s | | | unreadable: %s |\n", markdownCell(e.file), markdownCell(e.err))
		case e.why != "":
			row = fmt.Sprintf("| %s | %s | %.3f | failed --%s |\n", markdownCell(e.file), markdownCell(e.label), e.probability, e.checkKind)
		default:
			row = fmt.Sprintf("| %s | %s | %.3f | ok |\n", markdownCell(e.file), markdownCell(e.label), e.probability)
		}
		if b.Len()+len(row)+tailRoom > budget {
			break
		}
		b.WriteString(row)
		listed++
	}
	if listed < len(entries) {
		fmt.Fprintf(&b, "\n%d more images not listed (GitHub's step summary limit is 1 MiB).\n", len(entries)-listed)
	}
	b.WriteString("\n")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// markdownCell makes text safe in a GitHub Markdown table cell: no pipe,
// no newline, no HTML, no emphasis or links.
var markdownCell = strings.NewReplacer(
	"|", `\|`, "\r", " ", "\n", " ", "&", "&amp;", "<", "&lt;", ">", "&gt;",
	`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`,
).Replace

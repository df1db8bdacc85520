package cli

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/root"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// readmeCommand is one shell command line from a fenced block of README.md
// (continuation lines joined), with the output the README shows for it:
// the plain block right after a one-command block, when that block holds
// no command.
type readmeCommand struct {
	line   int
	text   string
	output *string
}

// readmeBlock is one fenced block: its language and lines.
type readmeBlock struct {
	lang  string
	line  int // of the first line inside
	lines []string
	next  bool // the next block follows with only blank lines between
}

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	var cur *readmeBlock
	sc := bufio.NewScanner(bytes.NewReader(b))
	n, gapOnlyBlank := 0, false
	for sc.Scan() {
		n++
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "```") && cur == nil:
			if len(blocks) > 0 && gapOnlyBlank {
				blocks[len(blocks)-1].next = true
			}
			cur = &readmeBlock{lang: strings.TrimPrefix(l, "```"), line: n + 1}
		case strings.HasPrefix(l, "```"):
			blocks = append(blocks, *cur)
			cur, gapOnlyBlank = nil, true
		case cur != nil:
			cur.lines = append(cur.lines, l)
		case strings.TrimSpace(l) != "":
			gapOnlyBlank = false
		}
	}
	return blocks
}

// commandsOf joins a block's continuation lines into commands.
func commandsOf(b readmeBlock) []readmeCommand {
	var out []readmeCommand
	var cur *readmeCommand
	for i, l := range b.lines {
		if cur != nil {
			cur.text += " " + strings.TrimSpace(l)
		} else if strings.TrimSpace(l) != "" {
			cur = &readmeCommand{line: b.line + i, text: l}
		}
		if cur != nil && strings.HasSuffix(cur.text, `\`) {
			cur.text = strings.TrimSuffix(cur.text, `\`)
			continue
		}
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	return out
}

// readmeCommands returns the command lines of README.md's sh and plain
// fenced blocks.
func readmeCommands(t *testing.T) []readmeCommand {
	t.Helper()
	blocks := readmeBlocks(t)
	var out []readmeCommand
	for i, b := range blocks {
		if b.lang != "" && b.lang != "sh" {
			continue
		}
		cmds := commandsOf(b)
		if len(cmds) == 1 && b.lang == "sh" && b.next && i+1 < len(blocks) && blocks[i+1].lang == "" {
			shown := blocks[i+1]
			isOutput := true
			for _, c := range commandsOf(shown) {
				isOutput = isOutput && len(clipArgs(c.text)) == 0
			}
			if isOutput {
				text := strings.Join(shown.lines, "\n") + "\n"
				cmds[0].output = &text
			}
		}
		out = append(out, cmds...)
	}
	return out
}

// shellSegments splits a command line as the shell would into the words of
// each simple command (split at | && || ; > <), dropping a trailing comment.
// Globs and variables stay as written: enough to parse clip's flags.
func shellSegments(line string) [][]string {
	var segs [][]string
	var words []string
	var w strings.Builder
	inWord := false
	flushWord := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	flushSeg := func() {
		flushWord()
		if len(words) > 0 {
			segs = append(segs, words)
		}
		words = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				j = len(line) - i - 1
			}
			w.WriteString(line[i+1 : i+1+j])
			inWord, i = true, i+1+j
		case c == '"':
			inWord = true
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte(`"\$`+"`", line[i+1]) >= 0 {
					i++
				}
				w.WriteByte(line[i])
			}
		case c == '\\' && i+1 < len(line):
			i++
			w.WriteByte(line[i])
			inWord = true
		case c == '#' && !inWord:
			flushSeg()
			return segs
		case c == ' ' || c == '\t':
			flushWord()
		case strings.IndexByte("|&;<>", c) >= 0:
			flushSeg()
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	flushSeg()
	return segs
}

// clipArgs returns the arguments of each clip invocation on the line
// (`clip …` or `./clip …`, after any VAR=value assignments).
func clipArgs(line string) [][]string {
	var out [][]string
	for _, seg := range shellSegments(line) {
		for len(seg) > 0 && strings.Contains(seg[0], "=") && !strings.HasPrefix(seg[0], "-") {
			seg = seg[1:]
		}
		if len(seg) > 0 && (seg[0] == "clip" || seg[0] == "./clip") {
			out = append(out, seg[1:])
		}
	}
	return out
}

// runsOffline says whether a README command can run here as written:
// it uses the tiny test model, or a verb that needs no model (dupes and
// index export read the index an earlier README command made).
func runsOffline(c readmeCommand, args [][]string) bool {
	if strings.Contains(c.text, "testdata/models/tiny-shapes") {
		return true
	}
	for _, a := range args {
		modelFree := len(a) > 0 && (a[0] == "dupes" || len(a) > 1 && a[0] == "index" && a[1] == "export")
		if !modelFree && (len(a) == 0 || (a[0] != "version" && a[0] != "--version" && a[0] != "cache" && a[0] != "completion")) {
			return false
		}
	}
	return len(args) > 0
}

// TestREADMECommands keeps README.md true to the binary: every command in
// its fenced blocks that can run offline (the tiny model, version, cache,
// completion) is run verbatim by bash against the built binary and must
// exit 0 (or the code a trailing "# exit N" gives); every other clip
// command line must parse: a known verb, known flags, accepted arguments.
func TestREADMECommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	cmds := readmeCommands(t)
	if len(cmds) < 10 {
		t.Fatalf("found only %d commands in README.md's fenced blocks", len(cmds))
	}
	repo, _ := filepath.Abs("../..")
	if _, err := os.Stat(filepath.Join(repo, "testdata", "models", "tiny-shapes", "onnx", "vision_model.onnx")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tiny-shapes fixture missing")
		}
		t.Skip("tiny-shapes fixture missing; run make fixtures")
	}
	// The working directory looks like a checkout after `make build`:
	// ./clip and testdata/.
	work := t.TempDir()
	bin := builtBinary(t)
	if err := os.Symlink(bin, filepath.Join(work, "clip")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(repo, "testdata"), filepath.Join(work, "testdata")); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	ran, parsed := 0, 0
	for _, c := range cmds {
		args := clipArgs(c.text)
		switch {
		case runsOffline(c, args):
			want := 0
			if i := strings.LastIndex(c.text, "# exit "); i >= 0 {
				want, _ = strconv.Atoi(strings.Fields(c.text[i+len("# exit "):])[0])
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			sh := exec.CommandContext(ctx, "bash", "-c", "set -o pipefail; make() { [ \"$1\" = build ]; }; "+c.text)
			sh.Dir = work
			sh.Env = []string{"PATH=" + work + ":/usr/bin:/bin", "HOME=" + home, "CLIP_HOME=" + home, "HF_HUB_OFFLINE=1"}
			var stdout, stderr bytes.Buffer
			sh.Stdout, sh.Stderr = &stdout, &stderr
			err := sh.Run()
			cancel()
			out := stdout.String() + stderr.String()
			if c.output != nil && stdout.String() != *c.output {
				t.Errorf("README.md:%d: %s\nprints\n%s\nbut the README shows\n%s", c.line, c.text, stdout.String(), *c.output)
			}
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != want {
				t.Errorf("README.md:%d: %s\nexit %d, want %d:\n%s", c.line, c.text, code, want, out)
			}
			ran++
		case len(args) > 0:
			for _, a := range args {
				if err := parseOnly(a); err != nil {
					t.Errorf("README.md:%d: clip %s\n%v", c.line, strings.Join(a, " "), err)
				}
			}
			parsed++
		}
	}
	if ran < 3 || parsed < 10 {
		t.Errorf("ran %d README commands and parsed %d: the extraction missed some", ran, parsed)
	}
}

// parseOnly checks a clip command line as cobra would before running it:
// the verb exists, its flags parse, its arguments are accepted.
func parseOnly(args []string) error {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(string) string { return "" }}
	tree, _ := root.NewCmdRoot(f)
	c, rest, err := tree.Find(args)
	if err != nil {
		return err
	}
	if err := c.ParseFlags(rest); err != nil {
		return err
	}
	if c.HasSubCommands() && !c.Runnable() && len(c.Flags().Args()) > 0 {
		return cmdutil.UsageErrorf("unknown command %q for %q", c.Flags().Arg(0), c.CommandPath())
	}
	if c.Args != nil {
		return c.Args(c, c.Flags().Args())
	}
	return nil
}

func TestShellSegments(t *testing.T) {
	got := clipArgs(`find . -name '*.jpg' -print0 | clip classify - -0 --labels "a \"b\"",c --format csv > out.csv # note`)
	if len(got) != 1 || strings.Join(got[0], "|") != `classify|-|-0|--labels|a "b",c|--format|csv` {
		t.Errorf("clipArgs = %q", got)
	}
	got = clipArgs(`CLIP_SERVE_TOKEN=s3cret clip serve --addr 0.0.0.0:8080 && ./clip version`)
	if len(got) != 2 || strings.Join(got[0], " ") != "serve --addr 0.0.0.0:8080" || got[1][0] != "version" {
		t.Errorf("clipArgs = %q", got)
	}
}

package classify_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
)

// openPTY opens a pseudo-terminal of cols×rows; the returned channel
// yields everything written to the slave once the slave is closed.
func openPTY(t *testing.T, cols, rows uint16) (slave *os.File, screen <-chan []byte) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}); err != nil {
		t.Fatal(err)
	}
	ch := make(chan []byte, 1)
	go func() {
		var buf bytes.Buffer
		_, _ = io.Copy(&buf, master) // ends with EIO once the slave is closed
		ch <- buf.Bytes()
	}()
	return slave, ch
}

// render replays terminal output on a screen of the given width as a
// terminal does (\r, \n, erase-line escapes, overwriting, wrapping) and
// returns its lines.
func render(out []byte, cols int) []string {
	var lines [][]rune
	row, col := 0, 0
	put := func(r rune) {
		for len(lines) <= row {
			lines = append(lines, nil)
		}
		if col >= cols { // deferred wrap, as xterm
			row, col = row+1, 0
			for len(lines) <= row {
				lines = append(lines, nil)
			}
		}
		for len(lines[row]) <= col {
			lines[row] = append(lines[row], ' ')
		}
		lines[row][col] = r
		col++
	}
	s := []rune(string(out))
	for i := 0; i < len(s); i++ {
		switch r := s[i]; {
		case r == '\r':
			col = 0
		case r == '\n':
			row++
		case r == 0x1b && i+1 < len(s) && s[i+1] == '[':
			j := i + 2
			for j < len(s) && (s[j] < '@' || s[j] > '~') {
				j++
			}
			if j < len(s) && s[j] == 'K' && row < len(lines) {
				if string(s[i+2:j]) == "2" {
					lines[row] = nil
				} else if col < len(lines[row]) {
					lines[row] = lines[row][:col]
				}
			}
			i = j
		default:
			put(r)
		}
	}
	text := make([]string, len(lines))
	for i, l := range lines {
		text[i] = strings.TrimRight(string(l), " ")
	}
	return text
}

// TestClassifyOnATerminal runs classify in-process with a pseudo-terminal
// as stdout and stderr, more images than one screen with a missing file
// in the middle, and checks what the user is left looking at: one table
// with one column layout, the error on a line of its own, no trace of the
// progress bar. Then with stdout redirected: no stale bar on the terminal.
func TestClassifyOnATerminal(t *testing.T) {
	model := tinyModel(t)
	imgs := shapeImages(t)
	var args []string
	for i := 0; i < 70; i++ {
		args = append(args, imgs[i%len(imgs)])
		if i == 35 {
			args = append(args, filepath.Join(t.TempDir(), "missing.png"))
		}
	}
	const cols = 160
	classifyOn := func(stdout, stderr *os.File) int {
		ios := iostreams.FromFiles(os.Stdin, stdout, stderr)
		f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string {
			if k == "CLIP_HOME" {
				return t.TempDir()
			}
			return ""
		}}
		return cli.Run(context.Background(), f, append([]string{"classify", "--model", model, "--offline", "-b", "4",
			"--labels", "red circle,green square,purple triangle,orange cross", "--max-errors", "1"}, args...))
	}
	noBar := func(lines []string) {
		t.Helper()
		for i, l := range lines {
			if strings.Contains(l, "classifying") || strings.Contains(l, "█") || strings.Contains(l, "img/s") {
				t.Errorf("line %d shows (part of) the progress bar: %q", i, l)
			}
		}
	}

	// screenAfter classifies with stderr on a terminal, and stdout there
	// too unless given, and returns the terminal's final lines: the bar was
	// drawn and left no trace.
	screenAfter := func(t *testing.T, stdout *os.File) []string {
		tty, screen := openPTY(t, cols, 40)
		if stdout == nil {
			stdout = tty
		}
		code := classifyOn(stdout, tty)
		tty.Close()
		raw := <-screen
		lines := render(raw, cols)
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, strings.Join(lines, "\n"))
		}
		if !bytes.Contains(raw, []byte("classifying")) {
			t.Fatalf("no progress bar was drawn on the terminal:\n%q", raw)
		}
		noBar(lines)
		return lines
	}

	t.Run("stdout and stderr on the terminal", func(t *testing.T) {
		lines := screenAfter(t, nil)
		header := -1
		for i, l := range lines {
			if strings.HasPrefix(l, "FILE ") {
				if header >= 0 {
					t.Errorf("table header repeated at line %d", i)
				}
				header = i
			}
		}
		if header < 0 {
			t.Fatalf("no table header:\n%s", strings.Join(lines, "\n"))
		}
		labelCol := strings.Index(lines[header], "LABEL")
		probCol := strings.Index(lines[header], "PROB")
		rows, errLines := 0, 0
		for _, l := range lines[header+1:] {
			switch {
			case strings.HasPrefix(l, "clip: ") && strings.Contains(l, "missing.png"):
				errLines++
				if strings.Contains(l, "circle") || strings.Contains(l, "square") {
					t.Errorf("error line shares its line with a table row: %q", l)
				}
			case strings.Contains(l, "testdata/shapes/"):
				rows++
				if l[labelCol-2:labelCol] != "  " || l[labelCol] == ' ' || l[probCol-2:probCol] != "  " || !strings.HasPrefix(l[probCol:], "0.") && !strings.HasPrefix(l[probCol:], "1.") {
					t.Errorf("row out of the header's columns (LABEL at %d, PROB at %d): %q", labelCol, probCol, l)
				}
			}
		}
		if rows != 70 || errLines != 1 {
			t.Errorf("%d table rows and %d error lines on screen, want 70 and 1:\n%s", rows, errLines, strings.Join(lines, "\n"))
		}
	})

	t.Run("stdout redirected", func(t *testing.T) {
		out, err := os.Create(filepath.Join(t.TempDir(), "out.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		lines := screenAfter(t, out)
		var kept []string
		for _, l := range lines {
			if l != "" {
				kept = append(kept, l)
			}
		}
		if len(kept) != 3 || !strings.HasPrefix(kept[0], "clip: ") || !strings.HasPrefix(kept[1], "classified 70 of 71 images (1 errors)") {
			t.Errorf("terminal shows, want the error line and the two summary lines:\n%s", strings.Join(kept, "\n"))
		}
		b, _ := os.ReadFile(out.Name())
		if n := bytes.Count(b, []byte("\n")); n != 71 {
			t.Errorf("stdout file has %d records, want 71", n)
		}
	})

}

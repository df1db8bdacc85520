package cli

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// builtBinary builds the static binary once per test run (version 9.9.9,
// commit feedface0000, date 2026-01-02T03:04:05Z, as the Makefile's
// ldflags set them) and returns its path.
func builtBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clip-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "clip")
		build := exec.Command("go", "build", "-tags", "nodynamic", "-trimpath", "-ldflags", "-X main.version=9.9.9 -X main.commit=feedface0000 -X main.date=2026-01-02T03:04:05Z", "-o", binPath, "../../cmd/clip")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestBinaryEndToEnd builds the real static binary and runs it the way a
// user does: --version, a classification on the tiny fixture with one
// broken input (exit 3, the other records still written), and a usage error.
func TestBinaryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	model, _ := filepath.Abs("../../testdata/models/tiny-shapes")
	if _, err := os.Stat(filepath.Join(model, "onnx", "vision_model.onnx")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tiny-shapes fixture missing")
		}
		t.Skip("tiny-shapes fixture missing; run make fixtures")
	}
	bin := builtBinary(t)
	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("binary has a dynamic loader: not static")
			}
		}
		f.Close()
	}
	home := t.TempDir()
	clip := func(stdin string, args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"CLIP_HOME=" + home, "HOME=" + home, "PATH=/usr/bin:/bin"}
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errOut.String()
	}
	if code, out, _ := clip("", "--version"); code != 0 || !strings.Contains(out, "9.9.9") || !strings.Contains(out, "feedface0000, 2026-01-02T03:04:05Z") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	broken := filepath.Join(t.TempDir(), "broken.png")
	os.WriteFile(broken, []byte("not a png"), 0o644)
	good, _ := filepath.Abs("../../testdata/shapes/red-circle-1.png")
	code, out, errOut := clip("", "classify", "--model", model, "--offline", "--labels", "red circle,blue square", good, broken)
	if code != 3 {
		t.Fatalf("classify with a broken file: exit %d, want 3\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 jsonl records (stdout is not a terminal), got:\n%s", out)
	}
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if first["label"] != "red circle" || second["error"] == nil || !strings.Contains(errOut, broken) {
		t.Errorf("records %v / %v; stderr %q", first, second, errOut)
	}
	if code, _, errOut := clip("", "classify", "--labels", "a"); code != 2 || !strings.Contains(errOut, "no images") {
		t.Errorf("no images: exit %d, %q", code, errOut)
	}
	signalsInterrupt(t, bin, home, model)
}

// signalsInterrupt: SIGINT and SIGTERM end a run blocked reading "-" from
// a stdin nobody writes to with exit 130, not a hang or a kill.
func signalsInterrupt(t *testing.T, bin, home, model string) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "classify", "--model", model, "--offline", "--labels", "a,b", "-")
		cmd.Env = []string{"CLIP_HOME=" + home, "HOME=" + home, "PATH=/usr/bin:/bin"}
		cmd.Stdin = r
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		// Time to install the signal handler; without one the signal kills
		// the process and the exit status below says so.
		time.Sleep(time.Second)
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != 130 || !strings.Contains(errOut.String(), "interrupted") {
				t.Errorf("%v while reading stdin: exit %d (%v), stderr %q; want 130", sig, code, err, errOut.String())
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("%v while reading stdin: still running after 30 s", sig)
		}
		w.Close()
	}
}

package cli

import (
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Version: "1.2.3", Commit: "abcdef012345", Date: "2026-01-02T03:04:05Z", Globals: &cmdutil.GlobalOptions{}, Getenv: func(string) string { return "" }}
	code = Run(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, _ := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, want := range []string{"1.2.3", "abcdef012345", runtime.Version()} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: output %q lacks %q", args, out, want)
			}
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	cases := [][]string{
		{"--no-such-flag"},
		{"no-such-command"},
		{"version", "extra-arg"},
		{"version", "--format", "xml"},
		{"version", "--threads", "-1"},
	}
	for _, args := range cases {
		code, out, errOut := run(t, args...)
		if code != cmdutil.ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, cmdutil.ExitUsage, errOut)
		}
		if out != "" {
			t.Errorf("%v: wrote %q to stdout on a usage error", args, out)
		}
		if !strings.HasPrefix(errOut, "clip: ") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: want exactly one error line on stderr, got %q", args, errOut)
		}
	}
}

func TestHelpListsContract(t *testing.T) {
	code, out, _ := run(t, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, verb := range []string{"classify", "embed", "tokenize", "preprocess", "models", "onnx", "version", "completion"} {
		if !strings.Contains(out, "  "+verb) {
			t.Errorf("--help does not list %q:\n%s", verb, out)
		}
	}
	for _, flag := range []string{"--model", "--format", "--quiet", "--threads", "--offline"} {
		if !strings.Contains(out, flag) {
			t.Errorf("--help does not list global flag %s", flag)
		}
	}
}

func TestCompletion(t *testing.T) {
	code, out, _ := run(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "bash completion") {
		t.Fatalf("completion bash: exit %d, %d bytes", code, len(out))
	}
}

func TestOutputFormatDefault(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(string) string { return "" }}
	if got, _ := f.OutputFormat(); got != cmdutil.FormatJSONL {
		t.Errorf("piped default = %q, want jsonl", got)
	}
	ios.SetStdoutTTY(true)
	if got, _ := f.OutputFormat(); got != cmdutil.FormatTable {
		t.Errorf("terminal default = %q, want table", got)
	}
	f.Globals.Format = "csv"
	if got, _ := f.OutputFormat(); got != cmdutil.FormatCSV {
		t.Errorf("explicit = %q, want csv", got)
	}
}

func TestOfflineFromEnv(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	env := map[string]string{"HF_HUB_OFFLINE": "1"}
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string { return env[k] }}
	if !f.Offline() {
		t.Error("HF_HUB_OFFLINE=1 not honoured")
	}
	env["HF_HUB_OFFLINE"] = "0"
	if f.Offline() {
		t.Error("HF_HUB_OFFLINE=0 treated as offline")
	}
	f.Globals.Offline = true
	if !f.Offline() {
		t.Error("--offline not honoured")
	}
}

func TestVersionHonoursFormat(t *testing.T) {
	code, out, _ := run(t, "version", "--format", "jsonl")
	want := `{"version":"1.2.3","commit":"abcdef012345","date":"2026-01-02T03:04:05Z","go":"` + runtime.Version() + `","os":"` + runtime.GOOS + `","arch":"` + runtime.GOARCH + `"}` + "\n"
	if code != 0 || out != want {
		t.Errorf("version --format jsonl: exit %d\n got %q\nwant %q", code, out, want)
	}
	if code, out, _ := run(t, "version", "--format", "json"); code != 0 || !strings.HasPrefix(out, "{\n  \"version\": \"1.2.3\",\n") {
		t.Errorf("version --format json: exit %d, %q", code, out)
	}
	if code, out, _ := run(t, "version", "--format", "csv"); code != 0 || !strings.HasPrefix(out, "version,commit,date,go,os,arch\n1.2.3,abcdef012345,2026-01-02T03:04:05Z,") {
		t.Errorf("version --format csv: exit %d, %q", code, out)
	}
	// Piped without --format it stays one line.
	if code, out, _ := run(t, "version"); code != 0 || !strings.HasPrefix(out, "clip 1.2.3 (commit abcdef012345, 2026-01-02T03:04:05Z, ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

// The stamp `clip version` prints for each way the binary can be built:
// make build (-ldflags), go build in a clone (VCS settings), go install
// through a module proxy (a pseudo-version or a tag, no VCS settings). The
// pseudo-version layouts are Go's (go.dev/ref/mod#pseudo-versions).
func TestStampFrom(t *testing.T) {
	mod := func(v string, settings ...debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/clip-go/clip", Version: v}, Settings: settings}
	}
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "26355e76f608a1b2c3d4e5f60718293a4b5c6d7e"}, {Key: "vcs.time", Value: "2026-12-05T01:33:37Z"}}
	tests := []struct {
		name                string
		bi                  *debug.BuildInfo
		version, commit, dt string // ldflags
		want                [3]string
	}{
		{"ldflags win", mod("v0.0.0-20200101000000-aaaaaaaaaaaa", vcs...), "v1.0.0", "0123456789ab", "2026-01-02T03:04:05Z", [3]string{"v1.0.0", "0123456789ab", "2026-01-02T03:04:05Z"}},
		{"go build in a clone", mod("(devel)", vcs...), "", "", "", [3]string{"dev", "26355e76f608", "2026-12-05T01:33:37Z"}},
		{"go install, no tag", mod("v0.0.0-20261205013337-26355e76f608"), "", "", "", [3]string{"v0.0.0-20261205013337-26355e76f608", "26355e76f608", "2026-12-05T01:33:37Z"}},
		{"go install, after a pre-release", mod("v1.3.0-rc.1.0.20261205013337-26355e76f608"), "", "", "", [3]string{"v1.3.0-rc.1.0.20261205013337-26355e76f608", "26355e76f608", "2026-12-05T01:33:37Z"}},
		{"go install, after a release", mod("v1.2.4-0.20261205013337-26355e76f608+incompatible"), "", "", "", [3]string{"v1.2.4-0.20261205013337-26355e76f608+incompatible", "26355e76f608", "2026-12-05T01:33:37Z"}},
		{"go install, a tag", mod("v1.2.3"), "", "", "", [3]string{"v1.2.3", "unknown", ""}},
		{"a pre-release that only looks like one", mod("v1.2.3-build-26355e76f608"), "", "", "", [3]string{"v1.2.3-build-26355e76f608", "unknown", ""}},
		{"not a time", mod("v0.0.0-20261305013337-26355e76f608"), "", "", "", [3]string{"v0.0.0-20261305013337-26355e76f608", "unknown", ""}},
		{"not hex", mod("v0.0.0-20261205013337-26355e76f60g"), "", "", "", [3]string{"v0.0.0-20261205013337-26355e76f60g", "unknown", ""}},
		{"no build info", nil, "", "", "", [3]string{"dev", "unknown", ""}},
	}
	for _, tt := range tests {
		v, c, d := stampFrom(tt.bi, tt.version, tt.commit, tt.dt)
		if got := [3]string{v, c, d}; got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

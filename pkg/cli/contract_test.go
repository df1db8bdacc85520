package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/root"
)

// runEnv is run with an environment.
func runEnv(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Version: "1.2.3", Commit: "abcdef012345", Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string { return env[k] }}
	code = Run(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

func TestUnknownVerbOfAGroupExits2(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"models", "foo"}, `unknown command "foo" for "clip models"`},
		{[]string{"completion", "ksh"}, `unknown command "ksh" for "clip completion"`},
		{[]string{"cache", "lst"}, `did you mean list?`},
		{[]string{"onnx", "inf"}, `did you mean info?`},
		{[]string{"help", "modles"}, `unknown help topic "modles"`},
	}
	for _, c := range cases {
		code, out, errOut := run(t, c.args...)
		if code != cmdutil.ExitUsage || out != "" || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", c.args, code, out, errOut, c.want)
		}
	}
	if code, out, _ := run(t, "help", "models", "rm"); code != 0 || !strings.Contains(out, "clip models rm NAME") {
		t.Errorf("clip help models rm: exit %d, %q", code, out)
	}
	// A group alone still shows its help.
	if code, out, _ := run(t, "models"); code != 0 || !strings.Contains(out, "Available Commands") {
		t.Errorf("clip models: exit %d, %q", code, out)
	}
}

func TestModelFlagMistakesAreUsageErrorsWithASuggestion(t *testing.T) {
	cases := []struct {
		model, want string
	}{
		{"clip-vit-base-patch23", "did you mean clip-vit-base-patch32?"},
		{"../../testdata/models/tiny-shapes/onnx/model.onnx", "--model wants the directory holding the model (did you mean --model ../../testdata/models/tiny-shapes?)"},
	}
	for _, c := range cases {
		code, _, errOut := run(t, "classify", "x.png", "--labels", "a,b", "--model", c.model)
		if code != cmdutil.ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("--model %s: exit %d, stderr %q; want exit 2 with %q", c.model, code, errOut, c.want)
		}
	}
}

// TestEveryCommandHelpShowsExitCodesAndEnvironment walks the whole tree:
// every command's --help ends with its exit codes, and the commands that
// use the model store list its environment.
func TestEveryCommandHelpShowsExitCodesAndEnvironment(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(string) string { return "" }}
	tree, _ := root.NewCmdRoot(f)
	var paths [][]string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || strings.HasPrefix(c.Name(), "__") {
			return
		}
		if !cmdutil.HasHelpTopics(c) {
			t.Errorf("%s: no help topics (add it to pkg/cli/root helpTopics)", c.CommandPath())
		}
		paths = append(paths, append(strings.Fields(c.CommandPath())[1:], "--help"))
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(tree)
	for _, args := range paths {
		code, out, _ := run(t, args...)
		if code != 0 || !strings.Contains(out, "\nExit codes:\n  0    success\n") || !strings.Contains(out, "  2    usage or configuration error") {
			t.Errorf("clip %s: exit %d, help lacks the exit codes:\n%s", strings.Join(args, " "), code, out)
		}
		usesStore := len(args) > 1 && (args[0] == "classify" || args[0] == "embed" || args[0] == "serve" || args[0] == "models")
		if usesStore && !strings.Contains(out, "\nEnvironment:\n  CLIP_HOME ") || (usesStore && !strings.Contains(out, "  HF_TOKEN ")) {
			t.Errorf("clip %s: help lacks the environment:\n%s", strings.Join(args, " "), out)
		}
	}
	if _, out, _ := run(t, "serve", "--help"); !strings.Contains(out, "  CLIP_SERVE_TOKEN ") {
		t.Errorf("serve --help lacks CLIP_SERVE_TOKEN")
	}
	if _, out, _ := run(t, "classify", "--help"); !strings.Contains(out, "  130  interrupted") || !strings.Contains(out, "  1    a check") {
		t.Errorf("classify --help lacks exit codes 1 and 130:\n%s", out)
	}
}

func TestCompletionOffersValues(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "classify", "--format", ""}, []string{"table", "json", "jsonl", "csv"}},
		{[]string{"__complete", "classify", "--variant", ""}, []string{"fp32", "fp16", "quantized"}},
		{[]string{"__complete", "embed", "--variant", ""}, []string{"fp32", "fp16", "quantized"}},
		{[]string{"__complete", "classify", "--templates", ""}, []string{"imagenet80", "imagenet7", "none"}},
		{[]string{"__complete", "classify", "--model", ""}, []string{"clip-vit-base-patch32", "clip-vit-large-patch14"}},
		{[]string{"__complete", "models", "pull", ""}, []string{"clip-vit-base-patch16"}},
		{[]string{"__complete", "classify", "--model", "./"}, []string{":16"}}, // directories (ShellCompDirectiveFilterDirs)
	}
	for _, c := range cases {
		code, out, _ := run(t, c.args...)
		lines := strings.Split(out, "\n")
		for _, w := range c.want {
			found := false
			for _, l := range lines {
				found = found || l == w
			}
			if code != 0 || !found {
				t.Errorf("%v: exit %d, want %q among\n%s", c.args, code, w, out)
			}
		}
	}
}

// TestCompletionOffersInstalledModels: `models rm` completes the models in
// the cache (by catalogue name, else repo id), not file names.
func TestCompletionOffersInstalledModels(t *testing.T) {
	home := t.TempDir()
	for dir, manifest := range map[string]string{
		"models/acme/clip-small/main":                `{"repo":"acme/clip-small","revision":"main","files":[]}`,
		"models/Xenova/clip-vit-base-patch16/abc123": `{"repo":"Xenova/clip-vit-base-patch16","revision":"abc123","name":"clip-vit-base-patch16","files":[]}`,
	} {
		p := filepath.Join(home, filepath.FromSlash(dir))
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "manifest.json"), []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ := runEnv(t, map[string]string{"CLIP_HOME": home}, "__complete", "models", "rm", "")
	want := "acme/clip-small\nclip-vit-base-patch16\n:4\n"
	if code != 0 || !strings.HasPrefix(out, want) {
		t.Errorf("models rm completion: exit %d,\n%s\nwant\n%s", code, out, want)
	}
}

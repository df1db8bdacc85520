package classify

import (
	"errors"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
)

func parse(t *testing.T, args ...string) (*ClassifyOptions, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(string) string { return "" }}
	var got *ClassifyOptions
	cmd := NewCmdClassify(f, func(o *ClassifyOptions) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	err := cmd.Execute()
	return got, err
}

func TestClassifyFlags(t *testing.T) {
	o, err := parse(t, "a.jpg", "dir/", "-r", "--labels", "cat,dog", "-l", `"a, b"`, "--template", "x {}", "-t", "y {}",
		"--templates", "imagenet7", "-k", "2", "--threshold", "0.4", "--expect", "cat,dog", "--fail-if", "a, b",
		"--min-score", "0.2", "--max-errors", "3", "--summary", "s.json", "--variant", "quantized", "--no-cache",
		"-b", "16", "--include", "*.png", "--exclude", "tmp*", "-0", "--shard", "1/4", "--no-exif-rotate", "--max-megapixels", "12")
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]bool{
		"args":      strings.Join(o.Args, " ") == "a.jpg dir/",
		"labels":    strings.Join(o.Labels, "|") == `cat,dog|"a, b"`,
		"templates": strings.Join(o.Templates, "|") == "x {}|y {}" && o.TemplateSet == "imagenet7",
		"topk":      o.TopK == 2 && o.Threshold == 0.4 && o.MinScore == 0.2 && o.MaxErrors == 3,
		"checks":    strings.Join(o.Expect, "|") == "cat|dog" && len(o.FailIf) == 2,
		"misc":      o.Summary == "s.json" && o.Variant == "quantized" && o.NoCache && o.BatchSize == 16 && o.Inputs.Recursive,
		"walk":      o.Inputs.NullSep && o.Shard == "1/4" && o.NoExifRotate && o.MaxMegapixels == 12 && o.Inputs.Include[0] == "*.png" && o.Inputs.Exclude[0] == "tmp*",
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s parsed wrong: %+v", name, o)
		}
	}
}

func TestClassifyValidateUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"no labels":       {"a.jpg"},
		"no images":       {"--labels", "a,b"},
		"dup label":       {"a.jpg", "--labels", "a,a"},
		"expect unknown":  {"a.jpg", "--labels", "a,b", "--expect", "c"},
		"fail-if unknown": {"a.jpg", "--labels", "a,b", "--fail-if", "c"},
		"threshold":       {"a.jpg", "--labels", "a", "--threshold", "1.5"},
		"min-score":       {"a.jpg", "--labels", "a", "--min-score", "-1"},
		"top-k":           {"a.jpg", "--labels", "a", "--top-k", "-1"},
		"batch":           {"a.jpg", "--labels", "a", "--batch-size", "0"},
		"shard":           {"a.jpg", "--labels", "a", "--shard", "4/4"},
		"template set":    {"a.jpg", "--labels", "a", "--templates", "nope"},
		"labels file":     {"a.jpg", "--labels-file", "/nonexistent/labels.txt"},
	}
	for name, args := range cases {
		o, err := parse(t, args...)
		if err != nil {
			t.Fatalf("%s: parse: %v", name, err)
		}
		_, err = validate(o)
		var ee *cmdutil.ExitError
		if !errors.As(err, &ee) || ee.Code != cmdutil.ExitUsage {
			t.Errorf("%s: validate = %v, want a usage error (exit 2)", name, err)
		}
	}
	o, _ := parse(t, "a.jpg", "--labels", "a,b", "--threshold", "0.5", "--expect", "unknown")
	if _, err := validate(o); err != nil {
		t.Errorf("--expect unknown with --threshold rejected: %v", err)
	}
}

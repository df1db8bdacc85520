package tokenize

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
)

const sharedVocab = "../../../../shared/clip-vocab/bpe_simple_vocab_16e6.txt.gz"

// vocab returns OpenAI's vocabulary from ../shared; tests skip without it
// except in CI.
func vocab(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(sharedVocab); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("OpenAI vocabulary missing at %s: %v", sharedVocab, err)
		}
		t.Skipf("OpenAI vocabulary not at %s (../shared relative to the project root)", sharedVocab)
	}
	return sharedVocab
}

// modelDirWithVocab is a model directory holding only OpenAI's vocabulary.
func modelDirWithVocab(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(vocab(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bpe_simple_vocab_16e6.txt.gz"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run executes `clip tokenize args...` in-process under a parent holding
// the global flags, as the root command does.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr *bytes.Buffer, err error) {
	t.Helper()
	return runEnv(t, stdin, map[string]string{"HF_HUB_OFFLINE": "1"}, args...)
}

// runEnv is run with the environment env (never the network unless env
// points HF_ENDPOINT at a local fake hub).
func runEnv(t *testing.T, stdin string, env map[string]string, args ...string) (stdout, stderr *bytes.Buffer, err error) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string { return env[k] }}
	root := &cobra.Command{Use: "clip", SilenceErrors: true, SilenceUsage: true}
	root.PersistentFlags().StringVarP(&f.Globals.Model, "model", "m", "", "")
	root.PersistentFlags().StringVar(&f.Globals.Format, "format", "", "")
	root.AddCommand(NewCmdTokenize(f, nil))
	root.SetArgs(append([]string{"tokenize"}, args...))
	root.SetOut(out)
	root.SetErr(errOut)
	err = root.Execute()
	return out, errOut, err
}

func decodeJSONL(t *testing.T, s string) []record {
	t.Helper()
	var out []record
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func TestJSONLWithVocab(t *testing.T) {
	out, _, err := run(t, "", "--vocab", vocab(t), "Hello World!", "a diagram")
	if err != nil {
		t.Fatal(err)
	}
	want := "{\"text\":\"Hello World!\",\"ids\":[49406,3306,1002,256,49407]}\n" +
		"{\"text\":\"a diagram\",\"ids\":[49406,320,22697,49407]}\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
}

func TestModelDirTokensAndPad(t *testing.T) {
	dir := modelDirWithVocab(t)
	out, _, err := run(t, "", "--model", dir, "--tokens", "--pad", "--format", "jsonl", "Hello World!")
	if err != nil {
		t.Fatal(err)
	}
	recs := decodeJSONL(t, out.String())
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	if len(r.IDs) != 77 || len(r.AttentionMask) != 77 || len(r.Tokens) != 77 {
		t.Fatalf("padded lengths: ids %d, mask %d, tokens %d; want 77", len(r.IDs), len(r.AttentionMask), len(r.Tokens))
	}
	if !slices.Equal(r.IDs[:6], []int{49406, 3306, 1002, 256, 49407, 0}) || r.IDs[76] != 0 {
		t.Errorf("ids = %v (OpenAI's vocabulary pads with 0)", r.IDs)
	}
	if !slices.Equal(r.AttentionMask[:6], []int{1, 1, 1, 1, 1, 0}) {
		t.Errorf("attention_mask = %v", r.AttentionMask)
	}
	if !slices.Equal(r.Tokens[:5], []string{"<|startoftext|>", "hello</w>", "world</w>", "!</w>", "<|endoftext|>"}) {
		t.Errorf("tokens = %q", r.Tokens[:5])
	}
}

// A tokenizer.json model directory, made by hand: the pad id and context
// length come from its files.
func TestModelDirTokenizerJSON(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"tokenizer.json": `{
 "added_tokens": [{"id": 3, "content": "<s>", "special": true, "normalized": false},
                  {"id": 4, "content": "<p>", "special": true, "normalized": false}],
 "normalizer": {"type": "Lowercase"},
 "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[\\p{L}]+"}, "behavior": "Removed", "invert": true},
 "post_processor": {"type": "RobertaProcessing", "cls": ["<s>", 3], "sep": ["<s>", 3]},
 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}`,
		"tokenizer_config.json": `{"model_max_length": 6, "pad_token": "<p>"}`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := run(t, "", "--model", dir, "--pad", "--format", "csv", "AB a", "abababab")
	if err != nil {
		t.Fatal(err)
	}
	want := "text,ids,attention_mask\n" +
		"AB a,3 2 0 3 4 4,1 1 1 1 0 0\n" +
		"abababab,3 2 2 2 2 3,1 1 1 1 1 1\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
}

func TestStdinAndTable(t *testing.T) {
	out, _, err := run(t, "a diagram\r\nHello World!\n", "--vocab", vocab(t), "--stdin", "--tokens", "--format", "table")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "TEXT") {
		t.Fatalf("table:\n%s", out)
	}
	if !strings.Contains(lines[1], `"a diagram"`) || !strings.Contains(lines[1], "49406 320 22697 49407") ||
		!strings.Contains(lines[1], "diagram</w>") {
		t.Errorf("row 1: %q", lines[1])
	}
	if !strings.Contains(lines[2], "49406 3306 1002 256 49407") {
		t.Errorf("row 2: %q", lines[2])
	}
}

func TestJSONArray(t *testing.T) {
	out, _, err := run(t, "", "--vocab", vocab(t), "--format", "json", "2024")
	if err != nil {
		t.Fatal(err)
	}
	var recs []record
	if err := json.Unmarshal(out.Bytes(), &recs); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if len(recs) != 1 || !slices.Equal(recs[0].IDs, []int{49406, 273, 271, 273, 275, 49407}) {
		t.Errorf("records = %+v", recs)
	}
}

func TestUsageErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "missing")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--vocab", "x.gz"}, "no texts"},
		{[]string{"--vocab", "x.gz", "--stdin", "a cat"}, "not both"},
		{[]string{"--vocab", "x.gz", "--model", "m", "a cat"}, "give one"},
		{[]string{"--vocab", notDir, "a cat"}, "--vocab"},
		{[]string{"--vocab", "x.gz", "--format", "xml", "a"}, "--format"},
	} {
		_, _, err := run(t, "", c.args...)
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v (exit %d), want a usage error mentioning %q", c.args, err, cmdutil.ExitCode(err), c.want)
		}
	}
}

func TestMissingModelDirIsAModelError(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "missing")
	_, _, err := run(t, "", "--model", notDir, "a cat")
	if cmdutil.ExitCode(err) != cmdutil.ExitRuntime || !strings.Contains(err.Error(), notDir) {
		t.Errorf("err = %v (exit %d), want a model error (exit 4) naming %s", err, cmdutil.ExitCode(err), notDir)
	}
}

func TestUnsupportedTokenizerIsARuntimeError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(`{"model": {"type": "WordPiece", "vocab": {"a": 0}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, "", "--model", dir, "a cat")
	if err == nil || !strings.Contains(err.Error(), "unsupported tokenizer") || cmdutil.ExitCode(err) != cmdutil.ExitRuntime {
		t.Errorf("err = %v (exit %d), want an unsupported-tokenizer error with exit 4", err, cmdutil.ExitCode(err))
	}
}

func TestFlagsReachOptions(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{Model: "m", Format: "csv"}, Getenv: func(string) string { return "" }}
	var got *TokenizeOptions
	cmd := NewCmdTokenize(f, func(o *TokenizeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--tokens", "--pad", "x", "y"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.Tokens || !got.Pad || got.Stdin || got.Model != "m" || got.Format != "csv" || !slices.Equal(got.Texts, []string{"x", "y"}) {
		t.Errorf("options = %+v", got)
	}
}

// immich's layout keeps the tokenizer under textual/.
func TestImmichLayout(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "textual"), 0o755); err != nil {
		t.Fatal(err)
	}
	tj := `{"added_tokens": [{"id": 2, "content": "<e>", "special": true, "normalized": false}],
 "post_processor": {"type": "RobertaProcessing", "cls": ["<e>", 2], "sep": ["<e>", 2]},
 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []}}`
	if err := os.WriteFile(filepath.Join(dir, "textual", "tokenizer.json"), []byte(tj), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "", "--model", dir, "--format", "jsonl", "ab")
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"text\":\"ab\",\"ids\":[2,0,1,2]}\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
}

// The committed tiny-shapes model through the command, against
// transformers.js's ids for the same texts (testdata/golden/tokenizer).
// tinyShapesGolden is the tokenizer corpus and transformers.js's ids for it
// under the tiny-shapes tokenizer.
func tinyShapesGolden(t *testing.T) (corpus struct{ Texts []string }, golden struct{ IDs [][]int }) {
	t.Helper()
	for path, v := range map[string]any{
		"../../../testdata/golden/tokenizer/corpus.json":          &corpus,
		"../../../testdata/golden/tokenizer/ids-tiny-shapes.json": &golden,
	} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Skipf("%v", err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatal(err)
		}
	}
	return corpus, golden
}

func TestTinyShapesModelDir(t *testing.T) {
	const model = "../../../testdata/models/tiny-shapes"
	if _, err := os.Stat(filepath.Join(model, "tokenizer.json")); err != nil {
		t.Skipf("no %s (made by make fixtures)", model)
	}
	corpus, golden := tinyShapesGolden(t)
	texts := corpus.Texts[:40]
	for _, text := range texts {
		if strings.ContainsAny(text, "\r\n") {
			t.Fatalf("corpus text %q would not survive --stdin", text)
		}
	}
	out, _, err := run(t, strings.Join(texts, "\n")+"\n", "--model", model, "--stdin", "--format", "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	recs := decodeJSONL(t, out.String())
	if len(recs) != len(texts) {
		t.Fatalf("%d records for %d texts", len(recs), len(texts))
	}
	for i, r := range recs {
		if r.Text != texts[i] || !slices.Equal(r.IDs, golden.IDs[i]) {
			t.Errorf("text %q: ids %v, transformers.js %v", texts[i], r.IDs, golden.IDs[i])
		}
	}
}

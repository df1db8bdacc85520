package classify_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/clip-go/clip/internal/testmodels"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/clip"
)

const repoRoot = "../../.."

// tinyModel is the tiny-shapes fixture (testdata/models, made by `make fixtures`).
func tinyModel(t testing.TB) string { return testmodels.TinyShapes(t) }

type result struct {
	code           int
	stdout, stderr string
}

// run executes clip in-process with a private cache dir.
func run(t testing.TB, home string, stdin string, args ...string) result {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	env := map[string]string{"CLIP_HOME": home}
	f := &cmdutil.Factory{IOStreams: ios, Version: "test", Commit: "test", Globals: &cmdutil.GlobalOptions{},
		Getenv: func(k string) string { return env[k] }}
	code := cli.Run(context.Background(), f, args)
	return result{code, out.String(), errOut.String()}
}

func records(t testing.TB, jsonl string) []clip.Record {
	t.Helper()
	var out []clip.Record
	dec := json.NewDecoder(strings.NewReader(jsonl))
	for dec.More() {
		var r clip.Record
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("bad jsonl: %v\n%s", err, jsonl)
		}
		out = append(out, r)
	}
	return out
}

func shapeImages(t testing.TB) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "shapes", "*.png"))
	if len(m) < 4 {
		t.Skip("testdata/shapes has no PNG images yet")
	}
	sort.Strings(m)
	return m
}

var labels = "red circle,green square,blue triangle,yellow circle"

func TestClassifyFormats(t *testing.T) {
	model := tinyModel(t)
	imgs := shapeImages(t)[:3]
	home := t.TempDir()
	base := append([]string{"classify", "--model", model, "--offline", "--labels", labels, "-q"}, imgs...)

	r := run(t, home, "", append(base, "--format", "jsonl")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	recs := records(t, r.stdout)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for i, rec := range recs {
		if rec.Schema != 1 || rec.File != imgs[i] || rec.Error != "" || len(rec.Labels) != 4 || rec.Probability == nil {
			t.Errorf("record %d: %+v", i, rec)
			continue
		}
		sum := 0.0
		for j, s := range rec.Labels {
			sum += s.Probability
			if j > 0 && s.Probability > rec.Labels[j-1].Probability {
				t.Errorf("record %d not ranked: %+v", i, rec.Labels)
			}
			if s.Similarity < -1 || s.Similarity > 1 {
				t.Errorf("similarity %v out of [-1,1]", s.Similarity)
			}
		}
		if sum < 0.999999 || sum > 1.000001 || rec.Label != rec.Labels[0].Label || *rec.Probability != rec.Labels[0].Probability {
			t.Errorf("record %d inconsistent: %+v", i, rec)
		}
	}
	if r.stderr != "" {
		t.Errorf("--quiet wrote to stderr: %q", r.stderr)
	}

	j := run(t, home, "", append(base, "--format", "json")...)
	var arr []clip.Record
	if err := json.Unmarshal([]byte(j.stdout), &arr); err != nil || len(arr) != 3 {
		t.Fatalf("json: %v, %d records\n%s", err, len(arr), j.stdout)
	}
	for i := range arr {
		if arr[i].Label != recs[i].Label || *arr[i].Probability != *recs[i].Probability {
			t.Errorf("json and jsonl differ at %d", i)
		}
	}

	c := run(t, home, "", append(base, "--format", "csv")...)
	rows, err := csv.NewReader(strings.NewReader(c.stdout)).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("csv: %v, %d rows", err, len(rows))
	}
	if strings.Join(rows[0], ",") != "file,label,probability,"+labels+",error" {
		t.Errorf("csv header %q", rows[0])
	}
	if rows[1][0] != imgs[0] || rows[1][1] != recs[0].Label {
		t.Errorf("csv row %q", rows[1])
	}

	tb := run(t, home, "", append(base, "--format", "table")...)
	lines := strings.Split(strings.TrimSpace(tb.stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "FILE") || !strings.Contains(lines[1], recs[0].Label) {
		t.Errorf("table:\n%s", tb.stdout)
	}

	k := records(t, run(t, home, "", append(base, "--top-k", "2")...).stdout)
	if len(k[0].Labels) != 2 {
		t.Errorf("--top-k 2 gave %d labels", len(k[0].Labels))
	}
	th := records(t, run(t, home, "", append(base, "--threshold", "0.999999")...).stdout)
	for _, rec := range th {
		if *rec.Probability < 0.999999 && rec.Label != "unknown" {
			t.Errorf("below threshold but label %q", rec.Label)
		}
	}
}

func TestClassifyChecksExitCodes(t *testing.T) {
	model := tinyModel(t)
	imgs := shapeImages(t)[:2]
	home := t.TempDir()
	base := append([]string{"classify", "--model", model, "--offline", "--labels", labels, "-q"}, imgs...)
	first := records(t, run(t, home, "", base...).stdout)
	got := map[string]bool{}
	for _, r := range first {
		got[r.Label] = true
	}
	var others []string
	for _, l := range strings.Split(labels, ",") {
		if !got[l] {
			others = append(others, l)
		}
	}
	all := make([]string, 0, len(got))
	for l := range got {
		all = append(all, l)
	}
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"expect met", []string{"--expect", strings.Join(all, ",")}, 0},
		{"expect missed", []string{"--expect", others[0]}, cmdutil.ExitCheckFailed},
		{"fail-if hit", []string{"--fail-if", first[0].Label}, cmdutil.ExitCheckFailed},
		{"fail-if clear", []string{"--fail-if", strings.Join(others, ",")}, 0},
		{"min-score impossible", []string{"--min-score", "1"}, cmdutil.ExitCheckFailed},
		{"min-score zero", []string{"--min-score", "0"}, 0},
		{"bad flag", []string{"--expect", "not-a-label"}, cmdutil.ExitUsage},
	}
	for _, c := range cases {
		r := run(t, home, "", append(base, c.args...)...)
		if r.code != c.want {
			t.Errorf("%s: exit %d, want %d (stderr %q)", c.name, r.code, c.want, r.stderr)
		}
		if c.want == cmdutil.ExitCheckFailed && len(records(t, r.stdout)) != 2 {
			t.Errorf("%s: a failed check must still print every record", c.name)
		}
	}
	if r := run(t, home, "", "classify", "--model", filepath.Join(t.TempDir(), "nope"), "--offline", "--labels", "a", imgs[0]); r.code != cmdutil.ExitRuntime {
		t.Errorf("missing model: exit %d, want 4 (%s)", r.code, r.stderr)
	}
}

// writePNG writes a small solid-colour PNG.
func writePNG(t testing.TB, path string, c color.RGBA) {
	img := image.NewRGBA(image.Rect(0, 0, 40, 36))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestClassifyThousandImagesFiveBroken(t *testing.T) {
	model := tinyModel(t)
	dir := t.TempDir()
	broken := map[int]string{17: "zero", 250: "text", 499: "truncated", 731: "garbage", 998: "zero"}
	for i := 0; i < 1000; i++ {
		p := filepath.Join(dir, fmt.Sprintf("img%04d.png", i))
		switch broken[i] {
		case "zero":
			os.WriteFile(p, nil, 0o644)
		case "text":
			os.WriteFile(p, []byte("this is not an image\n"), 0o644)
		case "truncated":
			writePNG(t, p, color.RGBA{200, 10, 10, 255})
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		case "garbage":
			os.WriteFile(p, append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0xAB}, 300)...), 0o644)
		default:
			writePNG(t, p, color.RGBA{uint8(i * 7), uint8(i * 13), uint8(i * 29), 255})
		}
	}
	r := run(t, t.TempDir(), "", "classify", "--model", model, "--offline", "--labels", labels, dir)
	if r.code != cmdutil.ExitInputErrors {
		t.Fatalf("exit %d, want 3; stderr:\n%s", r.code, tail(r.stderr))
	}
	recs := records(t, r.stdout)
	if len(recs) != 1000 {
		t.Fatalf("%d records, want 1000", len(recs))
	}
	var errIdx []int
	for i, rec := range recs {
		if want := filepath.Join(dir, fmt.Sprintf("img%04d.png", i)); rec.File != want {
			t.Fatalf("record %d is %s, want %s (input order)", i, rec.File, want)
		}
		if rec.Error != "" {
			errIdx = append(errIdx, i)
		}
	}
	if fmt.Sprint(errIdx) != "[17 250 499 731 998]" {
		t.Errorf("error records at %v", errIdx)
	}
	if !strings.Contains(r.stderr, "classified 995 of 1000 images (5 errors)") {
		t.Errorf("summary missing:\n%s", tail(r.stderr))
	}
	ok := run(t, t.TempDir(), "", "classify", "--model", model, "--offline", "--labels", labels, "-q", "--max-errors", "5", dir)
	if ok.code != 0 {
		t.Errorf("--max-errors 5: exit %d", ok.code)
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

func TestClassifySummaryCacheShardsAndStdin(t *testing.T) {
	model := tinyModel(t)
	imgs := shapeImages(t)
	home := t.TempDir()
	sum := filepath.Join(t.TempDir(), "summary.json")
	base := []string{"classify", "--model", model, "--offline", "--labels", labels, "-q", "--summary", sum}
	if r := run(t, home, "", append(base, imgs...)...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var s struct {
		Tool  map[string]any `json:"tool"`
		Model struct {
			Files []struct{ Path, SHA256 string }
		} `json:"model"`
		Counts    map[string]any              `json:"counts"`
		TextCache struct{ Hits, Encoded int } `json:"text_cache"`
		Threads   int                         `json:"threads"`
	}
	read := func() {
		b, err := os.ReadFile(sum)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
	}
	read()
	if s.Tool["go"] != runtime.Version() || s.Threads < 1 || s.Counts["images"] != float64(len(imgs)) {
		t.Errorf("summary provenance: %+v", s)
	}
	if len(s.Model.Files) == 0 {
		t.Error("summary lists no model files")
	}
	for _, f := range s.Model.Files {
		if len(f.SHA256) != 64 {
			t.Errorf("file %s has sha256 %q", f.Path, f.SHA256)
		}
	}
	if s.TextCache.Encoded != 4 || s.TextCache.Hits != 0 {
		t.Errorf("first run: cache %+v, want 4 prompts encoded", s.TextCache)
	}
	run(t, home, "", append(base, imgs...)...)
	read()
	if s.TextCache.Encoded != 0 || s.TextCache.Hits != 4 {
		t.Errorf("second run: cache %+v, want no text encoded", s.TextCache)
	}

	// Shards partition the inputs; together they give the unsharded output.
	all := records(t, run(t, home, "", append([]string{"classify", "--model", model, "--offline", "--labels", labels, "-q"}, imgs...)...).stdout)
	seen := map[string]string{}
	for k := 0; k < 3; k++ {
		for _, r := range records(t, run(t, home, "", append([]string{"classify", "--model", model, "--offline", "--labels", labels, "-q", "--shard", fmt.Sprintf("%d/3", k)}, imgs...)...).stdout) {
			if _, dup := seen[r.File]; dup {
				t.Errorf("%s in two shards", r.File)
			}
			seen[r.File] = r.Label
		}
	}
	if len(seen) != len(all) {
		t.Errorf("shards cover %d of %d images", len(seen), len(all))
	}
	for _, r := range all {
		if seen[r.File] != r.Label {
			t.Errorf("%s: sharded label %q, unsharded %q", r.File, seen[r.File], r.Label)
		}
	}

	// "-" reads the list from stdin, newline- or NUL-separated.
	nl := run(t, home, strings.Join(imgs[:2], "\n")+"\n", "classify", "--model", model, "--offline", "--labels", labels, "-q", "-")
	nul := run(t, home, strings.Join(imgs[:2], "\x00"), "classify", "--model", model, "--offline", "--labels", labels, "-q", "-0", "-")
	if nl.code != 0 || nul.code != 0 || nl.stdout != nul.stdout || len(records(t, nl.stdout)) != 2 {
		t.Errorf("stdin lists: exit %d/%d\n%s\n%s", nl.code, nul.code, nl.stdout, nul.stdout)
	}
}

// TestClassifyImmichLayout lays the tiny model out as immich ships OpenCLIP
// exports (visual/model.onnx + preprocess_cfg.json, textual/model.onnx +
// tokenizer files) and expects the same results as the Hugging Face layout.
func TestClassifyImmichLayout(t *testing.T) {
	model := tinyModel(t)
	dir := t.TempDir()
	cp := func(src, dst string) {
		b, err := os.ReadFile(filepath.Join(model, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cp("onnx/vision_model.onnx", "visual/model.onnx")
	cp("onnx/text_model.onnx", "textual/model.onnx")
	for _, f := range []string{"tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"} {
		cp(f, "textual/"+f)
	}
	cp("config.json", "config.json")
	// open_clip's preprocess_cfg.json for the same recipe (OpenAI mean/std,
	// bicubic, shortest-side resize to 32 then a 32×32 crop).
	cfg := `{"size": [32, 32], "mode": "RGB", "mean": [0.48145466, 0.4578275, 0.40821073],
	  "std": [0.26862954, 0.26130258, 0.27577711], "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0}`
	if err := os.WriteFile(filepath.Join(dir, "visual", "preprocess_cfg.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	imgs := shapeImages(t)[:6]
	args := func(m string) []string {
		// Split exports carry no logit scale: give both runs the same default.
		return append([]string{"classify", "--model", m, "--offline", "--labels", labels, "-q", "--no-cache"}, imgs...)
	}
	hfDir := filepath.Join(t.TempDir(), "hf")
	for _, f := range []string{"onnx/vision_model.onnx", "onnx/text_model.onnx", "tokenizer.json", "vocab.json", "merges.txt",
		"tokenizer_config.json", "special_tokens_map.json", "config.json", "preprocessor_config.json"} {
		b, _ := os.ReadFile(filepath.Join(model, f))
		os.MkdirAll(filepath.Dir(filepath.Join(hfDir, f)), 0o755)
		os.WriteFile(filepath.Join(hfDir, f), b, 0o644)
	}
	hf := run(t, t.TempDir(), "", args(hfDir)...)
	im := run(t, t.TempDir(), "", args(dir)...)
	if hf.code != 0 || im.code != 0 {
		t.Fatalf("exit hf %d (%s), immich %d (%s)", hf.code, hf.stderr, im.code, im.stderr)
	}
	a, b := records(t, hf.stdout), records(t, im.stdout)
	for i := range a {
		for j := range a[i].Labels {
			// The crops round differently (torchvision vs HF) only on odd
			// margins; these 96×80 → 38×32 → 32 crops agree.
			if d := a[i].Labels[j].Probability - b[i].Labels[j].Probability; d > 1e-6 || d < -1e-6 || a[i].Labels[j].Label != b[i].Labels[j].Label {
				t.Errorf("%s: hf %+v, immich %+v", a[i].File, a[i].Labels[j], b[i].Labels[j])
			}
		}
	}
}

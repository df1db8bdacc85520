package preprocess

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/imageproc"
	"github.com/clip-go/clip/pkg/npy"
)

const (
	images = "../../../testdata/images"
	golden = "../../../testdata/golden/preprocess"
)

// The published openai/clip-vit-base-patch32 preprocessor_config.json.
const hfConfig = `{
  "crop_size": 224, "do_center_crop": true, "do_normalize": true, "do_resize": true,
  "feature_extractor_type": "CLIPFeatureExtractor",
  "image_mean": [0.48145466, 0.4578275, 0.40821073],
  "image_std": [0.26862954, 0.26130258, 0.27577711],
  "resample": 3, "size": 224
}`

func modelDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "preprocessor_config.json"), []byte(hfConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// run executes `clip preprocess args...` in-process under a parent holding
// the global --model flag, as the root command does.
func run(t *testing.T, args ...string) (stdout, stderr *bytes.Buffer, err error) {
	t.Helper()
	return runEnv(t, map[string]string{"HF_HUB_OFFLINE": "1"}, args...)
}

// runEnv is run with the environment env (never the network unless env
// points HF_ENDPOINT at a local fake hub).
func runEnv(t *testing.T, env map[string]string, args ...string) (stdout, stderr *bytes.Buffer, err error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string { return env[k] }}
	root := &cobra.Command{Use: "clip", SilenceErrors: true, SilenceUsage: true}
	root.PersistentFlags().StringVarP(&f.Globals.Model, "model", "m", "", "")
	root.PersistentFlags().BoolVarP(&f.Globals.Quiet, "quiet", "q", false, "")
	root.AddCommand(NewCmdPreprocess(f, nil))
	root.SetArgs(append([]string{"preprocess"}, args...))
	root.SetOut(out)
	root.SetErr(errOut)
	err = root.Execute()
	return out, errOut, err
}

func readTensor(t *testing.T, path string) []float32 {
	t.Helper()
	a, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Shape) != 4 || a.Shape[0] != 1 || a.Shape[1] != 3 || a.Shape[2] != 224 || a.Shape[3] != 224 {
		t.Fatalf("shape %v, want [1 3 224 224]", a.Shape)
	}
	return a.Float32s()
}

// maxPixelError compares a tensor with Pillow's uint8 crop golden, in 1/255.
func maxPixelError(t *testing.T, got []float32, goldenCrop string) float64 {
	t.Helper()
	g, err := npy.ReadFile(filepath.Join(golden, goldenCrop))
	if err != nil {
		t.Fatal(err)
	}
	want := g.Data.([]uint8)
	c := imageproc.OpenAIConfig()
	plane := 224 * 224
	var m float64
	for i, v := range got {
		ch := i / plane
		m = math.Max(m, math.Abs(float64(v-c.PixelValue(ch, want[i])))*float64(c.Std[ch])*255)
	}
	return m
}

func TestWritesTheHFTensor(t *testing.T) {
	dir := modelDir(t)
	out := filepath.Join(t.TempDir(), "x.npy")
	_, stderr, err := run(t, filepath.Join(images, "horse_rgba.png"), "--model", dir, "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "[1,3,224,224]") {
		t.Errorf("summary: %q", stderr.String())
	}
	if e := maxPixelError(t, readTensor(t, out), "horse_rgba.png.crop.npy"); e != 0 {
		t.Errorf("horse_rgba.png: %.3f/255 from Pillow+HF, want exact", e)
	}
}

func TestStdoutAndQuiet(t *testing.T) {
	stdout, stderr, err := run(t, filepath.Join(images, "gray16.png"), "-m", modelDir(t), "-o", "-", "-q")
	if err != nil {
		t.Fatal(err)
	}
	if stderr.Len() != 0 {
		t.Errorf("--quiet still wrote %q", stderr.String())
	}
	p := filepath.Join(t.TempDir(), "s.npy")
	if err := os.WriteFile(p, stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if e := maxPixelError(t, readTensor(t, p), "gray16.png.crop.npy"); e != 0 {
		t.Errorf("gray16.png: %.3f/255 from Pillow, want exact", e)
	}
}

func TestCropRoundingAndExifFlags(t *testing.T) {
	dir := modelDir(t)
	tmp := t.TempDir()
	o1 := filepath.Join(tmp, "openai.npy")
	if _, _, err := run(t, filepath.Join(images, "rocket.jpg"), "--model", dir, "--out", o1, "--crop-rounding", "openai"); err != nil {
		t.Fatal(err)
	}
	got := readTensor(t, o1)
	if e := maxPixelError(t, got, "rocket.jpg.openai.crop.npy"); e != 0 {
		t.Errorf("openai crop: %.3f/255 from the torchvision-rounded golden", e)
	}
	if e := maxPixelError(t, got, "rocket.jpg.crop.npy"); e < 20 {
		t.Errorf("openai crop should differ from the HF one, max diff only %.3f/255", e)
	}

	rot, raw := filepath.Join(tmp, "rot.npy"), filepath.Join(tmp, "raw.npy")
	img := filepath.Join(images, "exif_orientation_6.jpg")
	if _, _, err := run(t, img, "--model", dir, "--out", rot); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, img, "--model", dir, "--out", raw, "--no-exif-rotate"); err != nil {
		t.Fatal(err)
	}
	if e := maxPixelError(t, readTensor(t, rot), "exif_orientation_6.jpg.crop.npy"); e != 0 {
		t.Errorf("EXIF-rotated tensor %.3f/255 from Pillow's exif_transpose", e)
	}
	if e := maxPixelError(t, readTensor(t, raw), "exif_orientation_6.jpg.crop.npy"); e < 20 {
		t.Errorf("--no-exif-rotate gave the rotated picture (max diff %.3f/255)", e)
	}
}

func TestErrorsAndExitCodes(t *testing.T) {
	dir := modelDir(t)
	out := filepath.Join(t.TempDir(), "x.npy")
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no out", []string{filepath.Join(images, "chelsea.jpg"), "--model", dir}, cmdutil.ExitUsage, "--out"},
		{"bad rounding", []string{filepath.Join(images, "chelsea.jpg"), "--model", dir, "--out", out, "--crop-rounding", "up"}, cmdutil.ExitUsage, "crop rounding"},
		{"no config", []string{filepath.Join(images, "chelsea.jpg"), "--model", t.TempDir(), "--out", out}, cmdutil.ExitUsage, "preprocessor_config.json"},
		{"truncated", []string{filepath.Join(images, "broken_truncated.jpg"), "--model", dir, "--out", out}, cmdutil.ExitInputErrors, "broken_truncated.jpg"},
		{"text", []string{filepath.Join(images, "broken_text.jpg"), "--model", dir, "--out", out}, cmdutil.ExitInputErrors, "broken_text.jpg"},
		{"missing", []string{filepath.Join(images, "nope.jpg"), "--model", dir, "--out", out}, cmdutil.ExitInputErrors, "nope.jpg"},
		{"too big", []string{filepath.Join(images, "wide_4000x50.jpg"), "--model", dir, "--out", out, "--max-megapixels", "0.1"}, cmdutil.ExitInputErrors, "MP limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := run(t, c.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if got := cmdutil.ExitCode(err); got != c.code {
				t.Errorf("exit code %d, want %d (%v)", got, c.code, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
		})
	}
}

func TestRunFReceivesOptions(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{Model: "m"}}
	var got *PreprocessOptions
	cmd := NewCmdPreprocess(f, func(o *PreprocessOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"a.png", "--out", "o.npy", "--no-exif-rotate", "--crop-rounding", "openai", "--max-megapixels", "5"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Image != "a.png" || got.ModelDir != "m" || got.Out != "o.npy" || !got.NoExifRotate || got.CropRounding != "openai" || got.MaxMegapixels != 5 {
		t.Errorf("options %+v", *got)
	}
}

// TestFormatJSON: --format json describes the tensor written on stdout;
// with --out - both would want stdout, a usage error.
func TestFormatJSON(t *testing.T) {
	formatRun := func(args ...string) (*bytes.Buffer, *bytes.Buffer, error) {
		ios, _, out, errOut := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(string) string { return "" }}
		root := &cobra.Command{Use: "clip", SilenceErrors: true, SilenceUsage: true}
		root.PersistentFlags().StringVarP(&f.Globals.Model, "model", "m", "", "")
		root.PersistentFlags().StringVar(&f.Globals.Format, "format", "", "")
		root.AddCommand(NewCmdPreprocess(f, nil))
		root.SetArgs(append([]string{"preprocess"}, args...))
		err := root.Execute()
		return out, errOut, err
	}
	dir := modelDir(t)
	img := filepath.Join(images, "horse_rgba.png")
	npyPath := filepath.Join(t.TempDir(), "x.npy")
	out, errOut, err := formatRun(img, "--model", dir, "--out", npyPath, "--format", "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"image":"` + img + `","width":`
	if !strings.HasPrefix(out.String(), want) || !strings.Contains(out.String(), `"shape":[1,3,224,224],"dtype":"float32","out":"`+npyPath+`"`) || errOut.Len() != 0 {
		t.Errorf("stdout %q (want %q…), stderr %q", out, want, errOut)
	}
	if _, _, err := formatRun(img, "--model", dir, "--out", "-", "--format", "json"); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("--format json --out -: %v, want a usage error", err)
	}
}

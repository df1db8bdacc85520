package clip

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
	"github.com/clip-go/clip/pkg/imageproc"
)

// A directory holding only the combined export (onnx/model.onnx) embeds
// images and texts as the split export does, each tower running alone.
func TestCombinedExportAloneMatchesSplit(t *testing.T) {
	ctx := context.Background()
	load := func(dir string) *Model {
		t.Helper()
		files, err := FilesInDir(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		m, err := Load(ctx, files, Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}
	split := load(testmodels.TinyShapes(t))
	combined := load(testmodels.TinyShapesWith(t, "onnx/model.onnx"))
	if combined.Files.Vision != "" || combined.Files.Text != "" {
		t.Fatalf("files %+v: want the combined export only", combined.Files)
	}
	for _, e := range []*encoder{combined.vision, combined.text} {
		var names []string
		for _, in := range e.sess.Inputs() {
			names = append(names, in.Name)
		}
		if e == combined.vision && (len(names) != 1 || names[0] != "pixel_values") {
			t.Errorf("vision tower inputs %v, want [pixel_values] (no text input to fill)", names)
		}
		if e == combined.text && len(names) != 2 {
			t.Errorf("text tower inputs %v, want [input_ids attention_mask] (no pixel input to fill)", names)
		}
	}
	if combined.LogitScale() != split.LogitScale() {
		t.Errorf("logit scale %g, split export's model gives %g", combined.LogitScale(), split.LogitScale())
	}

	imgs, _ := filepath.Glob(filepath.Join(testmodels.Root(), "testdata", "shapes", "*.png"))
	if len(imgs) < 5 {
		t.Skip("testdata/shapes has too few images")
	}
	imgs = imgs[:5]
	h, w := split.InputSize()
	pixels := make([]float32, len(imgs)*3*h*w)
	for i, p := range imgs {
		img, err := imageproc.Decode(p, imageproc.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := split.Preprocess.Preprocess(img, pixels[i*3*h*w:(i+1)*3*h*w]); err != nil {
			t.Fatal(err)
		}
	}
	want, err := split.EncodeImages(ctx, pixels, len(imgs))
	if err != nil {
		t.Fatal(err)
	}
	got, err := combined.EncodeImages(ctx, pixels, len(imgs))
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "image", got, want, 1e-5)

	texts := []string{"a photo of a red circle.", "a blue square.", "", "an image of a yellow cross on a textured background, seen from far away"}
	want, err = split.EncodeTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	got, err = combined.EncodeTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "text", got, want, 1e-5)
}

func assertClose(t *testing.T, what string, got, want [][]float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d embeddings, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s %d: %d dimensions, want %d", what, i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			d := math.Abs(float64(got[i][j]) - float64(want[i][j]))
			if !(d <= tol) {
				t.Errorf("%s %d[%d] = %g, split export gives %g", what, i, j, got[i][j], want[i][j])
			}
			worst = max(worst, d)
		}
	}
	t.Logf("%s: max abs diff %.3g", what, worst)
}

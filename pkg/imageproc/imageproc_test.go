package imageproc

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Goldens come from scripts/preprocess_golden.py (Pillow 9.4 on Debian 12),
// never from this package.
const (
	imagesDir = "../../testdata/images"
	goldenDir = "../../testdata/golden/preprocess"
	sharedPNG = "../../../shared/images/CLIP.png"
)

type manifest struct {
	Images map[string]struct {
		Error   string `json:"error"`
		Mode    string `json:"mode"`
		Width   int    `json:"width"`
		Height  int    `json:"height"`
		Decoded bool   `json:"decoded"`
		Crop    bool   `json:"crop"`
		Tensor  bool   `json:"tensor"`
	} `json:"images"`
	Resizes []struct {
		File, Source, Filter string
		Width, Height        int
	} `json:"resizes"`
	Shared *struct {
		Width     int    `json:"width"`
		Height    int    `json:"height"`
		RGBSHA256 string `json:"rgb_sha256"`
	} `json:"shared_CLIP.png"`
}

// readManifest reads dir's MANIFEST.json into m; script names the
// generator to run when it is missing.
func readManifest(t *testing.T, dir, script string, m any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.json"))
	if err != nil {
		t.Fatalf("golden manifest missing (run %s): %v", script, err)
	}
	if err := json.Unmarshal(b, m); err != nil {
		t.Fatal(err)
	}
}

func loadManifest(t *testing.T) manifest {
	t.Helper()
	var m manifest
	readManifest(t, goldenDir, "scripts/preprocess_golden.py", &m)
	if len(m.Images) < 30 || len(m.Resizes) < 10 {
		t.Fatalf("manifest lists only %d images and %d resizes", len(m.Images), len(m.Resizes))
	}
	return m
}

func mustNPY(t *testing.T, name string) *npyArray {
	t.Helper()
	return mustNPYIn(t, goldenDir, name)
}

func mustNPYIn(t *testing.T, dir, name string) *npyArray {
	t.Helper()
	a, err := readNPY(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func decodeRGB(t *testing.T, name string) *RGB {
	t.Helper()
	img, err := Decode(filepath.Join(imagesDir, name), DecodeOptions{})
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return img.(*RGB)
}

// Every format, JPEG included, must give Pillow's exact pixels. The
// image/jpeg fallback (for JPEG features our decoder leaves to it) is held
// to a looser bound in TestStdJPEGFallback.
const (
	fallbackMaxErr  = 4
	fallbackMeanErr = 0.1
)

// unsupported lists test images Pillow decodes and clip refuses, with the
// reason the error must give.
var unsupported = map[string]string{
	"unsupported_arithmetic.jpg": "arithmetic-coded JPEG",
}

// approximate lists test images whose pixels are known to differ from
// Pillow's, why, and the bound they are held to (1/255 units, max and mean).
var approximate = map[string]struct {
	why       string
	max, mean float64
}{
	"damaged_progressive.jpg": {"libjpeg smooths blocks of progressive scans that never arrived (do_block_smoothing); not reproduced", 8, 1},
}

func TestUnsupportedFilesFailClearly(t *testing.T) {
	for name, why := range unsupported {
		path := filepath.Join(imagesDir, name)
		_, err := Decode(path, DecodeOptions{})
		if err == nil || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: want an error naming the file and %q, got %v", name, why, err)
		}
	}
}

func diffStats(a, b []uint8) (maxd int, mean float64, ndiff int) {
	sum := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		if d > 0 {
			ndiff++
		}
		sum += d
		maxd = max(maxd, d)
	}
	return maxd, float64(sum) / float64(len(a)), ndiff
}

func TestResizeBitExactWithPillow(t *testing.T) {
	m := loadManifest(t)
	for _, r := range m.Resizes {
		t.Run(r.File, func(t *testing.T) {
			src := decodeRGB(t, r.Source)
			f, ok := map[string]Resample{"bicubic": Bicubic, "bilinear": Bilinear, "lanczos": Lanczos, "box": Box, "hamming": Hamming}[r.Filter]
			if !ok {
				t.Fatalf("filter %q", r.Filter)
			}
			got, err := Resize(src, r.Width, r.Height, f)
			if err != nil {
				t.Fatal(err)
			}
			want := mustNPY(t, r.File)
			if len(want.u8) != len(got.Pix) {
				t.Fatalf("size: got %d bytes, Pillow %d", len(got.Pix), len(want.u8))
			}
			if maxd, mean, n := diffStats(got.Pix, want.u8); n != 0 {
				t.Errorf("%d of %d bytes differ from Pillow (max %d, mean %.4f)", n, len(got.Pix), maxd, mean)
			}
		})
	}
}

func TestDecodeMatchesPillow(t *testing.T) {
	m := loadManifest(t)
	for name, e := range m.Images {
		if !e.Decoded || unsupported[name] != "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			got := decodeRGB(t, name)
			want := mustNPY(t, name+".decoded.npy")
			if got.Rect.Dx() != e.Width || got.Rect.Dy() != e.Height {
				t.Fatalf("size %v, Pillow %dx%d", got.Rect.Size(), e.Width, e.Height)
			}
			maxd, mean, n := diffStats(got.Pix, want.u8)
			t.Logf("%-26s %-5s vs Pillow decode: max %d/255, mean %.4f/255, %d/%d bytes differ", name, e.Mode, maxd, mean, n, len(got.Pix))
			if n != 0 {
				t.Errorf("must decode exactly like Pillow: %d bytes differ (max %d)", n, maxd)
			}
		})
	}
}

// pixelSpaceError compares a preprocessed tensor with Pillow's uint8 crop,
// in units of 1/255 before normalisation.
func pixelSpaceError(c Config, got []float32, want []uint8) (maxd, mean float64) {
	plane := len(got) / 3
	var sum float64
	for i, v := range got {
		ch := i / plane
		ref := c.PixelValue(ch, want[i])
		d := math.Abs(float64(v-ref)) * float64(c.Std[ch]) * 255
		sum += d
		maxd = math.Max(maxd, d)
	}
	return maxd, sum / float64(len(got))
}

func TestPreprocessMatchesHFReference(t *testing.T) {
	m := loadManifest(t)
	c := OpenAIConfig()
	for name, e := range m.Images {
		if !e.Crop || unsupported[name] != "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			img, err := Decode(filepath.Join(imagesDir, name), DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, 3*224*224)
			if err := c.Preprocess(img, got); err != nil {
				t.Fatal(err)
			}
			want := mustNPY(t, name+".crop.npy")
			maxd, mean := pixelSpaceError(c, got, want.u8)
			t.Logf("%-26s tensor vs HF/Pillow: max %.3f/255, mean %.4f/255", name, maxd, mean)
			if a, ok := approximate[name]; ok {
				t.Logf("%s: approximate (%s)", name, a.why)
				if maxd > a.max || mean > a.mean {
					t.Errorf("over its bound (max %g, mean %g)", a.max, a.mean)
				}
				return
			}
			if maxd > 1e-3 {
				t.Errorf("tensor must equal Pillow+HF's, max error %.3f/255", maxd)
			}
		})
	}
}

// The normalisation arithmetic must be numpy's float32 bit for bit: where
// our pixel equals Pillow's, the tensor value must equal the golden's.
func TestFullTensorMatchesNumPy(t *testing.T) {
	c := OpenAIConfig()
	img, err := Decode(filepath.Join(imagesDir, "chelsea.jpg"), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 3*224*224)
	if err := c.Preprocess(img, got); err != nil {
		t.Fatal(err)
	}
	want := mustNPY(t, "chelsea.jpg.tensor.npy")
	crop := mustNPY(t, "chelsea.jpg.crop.npy")
	if len(want.f32) != len(got) || want.shape[1] != 3 {
		t.Fatalf("golden shape %v", want.shape)
	}
	plane := 224 * 224
	same, exact := 0, 0
	var maxAbs float64
	for i := range got {
		maxAbs = math.Max(maxAbs, math.Abs(float64(got[i]-want.f32[i])))
		if got[i] == c.PixelValue(i/plane, crop.u8[i]) {
			same++
			if got[i] == want.f32[i] {
				exact++
			}
		}
	}
	t.Logf("chelsea.jpg: max |tensor diff| %.5f; %d/%d pixels equal Pillow's, %d of those bit-identical to numpy", maxAbs, same, len(got), exact)
	if same == 0 || exact != same {
		t.Errorf("normalisation differs from numpy float32: %d of %d equal pixels give identical floats", exact, same)
	}
	// Every 8-bit value through the LUT, against numpy's own values.
	for i := range got {
		if want.f32[i] != c.PixelValue(i/plane, crop.u8[i]) {
			t.Fatalf("value %d: numpy %v, ours %v for pixel %d", i, want.f32[i], c.PixelValue(i/plane, crop.u8[i]), crop.u8[i])
		}
	}
}

func TestOpenAICropRounding(t *testing.T) {
	c := OpenAIConfig()
	c.CropRounding = CropOpenAI
	img, err := Decode(filepath.Join(imagesDir, "rocket.jpg"), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 3*224*224)
	if err := c.Preprocess(img, got); err != nil {
		t.Fatal(err)
	}
	maxO, _ := pixelSpaceError(c, got, mustNPY(t, "rocket.jpg.openai.crop.npy").u8)
	maxH, _ := pixelSpaceError(c, got, mustNPY(t, "rocket.jpg.crop.npy").u8)
	t.Logf("rocket.jpg openai crop: max %.3f/255 vs openai golden, %.3f/255 vs hf golden", maxO, maxH)
	if maxO > 1e-3 || maxH < 20 {
		t.Errorf("openai rounding should match the openai golden (%.3f) and not the HF one (%.3f)", maxO, maxH)
	}
}

func TestEXIFOrientationsAllEqual(t *testing.T) {
	ref := decodeRGB(t, "exif_orientation_1.jpg")
	for o := 2; o <= 8; o++ {
		name := "exif_orientation_" + string(rune('0'+o)) + ".jpg"
		got := decodeRGB(t, name)
		if got.Rect != ref.Rect {
			t.Errorf("%s: %v after rotation, want %v", name, got.Rect, ref.Rect)
			continue
		}
		// Re-encoding a transposed picture quantises it differently (the
		// quantisation tables are not symmetric), so the eight files agree
		// closely rather than exactly; TestDecodeMatchesPillow checks each
		// one exactly against Pillow's exif_transpose.
		maxd, mean, _ := diffStats(got.Pix, ref.Pix)
		t.Logf("%s vs orientation 1: max %d, mean %.3f", name, maxd, mean)
		if maxd > 12 || mean > 1.5 {
			t.Errorf("%s: not the same picture after EXIF rotation (max %d, mean %.3f)", name, maxd, mean)
		}
		raw, err := Decode(filepath.Join(imagesDir, name), DecodeOptions{NoEXIFRotate: true})
		if err != nil {
			t.Fatal(err)
		}
		if o >= 5 && raw.Bounds() == ref.Rect {
			t.Errorf("%s: NoEXIFRotate still rotated", name)
		}
	}
}

func TestStdJPEGFallback(t *testing.T) {
	m := loadManifest(t)
	for name, e := range m.Images {
		if !e.Decoded || !strings.HasSuffix(name, ".jpg") || strings.HasPrefix(name, "exif_") || unsupported[name] != "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(imagesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		src, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			// Our decoder handles these; image/jpeg is only the fallback.
			t.Logf("%-20s image/jpeg cannot decode it: %v", name, err)
			continue
		}
		got := jpegToRGB(src, scanJPEGMarkers(b).adobe)
		maxd, mean, _ := diffStats(got.Pix, mustNPY(t, name+".decoded.npy").u8)
		t.Logf("%-20s image/jpeg fallback vs Pillow: max %d/255, mean %.4f/255", name, maxd, mean)
		if maxd > fallbackMaxErr || mean > fallbackMeanErr {
			t.Errorf("%s: fallback max %d mean %.4f", name, maxd, mean)
		}
	}
}

func TestBrokenFilesFailNamingTheFile(t *testing.T) {
	m := loadManifest(t)
	n := 0
	for name, e := range m.Images {
		if e.Error == "" {
			continue
		}
		n++
		path := filepath.Join(imagesDir, name)
		_, err := Decode(path, DecodeOptions{})
		if err == nil {
			t.Errorf("%s: Pillow refuses it (%s) but Decode succeeded", name, e.Error)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error does not name the file: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	if n < 4 {
		t.Errorf("only %d broken files in the manifest", n)
	}
}

// pngHeaderOnly is a PNG signature plus an IHDR claiming w×h and nothing
// else: DecodeConfig accepts it, decoding would fail for lack of data.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestMegapixelCapBeforeDecoding(t *testing.T) {
	_, err := DecodeReader(bytes.NewReader(pngHeaderOnly(50000, 50000)), "bomb.png", DecodeOptions{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "bomb.png") {
		t.Fatalf("2500 MP header: want ErrTooLarge naming bomb.png, got %v", err)
	}
	// Under the cap the same header gets as far as decoding (and fails
	// there), which shows the cap is what stopped the first one.
	_, err = DecodeReader(bytes.NewReader(pngHeaderOnly(50, 50)), "small.png", DecodeOptions{})
	if err == nil || errors.Is(err, ErrTooLarge) {
		t.Fatalf("header-only 50x50 PNG: want a decode error, got %v", err)
	}
	_, err = Decode(filepath.Join(imagesDir, "wide_4000x50.jpg"), DecodeOptions{MaxMegapixels: 0.1})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("0.2 MP image with a 0.1 MP cap: %v", err)
	}
	if _, err = Decode(filepath.Join(imagesDir, "wide_4000x50.jpg"), DecodeOptions{MaxMegapixels: -1}); err != nil {
		t.Fatalf("no cap: %v", err)
	}
}

func TestSharedCLIPPNG(t *testing.T) {
	if _, err := os.Stat(sharedPNG); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing in CI: %v", sharedPNG, err)
		}
		t.Skipf("shared data absent (%v); ../shared is optional outside CI", err)
	}
	m := loadManifest(t)
	if m.Shared == nil {
		t.Fatal("goldens were made without ../shared; rerun scripts/preprocess_golden.py")
	}
	img, err := Decode(sharedPNG, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rgb := img.(*RGB)
	sum := sha256.Sum256(rgb.Pix)
	if hex.EncodeToString(sum[:]) != m.Shared.RGBSHA256 {
		t.Errorf("decoded RGB of CLIP.png differs from Pillow's convert(\"RGB\")")
	}
	c := OpenAIConfig()
	got := make([]float32, 3*224*224)
	if err := c.Preprocess(img, got); err != nil {
		t.Fatal(err)
	}
	maxd, mean := pixelSpaceError(c, got, mustNPY(t, "shared_CLIP.png.crop.npy").u8)
	t.Logf("CLIP.png tensor vs HF/Pillow: max %.3f/255 mean %.4f/255", maxd, mean)
	if maxd > 1e-3 {
		t.Errorf("CLIP.png: max error %.3f/255, want exact", maxd)
	}
}

func TestPreprocessBatch(t *testing.T) {
	c := OpenAIConfig()
	a := decodeRGB(t, "chelsea.jpg")
	b := decodeRGB(t, "gray.png")
	batch := make([]float32, 2*3*224*224)
	if err := c.PreprocessBatch(t.Context(), []image.Image{a, b}, batch); err != nil {
		t.Fatal(err)
	}
	one := make([]float32, 3*224*224)
	if err := c.Preprocess(b, one); err != nil {
		t.Fatal(err)
	}
	for i := range one {
		if one[i] != batch[3*224*224+i] {
			t.Fatalf("batch slot 1 differs from Preprocess at %d", i)
		}
	}
	if err := c.PreprocessBatch(t.Context(), []image.Image{a}, batch); err == nil {
		t.Fatal("wrong dst length accepted")
	}
}

// A progressive JPEG with thousands of empty scans is refused quickly
// instead of walking every block thousands of times.
func TestTooManyScansRefused(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(imagesDir, "progressive.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	eoi := bytes.LastIndex(b, []byte{0xFF, 0xD9})
	sos := bytes.Index(b, []byte{0xFF, 0xDA})
	// A DC-refinement scan of the luma component with no data: 1 bit/block.
	empty := []byte{0xFF, 0xDA, 0x00, 0x08, 0x01, b[sos+5], 0x00, 0x00, 0x00, 0x01}
	var bomb bytes.Buffer
	bomb.Write(b[:eoi])
	for i := 0; i < 2*maxScans; i++ {
		bomb.Write(empty)
	}
	bomb.Write([]byte{0xFF, 0xD9})
	_, err = DecodeReader(&bomb, "scans.jpg", DecodeOptions{})
	if !errors.Is(err, errTooManyScans) || !strings.Contains(err.Error(), "scans.jpg") {
		t.Fatalf("want errTooManyScans naming scans.jpg, got %v", err)
	}
}

func TestPrepareBytes(t *testing.T) {
	c := OpenAIConfig()
	b, err := os.ReadFile(filepath.Join(imagesDir, "coffee.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 3*224*224)
	if err := c.PrepareBytes(b, "coffee.jpg", DecodeOptions{}, dst); err != nil {
		t.Fatal(err)
	}
	if maxd, _ := pixelSpaceError(c, dst, mustNPY(t, "coffee.jpg.crop.npy").u8); maxd != 0 {
		t.Errorf("coffee.jpg: %.3f/255 from Pillow+HF", maxd)
	}
	if err := c.PrepareBytes(b[:100], "cut.jpg", DecodeOptions{}, dst); err == nil || !strings.Contains(err.Error(), "cut.jpg") {
		t.Errorf("truncated bytes: %v", err)
	}
}

// open_clip / immich semantics: torchvision crop rounding and ToTensor's
// float32 division, compared bit for bit with torch (scripts/hf_clip_preprocess.py).
func TestOpenCLIPConfigMatchesTorch(t *testing.T) {
	c, err := ParseOpenCLIPConfig([]byte(`{"size": 96, "mean": [0.48145466, 0.4578275, 0.40821073],
		"std": [0.26862954, 0.26130258, 0.27577711], "interpolation": "bicubic", "resize_mode": "shortest"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"chelsea.jpg", "rocket.jpg", "horse_rgba.png", "rgba.png"} {
		img, err := Decode(filepath.Join(imagesDir, name), DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, 3*96*96)
		if err := c.Preprocess(img, got); err != nil {
			t.Fatal(err)
		}
		want := mustNPY(t, name+".openclip96.tensor.npy").f32
		differ, maxAbs := 0, 0.0
		for i := range got {
			if got[i] != want[i] {
				differ++
				maxAbs = math.Max(maxAbs, math.Abs(float64(got[i]-want[i])))
			}
		}
		t.Logf("%-16s vs open_clip (torch): %d/%d values differ, max |diff| %.4f (×std×255 ≈ %.2f/255)", name, differ, len(got), maxAbs, maxAbs*0.27*255)
		// RGBA: open_clip resizes before dropping alpha (Pillow premultiplies
		// then), we convert first as HF does; only that image may differ.
		if !strings.Contains(name, "rgba") && differ != 0 {
			t.Errorf("%s: %d values differ from open_clip's", name, differ)
		}
	}
}

// No resize and a crop larger than the image: HF zero-pads (ceil(margin/2)
// before the image).
func TestCenterCropPaddingMatchesHF(t *testing.T) {
	c := OpenAIConfig()
	c.DoResize = false
	c.CropHeight, c.CropWidth = 81, 120
	img := decodeRGB(t, "image.bmp")
	got := make([]float32, 3*81*120)
	if err := c.Preprocess(img, got); err != nil {
		t.Fatal(err)
	}
	if maxd, _ := pixelSpaceError(c, got, mustNPY(t, "image.bmp.pad81x120.crop.npy").u8); maxd != 0 {
		t.Errorf("padded crop differs from HF's: max %.3f/255", maxd)
	}
}

// The streaming decoder reuses a ring of coefficient rows; with rings of 1
// and 2 MCU rows every test JPEG exercises slot reuse and must still give
// Pillow's pixels.
func TestJPEGRingReuseMatchesPillow(t *testing.T) {
	m := loadManifest(t)
	n := 0
	for name, e := range m.Images {
		if !strings.HasSuffix(name, ".jpg") || e.Error != "" || unsupported[name] != "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(imagesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, ring := range []int{1, 2} {
			img, err := decodeJPEGRing(b, 1e9, ring, 1)
			if err != nil {
				t.Fatalf("%s ring %d: %v", name, ring, err)
			}
			if o := scanJPEGMarkers(b).orientation; o > 1 {
				img = orient(img, o)
			}
			if e.Decoded {
				if _, _, d := diffStats(img.Pix, mustNPY(t, name+".decoded.npy").u8); d != 0 {
					t.Errorf("%s ring %d: %d bytes differ from Pillow", name, ring, d)
				}
			} else if want, err := DecodeBytes(b, DecodeOptions{}); err != nil || !bytes.Equal(want.Pix, img.Pix) {
				t.Errorf("%s ring %d: differs from the default decode (%v)", name, ring, err)
			}
			n++
		}
	}
	if n < 40 {
		t.Errorf("only %d decodes", n)
	}
}

// SigLIP's squash against Pillow + numpy (scripts/siglip_preprocess_golden.py):
// lossless sources, so every value must be identical.
func TestSiglipSquashMatchesPillow(t *testing.T) {
	for _, tc := range []struct {
		name string
		h, w int
	}{{"image.bmp", 96, 96}, {"image.bmp", 48, 80}, {"tall_50x4000.png", 64, 64}} {
		c := SiglipConfig()
		c.Height, c.Width = tc.h, tc.w
		img, err := Decode(filepath.Join(imagesDir, tc.name), DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, 3*tc.h*tc.w)
		if err := c.Preprocess(img, got); err != nil {
			t.Fatal(err)
		}
		want := mustNPY(t, tc.name+".siglip"+strconv.Itoa(tc.h)+"x"+strconv.Itoa(tc.w)+".tensor.npy")
		if len(want.f32) != len(got) {
			t.Fatalf("%s: golden has %d values, want %d", tc.name, len(want.f32), len(got))
		}
		differ := 0
		for i := range got {
			if got[i] != want.f32[i] {
				differ++
			}
		}
		if differ != 0 {
			t.Errorf("%s squashed to %d×%d: %d/%d values differ from Pillow's", tc.name, tc.w, tc.h, differ, len(got))
		}
	}
}

// The tiny SigLIP's own preprocessor_config.json (SiglipImageProcessor)
// on its golden images gives the tensor Pillow gave
// (scripts/fixtures/make_tiny_siglip.py), bit for bit.
func TestTinySiglipPreprocessMatchesPillow(t *testing.T) {
	c, err := LoadConfig(filepath.Join("..", "..", "testdata", "models", "tiny-siglip"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Images []struct {
			File string `json:"file"`
		} `json:"images"`
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "golden", "zeroshot", "tiny-siglip.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	want := mustNPYIn(t, filepath.Join("..", "..", "testdata", "golden", "zeroshot"), "tiny-siglip.pixel_values.npy")
	h, w := c.InputSize()
	n := 3 * h * w
	if len(want.f32) != len(g.Images)*n {
		t.Fatalf("golden has %d values for %d images of 3×%d×%d", len(want.f32), len(g.Images), h, w)
	}
	for i, im := range g.Images {
		img, err := Decode(filepath.Join("..", "..", "testdata", "shapes", im.File), DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, n)
		if err := c.Preprocess(img, got); err != nil {
			t.Fatal(err)
		}
		for j, v := range got {
			if v != want.f32[i*n+j] {
				t.Fatalf("%s: value %d is %v, Pillow's %v", im.File, j, v, want.f32[i*n+j])
			}
		}
	}
}

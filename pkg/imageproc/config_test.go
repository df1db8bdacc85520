package imageproc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Configs as published: openai/clip-vit-base-patch32 (old int sizes),
// Xenova/clip-vit-base-patch32 (dict sizes), an immich/open_clip export.
const (
	openaiHF = `{"crop_size": 224, "do_center_crop": true, "do_normalize": true, "do_resize": true,
 "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": [0.48145466, 0.4578275, 0.40821073],
 "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 224}`
	xenovaHF = `{"crop_size": {"height": 224, "width": 224}, "do_center_crop": true, "do_convert_rgb": true,
 "do_normalize": true, "do_rescale": true, "do_resize": true, "image_mean": [0.48145466, 0.4578275, 0.40821073],
 "image_processor_type": "CLIPImageProcessor", "image_std": [0.26862954, 0.26130258, 0.27577711],
 "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 224}}`
	immich = `{"size": [224, 224], "mode": "RGB", "mean": [0.48145466, 0.4578275, 0.40821073],
 "std": [0.26862954, 0.26130258, 0.27577711], "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0}`
)

func writeModel(t *testing.T, name, body string) string {
	t.Helper()
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLoadConfigPublishedFormats(t *testing.T) {
	want := OpenAIConfig()
	for _, tc := range []struct{ file, body string }{
		{"preprocessor_config.json", openaiHF},
		{"preprocessor_config.json", xenovaHF},
	} {
		c, err := LoadConfig(writeModel(t, tc.file, tc.body))
		if err != nil {
			t.Fatal(err)
		}
		c.Source = ""
		if c != want {
			t.Errorf("%s\n got %+v\nwant %+v", tc.body[:40], c, want)
		}
		if h, w := c.InputSize(); h != 224 || w != 224 {
			t.Errorf("InputSize %d×%d", h, w)
		}
	}
	c, err := LoadConfig(writeModel(t, "preprocess_cfg.json", immich))
	if err != nil {
		t.Fatal(err)
	}
	if c.CropRounding != CropOpenAI || c.RescaleDivisor != 255 || c.ShortestEdge != 224 || c.CropHeight != 224 || c.Resample != Bicubic {
		t.Errorf("open_clip config read as %+v", c)
	}
}

func TestParseHFVariants(t *testing.T) {
	c, err := ParseHFConfig([]byte(`{"size": {"height": 336, "width": 300}, "do_center_crop": false, "resample": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.ShortestEdge != 0 || c.Height != 336 || c.Width != 300 || c.Resample != Bilinear {
		t.Errorf("%+v", c)
	}
	if h, w := c.InputSize(); h != 336 || w != 300 {
		t.Errorf("InputSize %d×%d, want 336×300", h, w)
	}
	c, err = ParseHFConfig([]byte(`{"size": {"shortest_edge": 224}, "do_center_crop": false}`))
	if err != nil {
		t.Fatal(err)
	}
	if h, w := c.InputSize(); h != 0 || w != 0 {
		t.Errorf("image-dependent size should report 0×0, got %d×%d", h, w)
	}
	// HF: int(224 * 512 / 342) = 335, width-major when wider.
	if h, w := c.OutputSize(512, 342); h != 224 || w != 335 {
		t.Errorf("OutputSize(512×342) = %d×%d, want 224×335", h, w)
	}
	for _, bad := range []string{
		`{"resample": 0}`, `{"size": {"longest_edge": 3}}`, `{"image_std": [1, 0, 1]}`,
		`{"image_mean": [1, 2]}`, `{"crop_size": -4}`, `not json`,
	} {
		if _, err := ParseHFConfig([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestLoadConfigErrorsNameTheFile(t *testing.T) {
	d := writeModel(t, "preprocessor_config.json", `{"resample": 9}`)
	_, err := LoadConfig(d)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(d, "preprocessor_config.json")) {
		t.Errorf("bad config: %v", err)
	}
	empty := t.TempDir()
	if _, err := LoadConfig(empty); err == nil || !strings.Contains(err.Error(), empty) {
		t.Errorf("missing config: %v", err)
	}
	if _, err := ParseOpenCLIPConfig([]byte(`{"size": 224, "resize_mode": "longest"}`)); err == nil {
		t.Error("resize_mode longest accepted")
	}
}

// Crop offsets against the formulas of transformers' center_crop
// ((H - c) // 2) and torchvision's CenterCrop (round((H - c) / 2.0), half to
// even; padding (c - H) // 2 before when the crop is larger).
func TestCropOffset(t *testing.T) {
	for _, tc := range []struct{ size, crop, hf, openai int }{
		{335, 224, 55, 56}, // 55.5 → 56 (even)
		{333, 224, 54, 54}, // 54.5 → 54 (even)
		{336, 224, 56, 56},
		{224, 224, 0, 0},
		{221, 224, -2, -1}, // crop larger: HF pads ceil(3/2)=2 before, torchvision 1
		{1, 224, -112, -111},
	} {
		if got := cropOffset(tc.size, tc.crop, CropHF); got != tc.hf {
			t.Errorf("hf offset(%d,%d) = %d, want %d", tc.size, tc.crop, got, tc.hf)
		}
		if got := cropOffset(tc.size, tc.crop, CropOpenAI); got != tc.openai {
			t.Errorf("openai offset(%d,%d) = %d, want %d", tc.size, tc.crop, got, tc.openai)
		}
	}
}

// SiglipImageProcessor's preprocessor_config.json (as Xenova's SigLIP
// exports have it): a squash to size×size without a crop, whatever
// crop fields the file carries, and a bare int size means a square.
func TestParseSiglipConfig(t *testing.T) {
	c, err := ParseHFConfig([]byte(`{"do_normalize": true, "do_rescale": true, "do_resize": true,
		"image_mean": [0.5, 0.5, 0.5], "image_processor_type": "SiglipImageProcessor",
		"image_std": [0.5, 0.5, 0.5], "processor_class": "SiglipProcessor", "resample": 3,
		"rescale_factor": 0.00392156862745098, "size": {"height": 224, "width": 224}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.DoCenterCrop || c.ShortestEdge != 0 || c.Height != 224 || c.Width != 224 || c.Resample != Bicubic ||
		c.Mean != [3]float32{0.5, 0.5, 0.5} || c.Std != [3]float32{0.5, 0.5, 0.5} {
		t.Errorf("parsed %+v, want a 224×224 bicubic squash, mean = std = 0.5", c)
	}
	if w, h := c.ResizedSize(640, 480); w != 224 || h != 224 {
		t.Errorf("640×480 resizes to %d×%d, want 224×224", w, h)
	}
	c, err = ParseHFConfig([]byte(`{"image_processor_type": "SiglipImageProcessor", "size": 384,
		"do_center_crop": true, "crop_size": 224}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.DoCenterCrop || c.Height != 384 || c.Width != 384 || c.ShortestEdge != 0 || c.Mean[0] != 0.5 {
		t.Errorf("bare size 384: parsed %+v, want a 384×384 squash with SigLIP's defaults", c)
	}
	if h, w := c.InputSize(); h != 384 || w != 384 {
		t.Errorf("InputSize %d×%d, want 384×384", h, w)
	}
	if _, err := ParseHFConfig([]byte(`{"image_processor_type": "SiglipImageProcessor", "size": {"shortest_edge": 224}}`)); err == nil {
		t.Error("a shortest_edge size for SiglipImageProcessor was accepted")
	}
}

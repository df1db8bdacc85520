package imageproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// CropRounding chooses how a center crop's offset is rounded when the
// margin is odd.
type CropRounding int

const (
	// CropHF is Hugging Face's center_crop: top = (H - crop) // 2.
	CropHF CropRounding = iota
	// CropOpenAI is torchvision's CenterCrop used by OpenAI's clip and
	// open_clip: top = round((H - crop) / 2.0), half to even.
	CropOpenAI
)

// ParseCropRounding reads "hf" or "openai".
func ParseCropRounding(s string) (CropRounding, error) {
	switch strings.ToLower(s) {
	case "hf", "huggingface":
		return CropHF, nil
	case "openai", "torchvision", "open_clip":
		return CropOpenAI, nil
	}
	return CropHF, fmt.Errorf("unknown crop rounding %q (want hf or openai)", s)
}

// MarshalText writes the rounding by name in JSON (summaries, /v1/models).
func (c CropRounding) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// MarshalText writes the filter by name in JSON (summaries, /v1/models).
func (r Resample) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (c CropRounding) String() string {
	if c == CropOpenAI {
		return "openai"
	}
	return "hf"
}

// Config is a CLIP image preprocessing recipe.
type Config struct {
	// DoResize enables resizing: ShortestEdge > 0 scales the shorter side to
	// it (longer side int(size*long/short), truncated, as HF and torchvision
	// do); otherwise the image is resized to exactly Height×Width.
	DoResize     bool     `json:"do_resize"`
	ShortestEdge int      `json:"shortest_edge"`
	Height       int      `json:"height"`
	Width        int      `json:"width"`
	Resample     Resample `json:"resample"`

	DoCenterCrop bool         `json:"do_center_crop"`
	CropHeight   int          `json:"crop_height"`
	CropWidth    int          `json:"crop_width"`
	CropRounding CropRounding `json:"crop_rounding"`

	// DoRescale multiplies by RescaleFactor (HF: in float64, then cast to
	// float32). RescaleDivisor > 0 instead divides in float32, as
	// torchvision's ToTensor does (open_clip configs).
	DoRescale      bool    `json:"do_rescale"`
	RescaleFactor  float64 `json:"rescale_factor"`
	RescaleDivisor float32 `json:"rescale_divisor"`

	DoNormalize bool       `json:"do_normalize"`
	Mean        [3]float32 `json:"mean"`
	Std         [3]float32 `json:"std"`

	// Source names the file the config came from ("" for built-in).
	Source string `json:"source"`
}

// OpenAIConfig is the preprocessor_config.json of openai/clip-vit-base-patch32
// (and its Xenova ONNX export): shortest edge 224, bicubic, 224 crop.
func OpenAIConfig() Config {
	return Config{
		DoResize: true, ShortestEdge: 224, Resample: Bicubic,
		DoCenterCrop: true, CropHeight: 224, CropWidth: 224, CropRounding: CropHF,
		DoRescale: true, RescaleFactor: 1.0 / 255,
		DoNormalize: true,
		Mean:        [3]float32{0.48145466, 0.4578275, 0.40821073},
		Std:         [3]float32{0.26862954, 0.26130258, 0.27577711},
	}
}

// SiglipConfig is SiglipImageProcessor's defaults: squash to 224×224
// (no aspect-preserving resize, no crop), bicubic, rescale 1/255,
// mean = std = 0.5.
func SiglipConfig() Config {
	return Config{
		DoResize: true, Height: 224, Width: 224, Resample: Bicubic,
		DoRescale: true, RescaleFactor: 1.0 / 255,
		DoNormalize: true,
		Mean:        [3]float32{0.5, 0.5, 0.5},
		Std:         [3]float32{0.5, 0.5, 0.5},
	}
}

// LoadConfig reads the preprocessing recipe of a model directory:
// preprocessor_config.json (Hugging Face) if present, else
// preprocess_cfg.json (open_clip / immich). Neither present is an error.
func LoadConfig(modelDir string) (Config, error) {
	hf := filepath.Join(modelDir, "preprocessor_config.json")
	b, err := os.ReadFile(hf)
	if err == nil {
		c, err := ParseHFConfig(b)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", hf, err)
		}
		c.Source = hf
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("reading preprocessing config: %w", err)
	}
	oc := filepath.Join(modelDir, "preprocess_cfg.json")
	b, err = os.ReadFile(oc)
	if err == nil {
		c, err := ParseOpenCLIPConfig(b)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", oc, err)
		}
		c.Source = oc
		return c, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("%s: no preprocessor_config.json or preprocess_cfg.json in the model directory", modelDir)
	}
	return Config{}, fmt.Errorf("reading preprocessing config: %w", err)
}

type hfConfig struct {
	DoResize      *bool           `json:"do_resize"`
	Size          json.RawMessage `json:"size"`
	Resample      *int            `json:"resample"`
	DoCenterCrop  *bool           `json:"do_center_crop"`
	CropSize      json.RawMessage `json:"crop_size"`
	DoRescale     *bool           `json:"do_rescale"`
	RescaleFactor *float64        `json:"rescale_factor"`
	DoNormalize   *bool           `json:"do_normalize"`
	ImageMean     json.RawMessage `json:"image_mean"`
	ImageStd      json.RawMessage `json:"image_std"`
	DoConvertRGB  *bool           `json:"do_convert_rgb"`
	ProcessorType string          `json:"image_processor_type"`
}

// hfSize is one of HF's size spellings: an int, {"shortest_edge": n},
// {"height": h, "width": w}, or a [h, w] list.
type hfSize struct {
	shortest, height, width int
}

func parseHFSize(raw json.RawMessage, what string) (hfSize, bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return hfSize{}, false, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		return hfSize{shortest: n, height: n, width: n}, true, nil // which one applies depends on the field
	}
	var list []int
	if err := json.Unmarshal(raw, &list); err == nil {
		switch len(list) {
		case 1:
			return hfSize{shortest: list[0], height: list[0], width: list[0]}, true, nil
		case 2:
			return hfSize{height: list[0], width: list[1]}, true, nil
		}
		return hfSize{}, false, fmt.Errorf("%s: want 1 or 2 numbers, got %d", what, len(list))
	}
	var m map[string]int
	if err := json.Unmarshal(raw, &m); err != nil {
		return hfSize{}, false, fmt.Errorf("%s: not an int, list or object: %s", what, raw)
	}
	if v, ok := m["shortest_edge"]; ok {
		return hfSize{shortest: v}, true, nil
	}
	h, okh := m["height"]
	w, okw := m["width"]
	if okh && okw {
		return hfSize{height: h, width: w}, true, nil
	}
	return hfSize{}, false, fmt.Errorf("%s: want shortest_edge or height and width, got %s", what, raw)
}

func parseTriple(raw json.RawMessage, what string, def [3]float32) ([3]float32, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return def, nil
	}
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		return [3]float32{float32(one), float32(one), float32(one)}, nil
	}
	var v []float64
	if err := json.Unmarshal(raw, &v); err != nil || len(v) != 3 {
		return def, fmt.Errorf("%s: want 3 numbers, got %s", what, raw)
	}
	return [3]float32{float32(v[0]), float32(v[1]), float32(v[2])}, nil
}

// ParseHFConfig reads a Hugging Face preprocessor_config.json: a
// CLIPImageProcessor's, whose absent fields take CLIPImageProcessor's
// defaults, or (image_processor_type) a SiglipImageProcessor's, which
// squashes to size×size without a crop and defaults as SiglipConfig.
func ParseHFConfig(b []byte) (Config, error) {
	var j hfConfig
	if err := json.Unmarshal(b, &j); err != nil {
		return Config{}, fmt.Errorf("not valid JSON: %w", err)
	}
	siglip := j.ProcessorType == "SiglipImageProcessor"
	c := OpenAIConfig()
	if siglip {
		c = SiglipConfig()
	}
	if j.DoResize != nil {
		c.DoResize = *j.DoResize
	}
	if s, ok, err := parseHFSize(j.Size, "size"); err != nil {
		return Config{}, err
	} else if ok && siglip {
		// SiglipImageProcessor: get_size_dict(size, default_to_square=True),
		// and its resize wants height and width: always a squash.
		if s.height == 0 || s.width == 0 {
			return Config{}, fmt.Errorf("size: SiglipImageProcessor resizes to height and width, got %s", j.Size)
		}
		c.Height, c.Width = s.height, s.width
	} else if ok {
		// CLIPImageProcessor: get_size_dict(size, default_to_square=False),
		// so a bare int means the shortest edge.
		c.ShortestEdge, c.Height, c.Width = s.shortest, 0, 0
		if s.shortest == 0 {
			c.Height, c.Width = s.height, s.width
		}
	}
	if j.Resample != nil {
		c.Resample = Resample(*j.Resample)
		if _, err := c.Resample.filter(); err != nil {
			return Config{}, fmt.Errorf("resample: %w", err)
		}
	}
	// SiglipImageProcessor has no crop step: its configs' crop fields,
	// if any, are unused.
	if j.DoCenterCrop != nil && !siglip {
		c.DoCenterCrop = *j.DoCenterCrop
	}
	// crop_size: get_size_dict(crop_size, default_to_square=True).
	if s, ok, err := parseHFSize(j.CropSize, "crop_size"); err != nil {
		return Config{}, err
	} else if ok && !siglip {
		c.CropHeight, c.CropWidth = s.height, s.width
		if s.shortest != 0 && s.height == 0 {
			c.CropHeight, c.CropWidth = s.shortest, s.shortest
		}
	}
	if j.DoRescale != nil {
		c.DoRescale = *j.DoRescale
	}
	if j.RescaleFactor != nil {
		c.RescaleFactor = *j.RescaleFactor
	}
	if j.DoNormalize != nil {
		c.DoNormalize = *j.DoNormalize
	}
	var err error
	if c.Mean, err = parseTriple(j.ImageMean, "image_mean", c.Mean); err != nil {
		return Config{}, err
	}
	if c.Std, err = parseTriple(j.ImageStd, "image_std", c.Std); err != nil {
		return Config{}, err
	}
	// do_convert_rgb=false cannot be honoured: the model takes 3 channels,
	// so every image is converted to RGB regardless.
	return c, c.validate()
}

type openCLIPConfig struct {
	Size          json.RawMessage `json:"size"`
	Mean          json.RawMessage `json:"mean"`
	Std           json.RawMessage `json:"std"`
	Interpolation string          `json:"interpolation"`
	ResizeMode    string          `json:"resize_mode"`
}

// ParseOpenCLIPConfig reads an open_clip / immich preprocess_cfg.json:
// {"size": 224 | [h, w], "mean": [...], "std": [...],
// "interpolation": "bicubic"|"bilinear", "resize_mode": "shortest"|"squash"}.
// Crops round as torchvision does and rescaling divides by 255 in float32
// (ToTensor). Resizing is done after conversion to RGB, as for HF models;
// open_clip resizes RGBA images before dropping alpha (Pillow premultiplies
// then), so where pixels are transparent the two differ, a lot when the
// colour under the transparency is not black (see the tests).
func ParseOpenCLIPConfig(b []byte) (Config, error) {
	var j openCLIPConfig
	if err := json.Unmarshal(b, &j); err != nil {
		return Config{}, fmt.Errorf("not valid JSON: %w", err)
	}
	c := OpenAIConfig()
	c.CropRounding = CropOpenAI
	c.RescaleDivisor = 255
	s, ok, err := parseHFSize(j.Size, "size")
	if err != nil {
		return Config{}, err
	}
	if !ok {
		return Config{}, errors.New("size is missing")
	}
	switch strings.ToLower(j.Interpolation) {
	case "", "bicubic":
		c.Resample = Bicubic
	case "bilinear":
		c.Resample = Bilinear
	default:
		return Config{}, fmt.Errorf("unsupported interpolation %q (want bicubic or bilinear)", j.Interpolation)
	}
	switch strings.ToLower(j.ResizeMode) {
	case "", "shortest":
		if s.height != s.width {
			return Config{}, fmt.Errorf("resize_mode shortest needs a square size, got %dx%d", s.height, s.width)
		}
		c.ShortestEdge = s.height
		c.CropHeight, c.CropWidth = s.height, s.width
	case "squash":
		c.ShortestEdge, c.Height, c.Width = 0, s.height, s.width
		c.DoCenterCrop = false
	default:
		return Config{}, fmt.Errorf("unsupported resize_mode %q (want shortest or squash)", j.ResizeMode)
	}
	if c.Mean, err = parseTriple(j.Mean, "mean", c.Mean); err != nil {
		return Config{}, err
	}
	if c.Std, err = parseTriple(j.Std, "std", c.Std); err != nil {
		return Config{}, err
	}
	return c, c.validate()
}

const maxSide = 1 << 16

func (c Config) validate() error {
	if c.DoResize {
		if c.ShortestEdge < 0 || c.ShortestEdge > maxSide {
			return fmt.Errorf("size %d out of range", c.ShortestEdge)
		}
		if c.ShortestEdge == 0 && (c.Height <= 0 || c.Width <= 0 || c.Height > maxSide || c.Width > maxSide) {
			return fmt.Errorf("resize size %dx%d out of range", c.Height, c.Width)
		}
	}
	if c.DoCenterCrop && (c.CropHeight <= 0 || c.CropWidth <= 0 || c.CropHeight > maxSide || c.CropWidth > maxSide) {
		return fmt.Errorf("crop size %dx%d out of range", c.CropHeight, c.CropWidth)
	}
	if c.DoNormalize {
		for i, s := range c.Std {
			if s == 0 || math.IsNaN(float64(s)) {
				return fmt.Errorf("image_std[%d] is %v", i, s)
			}
		}
	}
	return nil
}

// InputSize is the (height, width) of the tensor Preprocess fills, when it
// does not depend on the image: the crop size, or the exact resize size.
// It returns (0, 0) for a shortest-edge resize without a crop; use
// OutputSize then.
func (c Config) InputSize() (h, w int) {
	if c.DoCenterCrop {
		return c.CropHeight, c.CropWidth
	}
	if c.DoResize && c.ShortestEdge == 0 {
		return c.Height, c.Width
	}
	return 0, 0
}

// ResizedSize is the size (width, height) an imgW×imgH image is resized to
// before cropping.
func (c Config) ResizedSize(imgW, imgH int) (w, h int) {
	if !c.DoResize {
		return imgW, imgH
	}
	if c.ShortestEdge == 0 {
		return c.Width, c.Height
	}
	short, long := imgW, imgH
	if imgW > imgH {
		short, long = imgH, imgW
	}
	// Python's int(size * long / short): true division in float64, truncated.
	newLong := int(float64(c.ShortestEdge*long) / float64(short))
	if imgW <= imgH {
		return c.ShortestEdge, newLong
	}
	return newLong, c.ShortestEdge
}

// OutputSize is the (height, width) of the tensor for an imgW×imgH image.
func (c Config) OutputSize(imgW, imgH int) (h, w int) {
	if c.DoCenterCrop {
		return c.CropHeight, c.CropWidth
	}
	w, h = c.ResizedSize(imgW, imgH)
	return h, w
}

// DraftSize is the DecodeOptions.DraftSize that reduced-size JPEG decoding
// uses with this recipe: twice the resize target (Pillow's
// im.draft("RGB", (2S, 2S)) for shortest edge S), so the reduced image is
// still at least twice the size the resize makes of it. 0 (decode every
// pixel) when the recipe does not resize: the crop would see another image.
func (c Config) DraftSize() int {
	switch {
	case !c.DoResize:
		return 0
	case c.ShortestEdge > 0:
		return 2 * c.ShortestEdge
	default:
		return 2 * max(c.Height, c.Width)
	}
}

package clip

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"

	"github.com/clip-go/clip/pkg/hub"
	"github.com/clip-go/clip/pkg/imageproc"
)

// This file is the library surface for Go programs: Open a model, embed
// images and texts, build a zero-shot classifier. Everything takes a
// context.Context; nothing reads flags or keeps global state.

// OpenOptions tune Open.
type OpenOptions struct {
	Options
	// Variant picks the ONNX export: "fp32" (default), "fp16" or "quantized".
	Variant string
	// Store resolves catalogue names and repository ids (downloading on
	// first use). When nil, Open makes one with hub.StoreOptions' defaults,
	// which read CLIP_HOME, HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE. A
	// model directory needs no store.
	Store *hub.Store
}

// Open loads the CLIP model ref names: a model directory (Hugging Face
// layout onnx/vision_model.onnx + onnx/text_model.onnx, or onnx/model.onnx
// alone, or immich's visual/ + textual/), a catalogue name such as
// "clip-vit-base-patch32", or a Hugging Face repository id
// ("Xenova/clip-vit-base-patch32[@revision]"). Names and ids are looked up
// in the model cache and downloaded on first use unless the store is
// offline. Close the model when done.
func Open(ctx context.Context, ref string, opt OpenOptions) (*Model, error) {
	variant, err := hub.ParseVariant(opt.Variant)
	if err != nil {
		return nil, err
	}
	var local *hub.LocalModel
	if st, err := os.Stat(ref); err == nil && st.IsDir() {
		local, err = hub.OpenDir(ref, variant)
		if err != nil {
			return nil, err
		}
	} else {
		store := opt.Store
		if store == nil {
			if store, err = hub.NewStore(hub.StoreOptions{}); err != nil {
				return nil, err
			}
		}
		if local, err = store.Resolve(ctx, ref, variant); err != nil {
			return nil, err
		}
	}
	return Load(ctx, FilesFor(local), opt.Options)
}

// FilesFor names the parts of a model the store (or hub.OpenDir) found.
func FilesFor(local *hub.LocalModel) Files {
	files := Files{
		Dir:          local.Dir,
		Vision:       local.VisionPath,
		Text:         local.TextPath,
		Combined:     local.CombinedPath,
		TokenizerDir: local.Dir,
	}
	for _, p := range []string{local.TokenizerPath, local.VocabPath} {
		if p != "" {
			files.TokenizerDir = filepath.Dir(p)
			break
		}
	}
	if local.PreprocessorPath != "" {
		// immich keeps preprocess_cfg.json beside the visual model.
		files.PreprocessDir = filepath.Dir(local.PreprocessorPath)
	}
	return files
}

// imageBatch is how many images EmbedImages runs in one inference.
const imageBatch = 8

// EmbedImages preprocesses images as the model's preprocessor config says
// (resize, center crop, normalise) and returns one L2-normalised embedding
// per image, in order. Decode files with imageproc.Decode to get the same
// pixels as the clip command (EXIF orientation, Pillow-exact JPEG).
func (m *Model) EmbedImages(ctx context.Context, images ...image.Image) ([][]float32, error) {
	h, w := m.InputSize()
	size := 3 * h * w
	out := make([][]float32, 0, len(images))
	pixels := make([]float32, min(len(images), imageBatch)*size)
	for start := 0; start < len(images); start += imageBatch {
		batch := images[start:min(start+imageBatch, len(images))]
		for i, img := range batch {
			if err := m.Preprocess.Preprocess(img, pixels[i*size:(i+1)*size]); err != nil {
				return nil, fmt.Errorf("image %d: %w", start+i, err)
			}
		}
		embs, err := m.EncodeImages(ctx, pixels[:len(batch)*size], len(batch))
		if err != nil {
			return nil, err
		}
		out = append(out, embs...)
	}
	return out, nil
}

// EmbedTexts returns one L2-normalised embedding per text, in order; the
// texts are used as they are (no prompt template).
func (m *Model) EmbedTexts(ctx context.Context, texts ...string) ([][]float32, error) {
	return m.EncodeTexts(ctx, texts)
}

// NewClassifier builds a zero-shot classifier for labels: each label is
// put into every template (the family's default when none are given: "a
// photo of a {}." for CLIP, "This is a photo of {}." for SigLIP), the prompts are embedded once, and ZeroShot.Classify then
// ranks the labels for an image embedding from EmbedImages.
func (m *Model) NewClassifier(ctx context.Context, labels []string, templates ...string) (*ZeroShot, error) {
	ls := make([]Label, len(labels))
	for i, l := range labels {
		ls[i] = Label{Name: l}
	}
	if len(templates) == 0 {
		templates = m.DefaultTemplates()
	}
	return NewZeroShot(ctx, m, ls, templates, m.Scoring())
}

// DecodeImageFile reads and decodes an image file (JPEG, PNG, GIF, WebP,
// BMP, TIFF…) at full size, EXIF orientation applied: the pixels plain
// Pillow gives (the clip command's --exact-decode).
func DecodeImageFile(path string) (image.Image, error) {
	return imageproc.Decode(path, imageproc.DecodeOptions{})
}

// DecodeImageFile reads and decodes an image file as the clip command does
// by default: a large JPEG is decoded directly at 1/2, 1/4 or 1/8 of its
// size when the model's resize allows it (Pillow's Image.draft), which is
// several times faster on photos and changes the model's input by about
// 0.2/255 on average. Use the package-level DecodeImageFile for full size.
func (m *Model) DecodeImageFile(path string) (image.Image, error) {
	return imageproc.Decode(path, imageproc.DecodeOptions{DraftSize: m.Preprocess.DraftSize()})
}

package server

import (
	"context"

	"github.com/clip-go/clip/pkg/clip"
)

// Model is what the server needs from a loaded CLIP model; modelload.Model
// satisfies it, and handler tests use a fake.
type Model interface {
	// InputSize is the image size the vision encoder takes.
	InputSize() (h, w int)
	// EncodeImages embeds n preprocessed images (n×3×H×W) into
	// L2-normalised embeddings.
	EncodeImages(ctx context.Context, pixels []float32, n int) ([][]float32, error)
	// EncodeTexts embeds prompts into L2-normalised embeddings.
	EncodeTexts(ctx context.Context, texts []string) ([][]float32, error)
	// PrepareImage decodes an image file's bytes (enforcing the
	// megapixel cap) and writes the model's input tensor (3×H×W) into dst.
	PrepareImage(data []byte, name string, dst []float32) error
	// Scoring is how similarities become probabilities: a softmax over
	// the labels (CLIP) or each label's own sigmoid (SigLIP).
	Scoring() clip.Scoring
	// Family names the model family ("clip", "siglip").
	Family() clip.Family
	// DefaultTemplates are the family's prompt templates for requests
	// giving none.
	DefaultTemplates() []string
}

// ModelInfo describes the served model in responses (`"model"`) and in
// GET /v1/models. Files carry sha256 digests computed once at startup.
type ModelInfo struct {
	ID         string  `json:"id"`
	Name       string  `json:"name,omitempty"`
	Variant    string  `json:"variant,omitempty"`
	Revision   string  `json:"revision,omitempty"`
	Commit     string  `json:"commit,omitempty"`
	Files      any     `json:"files,omitempty"`
	Family     string  `json:"family"`
	Scoring    string  `json:"scoring"` // "softmax" over the labels, or each label's own "sigmoid"
	LogitScale float64 `json:"logit_scale"`
	LogitBias  float64 `json:"logit_bias,omitempty"`
	InputSize  [2]int  `json:"input_size"`
	Preprocess any     `json:"preprocess,omitempty"`
	Decode     string  `json:"decode,omitempty"` // JPEG decoding: "reduced" (Pillow's draft) or "exact"
	Tokenizer  any     `json:"tokenizer,omitempty"`
}

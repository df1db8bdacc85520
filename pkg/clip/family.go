package clip

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/clip-go/clip/pkg/tokenizer"
)

// Family is a model family: how its text tower wants its input and how its
// similarities become probabilities.
type Family string

const (
	// FamilyCLIP is OpenAI's CLIP and its kin: causal text tower pooled at
	// the end-of-text token, softmax over the labels.
	FamilyCLIP Family = "clip"
	// FamilySigLIP is Google's SigLIP: the text tower pools the last
	// position (texts padded to a fixed length) and each label gets its own
	// sigmoid probability.
	FamilySigLIP Family = "siglip"
	// FamilyMCLIP is Multilingual-CLIP (M-CLIP) as immich ships it: an
	// XLM-RoBERTa text tower taught to reproduce CLIP's text embeddings in
	// many languages, mean-pooled over the attention mask, beside the CLIP
	// vision tower it was distilled from; softmax over the labels as CLIP.
	FamilyMCLIP Family = "m-clip"
	// FamilyNLLB is NLLB-CLIP with SigLIP's loss (open_clip's
	// nllb-clip-*-siglip) as immich ships it: the encoder of Meta's NLLB
	// translation model pooled at its first position, where the text's
	// FLORES-200 language code sits, beside a SigLIP vision tower; each
	// label gets its own sigmoid probability.
	FamilyNLLB Family = "nllb-siglip"
)

// DefaultTemplate is the prompt its authors use when none is given: CLIP's
// "a photo of a {}.", and for SigLIP the one transformers' zero-shot
// pipeline and the SigLIP model cards use.
// M-CLIP's and NLLB-CLIP's are the label alone: their labels are written
// in the user's language, which an English template would mix with another.
func (f Family) DefaultTemplate() string {
	switch f {
	case FamilySigLIP:
		return "This is a photo of {}."
	case FamilyMCLIP, FamilyNLLB:
		return "{}"
	}
	return DefaultTemplate
}

// Scoring turns cosine similarities into probabilities.
type Scoring struct {
	// Sigmoid scores each label on its own: sigmoid(cos × LogitScale +
	// LogitBias) (SigLIP). Otherwise the labels share a softmax of
	// cos × LogitScale (CLIP), and LogitBias is unused.
	Sigmoid    bool    `json:"sigmoid"`
	LogitScale float64 `json:"logit_scale"`
	LogitBias  float64 `json:"logit_bias"`
	// Missing says why the model's files hold no trained scale and bias
	// (immich's NLLB export drops them): embeddings and similarities still
	// work, probabilities cannot be computed.
	Missing string `json:"missing,omitempty"`
}

// SoftmaxScoring is CLIP's scoring with the given (exponentiated) logit scale.
func SoftmaxScoring(logitScale float64) Scoring { return Scoring{LogitScale: logitScale} }

// Name is "sigmoid" or "softmax".
func (s Scoring) Name() string {
	if s.Sigmoid {
		return "sigmoid"
	}
	return "softmax"
}

// detectFamily reads the family from the model directory's own files:
// config.json's model_type when it has one ("siglip", "siglip_text_model"…
// are SigLIP, anything else CLIP), else the text tower's shape: a Unigram
// tokenizer with a tower that outputs pooler_output and no text_embeds is
// SigLIP as transformers.js exports it; a Unigram (XLM-R) tokenizer with a
// tower that takes an attention_mask and gives one pooled embedding is
// M-CLIP as immich exports it (immich's config.json is open_clip's, with
// no model_type); a tokenizer holding FLORES-200 language codes with a
// tower that takes the ids alone (the mask is computed inside from the pad
// id) is NLLB-CLIP as immich exports it.
func detectFamily(dir string, tok *tokenizer.Tokenizer, text *encoder) (Family, error) {
	cfg, err := readModelConfig(dir)
	if err != nil {
		return "", err
	}
	if cfg.ModelType != "" {
		if strings.HasPrefix(strings.ToLower(cfg.ModelType), "siglip") {
			return FamilySigLIP, nil
		}
		return FamilyCLIP, nil
	}
	if text != nil && text.mask == "" && text.pixels == "" && isNLLBTokenizer(tok) {
		return FamilyNLLB, nil
	}
	if tok.ModelType() == "Unigram" && text != nil {
		switch {
		case text.textOut == "pooler_output":
			return FamilySigLIP, nil
		case text.mask != "" && text.pixels == "":
			return FamilyMCLIP, nil
		}
	}
	return FamilyCLIP, nil
}

// modelConfig is what clip reads of config.json. LogitScale (the log
// value, as the model's parameter) and LogitBias are not in Hugging Face's
// configs; a split-only export may carry them there since its graphs
// don't hold them.
type modelConfig struct {
	ModelType  string   `json:"model_type"`
	LogitScale *float64 `json:"logit_scale"`
	LogitBias  *float64 `json:"logit_bias"`
	path       string
}

func readModelConfig(dir string) (modelConfig, error) {
	p := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return modelConfig{}, nil
	}
	if err != nil {
		return modelConfig{}, fmt.Errorf("reading model config: %w", err)
	}
	var c modelConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return modelConfig{}, fmt.Errorf("%s: not valid JSON: %w", p, err)
	}
	c.path = p
	return c, nil
}

// sigmoidScoring reads SigLIP's trained logit_scale and logit_bias: the
// combined export's initializers when there is one, else config.json's.
// Neither is an error: a guessed bias would shift every probability.
func sigmoidScoring(files Files) (Scoring, error) {
	s := Scoring{Sigmoid: true}
	if files.Combined != "" {
		v, err := readScalars(files.Combined, "logit_scale", "logit_bias")
		if err != nil {
			return s, err
		}
		scale, okS := v["logit_scale"]
		bias, okB := v["logit_bias"]
		if okS && okB {
			s.LogitScale, s.LogitBias = math.Exp(scale), bias
			return s, nil
		}
	}
	cfg, err := readModelConfig(files.Dir)
	if err != nil {
		return s, err
	}
	if cfg.LogitScale != nil && cfg.LogitBias != nil {
		s.LogitScale, s.LogitBias = math.Exp(*cfg.LogitScale), *cfg.LogitBias
		return s, nil
	}
	return s, fmt.Errorf("%s: SigLIP model without its logit_scale and logit_bias (want onnx/model.onnx holding them as initializers, or logit_scale and logit_bias in config.json)", files.Dir)
}

// nllbScoring is SigLIP's scoring with the scale and bias from config.json.
// immich's export keeps neither (its graphs are encode_image and
// encode_text alone, and open_clip's config has only init_logit_bias, the
// value training started from), so without them the model still embeds
// and ranks but gives no probabilities.
func nllbScoring(dir string) (Scoring, error) {
	cfg, err := readModelConfig(dir)
	if err != nil {
		return Scoring{}, err
	}
	if cfg.LogitScale != nil && cfg.LogitBias != nil {
		return Scoring{Sigmoid: true, LogitScale: math.Exp(*cfg.LogitScale), LogitBias: *cfg.LogitBias}, nil
	}
	return Scoring{Sigmoid: true, Missing: fmt.Sprintf("%s: the model's files hold no trained logit_scale and logit_bias, so its sigmoid probabilities cannot be computed (immich's NLLB-CLIP export leaves them out); add the checkpoint's logit_scale (log value) and logit_bias to config.json", filepath.Join(dir, "config.json"))}, nil
}

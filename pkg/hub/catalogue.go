package hub

import (
	"fmt"
	"sort"
	"strings"
)

// DefaultModel is the catalogue name used when --model is not given.
const DefaultModel = "clip-vit-base-patch32"

// Entry is one model of the built-in catalogue.
//
// Every repo, revision and file name here was read from the repository's
// public file listing on huggingface.co (see the Source field); nothing is
// guessed. Sizes are the rounded figures those listings display: they are
// for `clip models list`, and twice a variant's size bounds what the hub
// may announce for any one of its files (never an exact check).
type Entry struct {
	Name        string // short name users type
	Repo        string // hub repo id
	Revision    string // a commit where a public listing shows one with every file, else "main"
	Layout      Layout
	Description string
	Source      string // public page the file list was confirmed from

	// Variants maps each published variant to its approximate download
	// size in bytes (vision + text graphs).
	Variants map[Variant]int64

	// FromListing: the file list comes from the hub's listing API at pull
	// time (filtered to Layout), because no pinned listing was available
	// or the files cannot be listed ahead (immich's large text towers keep
	// each weight in its own external-data file).
	FromListing bool

	// CombinedOnly: the variant's graphs are fetched as the combined
	// onnx/model{,_fp16,_quantized}.onnx alone, which runs both towers:
	// SigLIP's trained logit_scale and logit_bias are only there, so the
	// split files would be a second download of the same weights.
	CombinedOnly bool

	// Family is how the model scores labels (pkg/clip's families: "clip",
	// "siglip", "m-clip", "nllb-siglip"), Languages what its text tower reads, InputSize
	// the side of the square image it takes, in pixels: all from the
	// model's own config and card.
	Family    string
	Languages string
	InputSize int
}

// supportFiles are the tokenizer and configuration files of the HF layout.
// A 404 on one of them is tolerated (recorded as absent): the repositories'
// listings show them, but not at every revision.
var supportFiles = []string{
	"config.json",
	"preprocessor_config.json",
	"tokenizer.json",
	"tokenizer_config.json",
	"special_tokens_map.json",
	"vocab.json",
	"merges.txt",
}

// immichSupportFiles are the same for immich's layout.
var immichSupportFiles = []string{
	"config.json",
	"visual/preprocess_cfg.json",
	"textual/tokenizer.json",
	"textual/tokenizer_config.json",
	"textual/special_tokens_map.json",
	"textual/vocab.json",
	"textual/merges.txt",
}

const mb = 1_000_000

var catalogue = []Entry{
	{
		Name: "clip-vit-base-patch32",
		Repo: "Xenova/clip-vit-base-patch32",
		// The commit "Upload fp16 ONNX weights" (Mar 16, 2024): its tree lists
		// onnx/, config.json, merges.txt, preprocessor_config.json,
		// special_tokens_map.json, tokenizer.json, tokenizer_config.json and
		// vocab.json; the onnx/ history shows the fp16 uploads ending at it.
		Revision:    "0b95b21b04a877260b196dfc3ebdb79c3c8be8ca",
		Layout:      LayoutHF,
		Description: "OpenAI CLIP ViT-B/32, ONNX export by Xenova (transformers.js)",
		Family:      "clip", Languages: "English", InputSize: 224,
		Source: "https://huggingface.co/Xenova/clip-vit-base-patch32/tree/0b95b21b04a877260b196dfc3ebdb79c3c8be8ca",
		Variants: map[Variant]int64{
			FP32:      (352 + 254) * mb,
			FP16:      (176 + 127) * mb,
			Quantized: (89.1 + 64.5) * mb,
		},
	},
	{
		Name:        "clip-vit-base-patch16",
		Repo:        "Xenova/clip-vit-base-patch16",
		Revision:    "main",
		Layout:      LayoutHF,
		Description: "OpenAI CLIP ViT-B/16, ONNX export by Xenova (transformers.js)",
		Family:      "clip", Languages: "English", InputSize: 224,
		Source: "https://huggingface.co/Xenova/clip-vit-base-patch16/tree/main/onnx",
		Variants: map[Variant]int64{
			FP32:      (345 + 254) * mb,
			FP16:      (173 + 127) * mb,
			Quantized: (87.5 + 64.5) * mb,
		},
	},
	{
		Name:        "clip-vit-large-patch14",
		Repo:        "Xenova/clip-vit-large-patch14",
		Revision:    "main",
		Layout:      LayoutHF,
		Description: "OpenAI CLIP ViT-L/14, ONNX export by Xenova (transformers.js)",
		Family:      "clip", Languages: "English", InputSize: 224,
		Source: "https://huggingface.co/Xenova/clip-vit-large-patch14/tree/main/onnx",
		Variants: map[Variant]int64{
			FP32:      (1220 + 495) * mb,
			FP16:      (609 + 248) * mb,
			Quantized: (307 + 125) * mb,
		},
	},
	{
		Name:        "vit-b-32-laion2b-s34b-b79k",
		Repo:        "immich-app/ViT-B-32__laion2b-s34b-b79k",
		Revision:    "main",
		Layout:      LayoutImmich,
		Description: "OpenCLIP ViT-B/32 trained on LAION-2B (s34b_b79k), ONNX export by immich",
		Family:      "clip", Languages: "English", InputSize: 224,
		Source: "https://huggingface.co/immich-app/ViT-B-32__laion2b-s34b-b79k/tree/main",
		Variants: map[Variant]int64{
			FP32: (351 + 254) * mb,
		},
		FromListing: true,
	},
	{
		Name: "siglip-base-patch16-224",
		Repo: "Xenova/siglip-base-patch16-224",
		// The commit "Upload fp16 ONNX weights": its onnx/ lists model.onnx
		// (813 MB), model_fp16.onnx (407 MB), model_quantized.onnx (211 MB)
		// and the split towers; the root config.json, preprocessor_config.json,
		// special_tokens_map.json, spiece.model, tokenizer.json and
		// tokenizer_config.json.
		Revision:     "294847d6b5fe86c91330269da98ce112d6c75e7e",
		Layout:       LayoutHF,
		Description:  "Google SigLIP base/16 at 224 px (WebLI), ONNX export by Xenova (transformers.js)",
		Source:       "https://huggingface.co/Xenova/siglip-base-patch16-224/tree/294847d6b5fe86c91330269da98ce112d6c75e7e/onnx",
		CombinedOnly: true,
		Family:       "siglip", Languages: "English", InputSize: 224,
		Variants: map[Variant]int64{
			FP32:      813 * mb,
			FP16:      407 * mb,
			Quantized: 211 * mb,
		},
	},
	{
		Name:         "siglip-base-patch16-384",
		Repo:         "Xenova/siglip-base-patch16-384",
		Revision:     "main",
		Layout:       LayoutHF,
		Description:  "Google SigLIP base/16 at 384 px (WebLI), ONNX export by Xenova (transformers.js)",
		Source:       "https://huggingface.co/Xenova/siglip-base-patch16-384/tree/main/onnx",
		CombinedOnly: true,
		Family:       "siglip", Languages: "English", InputSize: 384,
		Variants: map[Variant]int64{
			FP32:      814 * mb,
			FP16:      408 * mb,
			Quantized: 211 * mb,
		},
	},
	{
		// immich's export of M-CLIP (machine-learning/export in
		// immich-app/immich): textual/model.onnx takes input_ids and
		// attention_mask int32 [1, 77] and gives the pooled, projected,
		// normalised embedding; its ~560M weights sit in one external-data
		// file each beside it (textual/transformer.encoder.layer.20.
		// intermediate.dense.bias, textual/onnx__MatMul_2679, ...), so the
		// files come from the listing. The listing shows visual/model.onnx
		// at 351 MB; the text tower's total is not displayed (size unknown).
		Name:        "xlm-roberta-large-vit-b-32",
		Repo:        "immich-app/XLM-Roberta-Large-Vit-B-32",
		Revision:    "main",
		Layout:      LayoutImmich,
		Description: "M-CLIP: XLM-RoBERTa-Large text tower taught CLIP ViT-B/32's text space, with OpenAI's ViT-B/32; ONNX export by immich",
		Source:      "https://huggingface.co/immich-app/XLM-Roberta-Large-Vit-B-32/tree/main",
		FromListing: true,
		Family:      "m-clip", Languages: "multilingual (XLM-R)", InputSize: 224,
		Variants: map[Variant]int64{FP32: 0},
	},
	{
		Name:        "xlm-roberta-large-vit-b-16plus",
		Repo:        "immich-app/XLM-Roberta-Large-Vit-B-16Plus",
		Revision:    "main",
		Layout:      LayoutImmich,
		Description: "M-CLIP: XLM-RoBERTa-Large text tower with OpenCLIP ViT-B/16+ (LAION-400M) at 240 px; ONNX export by immich",
		Source:      "https://huggingface.co/immich-app/XLM-Roberta-Large-Vit-B-16Plus/tree/main",
		FromListing: true,
		Family:      "m-clip", Languages: "multilingual (XLM-R)", InputSize: 240,
		Variants: map[Variant]int64{FP32: 0},
	},
	// immich's exports of open_clip's NLLB-CLIP with SigLIP's loss
	// (visheratin's nllb-clip-{base,large}-siglip, pretrained v1 and mrl):
	// the repo names are in immich's model list
	// (machine-learning/immich_ml/models/constants.py), the architectures
	// in open_clip's model_configs/nllb-clip-{base,large}-siglip.json
	// (384 px SigLIP towers; text: facebook/nllb-200-distilled-600M and
	// -1.3B encoders, cls pooling, linear projection, no context_length, so
	// immich pads to 77), the export in immich's
	// machine-learning/export/.../models/openclip.py (textual/model.onnx
	// takes "text" int32 [1, 77] alone; the weights of towers over 2 GB
	// sit in external-data files beside it, so the files come from the
	// listing). Neither the listings' sizes nor a commit could be read
	// here; immich's docs (docs/docs/features/searching.md) give peak RSS
	// 4675/4696 MiB (base v1/mrl) and 4226/4248 MiB (large). The exports
	// carry no trained logit_scale/logit_bias: embed, index and search
	// work; classify needs them added to config.json (README, Models).
	// "201 languages" and the mrl models being the better version are
	// visheratin's model card's.
	{
		Name:        "nllb-clip-base-siglip-v1",
		Repo:        "immich-app/nllb-clip-base-siglip__v1",
		Revision:    "main",
		Layout:      LayoutImmich,
		Description: "NLLB-CLIP base: NLLB-200 (600M) text encoder with SigLIP ViT-B/16 at 384 px (sigmoid); ONNX export by immich, without the trained logit_scale/logit_bias: embed, index and search work; classify needs them added to config.json",
		Source:      "https://huggingface.co/immich-app/nllb-clip-base-siglip__v1/tree/main",
		FromListing: true,
		Family:      "nllb-siglip", Languages: "multilingual (NLLB, 201 languages)", InputSize: 384,
		Variants: map[Variant]int64{FP32: 0},
	},
	{
		Name:        "nllb-clip-base-siglip-mrl",
		Repo:        "immich-app/nllb-clip-base-siglip__mrl",
		Revision:    "main",
		Layout:      LayoutImmich,
		Description: "NLLB-CLIP base trained with Matryoshka representations: NLLB-200 (600M) text encoder, SigLIP ViT-B/16 at 384 px; ONNX export by immich, without the trained logit_scale/logit_bias: embed, index and search work; classify needs them added to config.json",
		Source:      "https://huggingface.co/immich-app/nllb-clip-base-siglip__mrl/tree/main",
		FromListing: true,
		Family:      "nllb-siglip", Languages: "multilingual (NLLB, 201 languages)", InputSize: 384,
		Variants: map[Variant]int64{FP32: 0},
	},
	{
		Name:        "nllb-clip-large-siglip-v1",
		Repo:        "immich-app/nllb-clip-large-siglip__v1",
		Revision:    "main",
		Layout:      LayoutImmich,
		Description: "NLLB-CLIP large: NLLB-200 (1.3B) text encoder with SigLIP SO400M/14 at 384 px (sigmoid); ONNX export by immich, without the trained logit_scale/logit_bias: embed, index and search work; classify needs them added to config.json",
		Source:      "https://huggingface.co/immich-app/nllb-clip-large-siglip__v1/tree/main",
		FromListing: true,
		Family:      "nllb-siglip", Languages: "multilingual (NLLB, 201 languages)", InputSize: 384,
		Variants: map[Variant]int64{FP32: 0},
	},
	{
		Name:        "nllb-clip-large-siglip-mrl",
		Repo:        "immich-app/nllb-clip-large-siglip__mrl",
		Revision:    "main",
		Layout:      LayoutImmich,
		Description: "NLLB-CLIP large trained with Matryoshka representations: NLLB-200 (1.3B) text encoder, SigLIP SO400M/14 at 384 px; ONNX export by immich, without the trained logit_scale/logit_bias: embed, index and search work; classify needs them added to config.json",
		Source:      "https://huggingface.co/immich-app/nllb-clip-large-siglip__mrl/tree/main",
		FromListing: true,
		Family:      "nllb-siglip", Languages: "multilingual (NLLB, 201 languages)", InputSize: 384,
		Variants: map[Variant]int64{FP32: 0},
	},
}

// Catalogue returns the built-in models, default first.
func Catalogue() []Entry {
	out := make([]Entry, len(catalogue))
	copy(out, catalogue)
	return out
}

// LookupCatalogue finds an entry by its short name or by its repo id
// (case-insensitive, as the hub treats repo ids).
func LookupCatalogue(name string) (Entry, bool) {
	for _, e := range catalogue {
		if strings.EqualFold(e.Name, name) || strings.EqualFold(e.Repo, name) {
			return e, true
		}
	}
	return Entry{}, false
}

// DownloadSize is the approximate download size of variant of the
// catalogued model ref names (its listing's rounded figures), or -1 when
// ref is not in the catalogue, lacks the variant or its size is unknown.
func DownloadSize(ref string, variant Variant) int64 {
	base, _, _ := strings.Cut(ref, "@")
	if e, ok := LookupCatalogue(base); ok {
		if n, ok := e.Variants[variantOrDefault(variant)]; ok && n > 0 {
			return n
		}
	}
	return -1
}

// VariantList returns the entry's variants in display order.
func (e Entry) VariantList() []Variant {
	var out []Variant
	for _, v := range AllVariants {
		if _, ok := e.Variants[v]; ok {
			out = append(out, v)
		}
	}
	return out
}

// Files returns the files of variant v: the two graphs are required, the
// support files optional. FromListing entries have no fixed list.
func (e Entry) Files(v Variant) (required, optional []string, err error) {
	if _, ok := e.Variants[v]; !ok {
		return nil, nil, fmt.Errorf("%s has no %s variant (available: %s)", e.Name, v, joinVariants(e.VariantList()))
	}
	required, optional, err = layoutFiles(e.Layout, v)
	if err == nil && e.CombinedOnly {
		required = []string{"onnx/model" + v.onnxSuffix() + ".onnx"}
	}
	return required, optional, err
}

// layoutFiles is the file set of a variant in a layout.
func layoutFiles(l Layout, v Variant) (required, optional []string, err error) {
	switch l {
	case LayoutImmich:
		if v != FP32 {
			return nil, nil, fmt.Errorf("the immich layout publishes ONNX graphs in fp32 only, not %s", v)
		}
		return []string{"visual/model.onnx", "textual/model.onnx"}, append([]string(nil), immichSupportFiles...), nil
	default:
		s := v.onnxSuffix()
		return []string{"onnx/vision_model" + s + ".onnx", "onnx/text_model" + s + ".onnx"}, append([]string(nil), supportFiles...), nil
	}
}

func joinVariants(vs []Variant) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// NearestCatalogueName is the catalogue name closest to ref when it is
// likely a misspelling of one (at most 3 edits, case ignored), else "".
func NearestCatalogueName(ref string) string {
	best, bestDist := "", 4
	for _, e := range Catalogue() {
		if d := editDistance(strings.ToLower(ref), strings.ToLower(e.Name)); d < bestDist {
			best, bestDist = e.Name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

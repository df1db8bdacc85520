// Package hub finds, downloads, verifies and caches CLIP model files the way
// the Hugging Face hub serves them, so that a model named on the command
// line resolves to local ONNX files: from the cache when they are there,
// from the hub when they are not and the network is allowed, and never as a
// half-written or corrupt file.
package hub

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"strings"
	"time"
)

// Variant is a numeric precision of the exported ONNX graphs.
type Variant string

// Variants published by the Xenova (transformers.js) exports: the file
// suffix each one adds to vision_model/text_model/model is in onnxSuffix.
const (
	FP32      Variant = "fp32"
	FP16      Variant = "fp16"
	Quantized Variant = "quantized" // int8 weights (onnxruntime dynamic quantization; uint8 where the graph has a Conv)
	Uint8     Variant = "uint8"     // uint8 weights (the same quantization, QUInt8 everywhere)
	Q4        Variant = "q4"        // 4-bit block-quantized weights (MatMulNBits)
	Q4F16     Variant = "q4f16"     // q4 with float16 activations
	BNB4      Variant = "bnb4"      // bitsandbytes NF4 weights (MatMulBnb4)
)

// AllVariants lists the variants in the order they are shown.
var AllVariants = []Variant{FP32, FP16, Quantized, Uint8, Q4, Q4F16, BNB4}

// ParseVariant accepts a --variant value; "" means fp32, and "int8" and
// "q8" are accepted as the names people use for the quantized export.
func ParseVariant(s string) (Variant, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "", "fp32", "float32":
		return FP32, nil
	case "fp16", "float16":
		return FP16, nil
	case "quantized", "int8", "q8":
		return Quantized, nil
	case string(Uint8), string(Q4), string(Q4F16), string(BNB4):
		return Variant(v), nil
	}
	return "", fmt.Errorf("unknown variant %q (want fp32, fp16, quantized, uint8, q4, q4f16 or bnb4)", s)
}

// onnxSuffix is what the HF layout appends to vision_model/text_model.
func (v Variant) onnxSuffix() string {
	switch v {
	case FP32, "":
		return ""
	case FP16:
		return "_fp16"
	}
	return "_" + string(v)
}

// Part selects the files of a model a command needs, so that tokenizing
// or preprocessing does not download hundreds of megabytes of graphs.
type Part int

const (
	AllFiles          Part = iota // graphs and support files: what loading the model needs
	TokenizerFiles                // tokenizer.json, vocab.json, merges.txt, their configs and config.json
	PreprocessorFiles             // preprocessor_config.json, or immich's visual/preprocess_cfg.json
)

// wants reports whether file (a layout's path) belongs to the part.
func (p Part) wants(file string) bool {
	base := path.Base(file)
	switch p {
	case TokenizerFiles:
		return strings.HasPrefix(base, "tokenizer") || base == "vocab.json" || base == "merges.txt" ||
			base == "special_tokens_map.json" || base == "config.json"
	case PreprocessorFiles:
		return base == "preprocessor_config.json" || base == "preprocess_cfg.json"
	}
	return true
}

// filesOf narrows a layout's file set to the part: only AllFiles
// requires the graphs; a part's support files stay optional (a 404 is
// recorded as absent, and the command says what it lacks).
func (p Part) filesOf(required, optional []string) (req, opt []string) {
	if p == AllFiles {
		return required, optional
	}
	for _, f := range optional {
		if p.wants(f) {
			opt = append(opt, f)
		}
	}
	return nil, opt
}

// Layout is how a model directory arranges its files.
type Layout string

const (
	// LayoutHF is the transformers.js/Optimum layout: onnx/vision_model.onnx,
	// onnx/text_model.onnx (+ _fp16/_quantized), tokenizer and config files
	// at the top.
	LayoutHF Layout = "hf"
	// LayoutImmich is immich's OpenCLIP export: visual/model.onnx,
	// visual/preprocess_cfg.json, textual/model.onnx, textual/tokenizer.json.
	LayoutImmich Layout = "immich"
)

// FileInfo describes one file of a model. SHA256 is empty until known.
type FileInfo struct {
	Path   string `json:"path"` // slash-separated, relative to the model directory
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
}

// LocalModel is a model whose files are on disk, ready to load.
type LocalModel struct {
	Dir      string // absolute directory holding the files
	ID       string // hub repo id ("Xenova/clip-vit-base-patch32"), or Dir for a local directory
	Name     string // catalogue name when the model came from the catalogue
	Revision string // revision asked for ("main", a tag or a commit); empty for a local directory
	Commit   string // commit the files came from, when known
	Variant  Variant
	Layout   Layout

	VisionPath   string // image encoder graph
	TextPath     string // text encoder graph
	CombinedPath string // single graph with both towers, when present (onnx/model*.onnx)

	TokenizerPath    string // tokenizer.json, when present
	VocabPath        string // vocab.json, when present
	MergesPath       string // merges.txt, when present
	PreprocessorPath string // preprocessor_config.json (HF) or visual/preprocess_cfg.json (immich), when present
	ConfigPath       string // config.json, when present

	// Files lists every model file found for this variant. For models from
	// the cache SHA256 is the recorded sum; for a local directory it stays
	// empty until Store.LocalSHA256 fills it.
	Files []FileInfo
}

// NotInstalledError says a model is not in the cache (and, for a command
// that would download it, that offline mode forbids it); it names the
// command that fetches it.
type NotInstalledError struct {
	Ref     string
	Variant Variant
	Root    string
	Missing []string // files absent from the cache, when known
	Offline bool     // the user forbade the network (--offline, HF_HUB_OFFLINE)
}

func (e *NotInstalledError) Error() string {
	pull := "clip models pull " + e.Ref
	if e.Variant != "" && e.Variant != FP32 {
		pull += " --variant " + string(e.Variant)
	}
	msg := fmt.Sprintf("model %s (%s) is not in the model cache %s; `%s` fetches it",
		e.Ref, variantOrDefault(e.Variant), e.Root, pull)
	if e.Variant == "" {
		msg = fmt.Sprintf("model %s is not in the model cache %s (see `clip models list`); `%s` fetches it", e.Ref, e.Root, pull)
	}
	if e.Offline {
		msg = fmt.Sprintf("model %s (%s) is not in the model cache %s and offline mode forbids downloading it; run `%s` while online",
			e.Ref, variantOrDefault(e.Variant), e.Root, pull)
	}
	if len(e.Missing) > 0 {
		msg += " (missing: " + strings.Join(e.Missing, ", ") + ")"
	}
	return msg
}

func variantOrDefault(v Variant) Variant {
	if v == "" {
		return FP32
	}
	return v
}

// NetworkError says the hub could not be reached (no network, a host
// that does not resolve, a refused or timed-out connection) while a model
// was being fetched; its message says what to do instead.
type NetworkError struct {
	Ref      string // the model, as the user named it
	Endpoint string
	Root     string // the model cache
	Err      error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("cannot download model %s: %s is unreachable (%s). Without network access: "+
		"give a model directory with --model DIR; set HF_ENDPOINT to a hub mirror you can reach; "+
		"or run `clip models pull %s` on a connected machine, copy its model cache to %s, and use --offline",
		e.Ref, e.Endpoint, networkCause(e.Err), e.Ref, e.Root)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// networkCause is the innermost useful part of a transport error: the DNS
// or dial failure without the URL and method around it.
func networkCause(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) {
		return de.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Error()
	}
	return err.Error()
}

// isNetworkError reports whether err means the hub was not reached (as
// opposed to an answer from it, a checksum failure or a cancellation).
func isNetworkError(err error) bool {
	var de *net.DNSError
	var oe *net.OpError
	return errors.As(err, &de) || errors.As(err, &oe) || errors.Is(err, errStalled)
}

// ChecksumError says a file's content does not match its expected digest.
type ChecksumError struct {
	File      string // path of the file (in the repo or on disk)
	Algorithm string // "sha256" or "git-sha1"
	Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: %s mismatch: expected %s, got %s", e.File, e.Algorithm, e.Want, e.Got)
}

// HTTPError is an unexpected answer from the hub.
type HTTPError struct {
	Status   int
	URL      string
	Repo     string
	File     string // empty for API calls
	Revision string
	Code     string // the hub's X-Error-Code header, when sent
	Message  string // the hub's X-Error-Message header, when sent

	retryAfter time.Duration // the server's Retry-After, when sent
}

func (e *HTTPError) Error() string {
	what := e.Repo
	if e.File != "" {
		what = fmt.Sprintf("%s: file %q at revision %q", e.Repo, e.File, e.Revision)
	} else if e.Revision != "" {
		what = fmt.Sprintf("%s at revision %q", e.Repo, e.Revision)
	}
	var msg string
	switch {
	case e.Status == 401 || e.Status == 403 || e.Code == "GatedRepo":
		msg = fmt.Sprintf("%s: access denied (HTTP %d); the repository may be gated or private: set HF_TOKEN to a Hugging Face token that has access", what, e.Status)
	case e.Code == "RepoNotFound":
		msg = fmt.Sprintf("repository %s not found on the hub (HTTP %d)", e.Repo, e.Status)
	case e.Code == "RevisionNotFound":
		msg = fmt.Sprintf("revision %q not found in %s (HTTP %d)", e.Revision, e.Repo, e.Status)
	case e.Status == 404:
		msg = fmt.Sprintf("%s: not found (HTTP 404)", what)
	default:
		msg = fmt.Sprintf("%s: HTTP %d from %s", what, e.Status, e.URL)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

package hub

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func (s *Store) repoDir(repo string) string {
	return filepath.Join(s.root, "models", filepath.FromSlash(repo))
}

func (s *Store) modelDir(t target) string {
	return filepath.Join(s.repoDir(t.Repo), revisionDir(t.Revision))
}

func (s *Store) lockPath(t target) string {
	return filepath.Join(s.root, "locks", filepath.FromSlash(t.Repo), revisionDir(t.Revision)+".lock")
}

// adoptLegacyDir moves the cache directory an earlier version gave rev
// ("/" written "--") to revisionDir's name, so models pulled before stay
// usable. The manifest names the revision a directory holds, and the
// directory moves only to where that revision belongs: the one legacy
// name feature--x held either feature/x or feature--x.
func (s *Store) adoptLegacyDir(repo, rev string) {
	name := legacyRevisionDir(rev)
	if !strings.Contains(name, "--") {
		return // the same name in both schemes, holding its own revision
	}
	legacy := filepath.Join(s.repoDir(repo), name)
	m, err := readManifest(legacy)
	if err != nil || m == nil || m.Revision == "" {
		return
	}
	dest := filepath.Join(s.repoDir(repo), revisionDir(m.Revision))
	if dest == legacy {
		return
	}
	if _, err := os.Lstat(dest); err == nil {
		return
	}
	if err := os.Rename(legacy, dest); err == nil {
		s.logf("moved the cached %s@%s from %s to %s", repo, m.Revision, legacy, dest)
	}
}

// fillPaths sets the role paths of lm from the files present in lm.Dir.
func fillPaths(lm *LocalModel) {
	at := func(p string) string {
		full := filepath.Join(lm.Dir, filepath.FromSlash(p))
		if fileExists(full) {
			return full
		}
		return ""
	}
	switch lm.Layout {
	case LayoutImmich:
		lm.VisionPath = at("visual/model.onnx")
		lm.TextPath = at("textual/model.onnx")
		lm.TokenizerPath = at("textual/tokenizer.json")
		lm.VocabPath = at("textual/vocab.json")
		lm.MergesPath = at("textual/merges.txt")
		lm.PreprocessorPath = at("visual/preprocess_cfg.json")
	default:
		sfx := lm.Variant.onnxSuffix()
		lm.VisionPath = at("onnx/vision_model" + sfx + ".onnx")
		lm.TextPath = at("onnx/text_model" + sfx + ".onnx")
		lm.CombinedPath = at("onnx/model" + sfx + ".onnx")
		lm.TokenizerPath = at("tokenizer.json")
		lm.VocabPath = at("vocab.json")
		lm.MergesPath = at("merges.txt")
		lm.PreprocessorPath = at("preprocessor_config.json")
	}
	lm.ConfigPath = at("config.json")
}

// OpenDir describes a model directory that is not managed by the store:
// the HF layout (onnx/vision_model.onnx, onnx/text_model.onnx with
// _fp16/_quantized variants) or immich's (visual/model.onnx,
// textual/model.onnx). Sums are left for Store.LocalSHA256.
func OpenDir(dir string, variant Variant) (*LocalModel, error) {
	if variant == "" {
		variant = FP32
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("model directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("model %s is not a directory", dir)
	}
	lm := &LocalModel{Dir: abs, ID: abs, Variant: variant}
	switch {
	case dirExists(filepath.Join(abs, "onnx")):
		lm.Layout = LayoutHF
	case fileExists(filepath.Join(abs, "visual", "model.onnx")) || fileExists(filepath.Join(abs, "textual", "model.onnx")):
		lm.Layout = LayoutImmich
	default:
		return nil, fmt.Errorf("%s is not a model directory: expected onnx/vision_model.onnx and onnx/text_model.onnx (transformers.js layout) or visual/model.onnx and textual/model.onnx (immich layout)", dir)
	}
	required, optional, err := layoutFiles(lm.Layout, variant)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	required = combinedFallback(abs, lm.Layout, variant, required)
	var missing []string
	for _, p := range required {
		if !fileExists(filepath.Join(abs, filepath.FromSlash(p))) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		var present []string
		for _, v := range AllVariants {
			if variantPresent(abs, lm.Layout, v) {
				present = append(present, string(v))
			}
		}
		return nil, fmt.Errorf("%s has no %s model: missing %s (variants present: %s)", dir, variant, strings.Join(missing, ", "), listOrNone(present))
	}
	for _, p := range append(required, optional...) {
		if st, err := os.Stat(filepath.Join(abs, filepath.FromSlash(p))); err == nil && st.Mode().IsRegular() {
			lm.Files = append(lm.Files, FileInfo{Path: p, Size: st.Size()})
		}
	}
	fillPaths(lm)
	return lm, nil
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

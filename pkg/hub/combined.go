package hub

import "path/filepath"

// combinedFallback returns the ONNX files a directory in layout l needs
// for variant v: the split towers when both are there, else the combined
// export (onnx/model.onnx) alone when it is there, which pkg/clip splits
// into its towers.
func combinedFallback(dir string, l Layout, v Variant, required []string) []string {
	if l != LayoutHF {
		return required
	}
	for _, p := range required {
		if !fileExists(filepath.Join(dir, filepath.FromSlash(p))) {
			combined := "onnx/model" + v.onnxSuffix() + ".onnx"
			if fileExists(filepath.Join(dir, filepath.FromSlash(combined))) {
				return []string{combined}
			}
			return required
		}
	}
	return required
}

// variantPresent reports whether dir holds the ONNX files of variant v.
func variantPresent(dir string, l Layout, v Variant) bool {
	required, _, err := layoutFiles(l, v)
	if err != nil {
		return false
	}
	for _, p := range combinedFallback(dir, l, v, required) {
		if !fileExists(filepath.Join(dir, filepath.FromSlash(p))) {
			return false
		}
	}
	return true
}

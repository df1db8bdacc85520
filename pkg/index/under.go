package index

import (
	"path/filepath"
	"strings"
)

// Under returns a Load filter keeping the files at or below dir (made
// absolute: the index holds absolute paths), for --under; nil (keep all)
// when dir is empty.
func Under(dir string) (func(path string) bool, error) {
	if dir == "" {
		return nil, nil
	}
	prefix, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	below := strings.TrimSuffix(prefix, string(filepath.Separator)) + string(filepath.Separator)
	return func(p string) bool { return p == prefix || strings.HasPrefix(p, below) }, nil
}

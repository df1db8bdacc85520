// Package shared holds what the `clip cache` verbs have in common: where
// the text-embedding cache is and what files it holds.
package shared

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/clip"
)

// Dir is the text-embedding cache directory of f's model store.
func Dir(f *cmdutil.Factory) (string, error) {
	store, err := modelload.NewStore(f, true)
	if err != nil {
		return "", cmdutil.NewExitError(cmdutil.ExitRuntime, err)
	}
	return modelload.TextCacheDir(store), nil
}

// List returns the cache directory of f's model store and its files.
func List(f *cmdutil.Factory) (string, []File, error) {
	dir, err := Dir(f)
	if err != nil {
		return "", nil, err
	}
	files, err := Files(dir)
	return dir, files, err
}

// File is one model's cache file.
type File struct {
	Model    string    `json:"model_key"`
	Path     string    `json:"path"`
	Prompts  int       `json:"prompts"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
}

// Files lists the cache files in dir, by model key; a missing directory
// is an empty cache.
func Files(dir string) ([]File, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, cmdutil.NewExitError(cmdutil.ExitRuntime, fmt.Errorf("text cache %s: %w", dir, err))
	}
	var out []File
	for _, e := range entries {
		key, ok := strings.CutSuffix(e.Name(), clip.TextCacheExt)
		if !ok || e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		n := 0
		if c, err := clip.OpenTextCache(dir, key); err == nil {
			n = c.Len()
		}
		out = append(out, File{Model: key, Path: filepath.Join(dir, e.Name()), Prompts: n, Size: info.Size(), Modified: info.ModTime().UTC()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Model < out[j].Model })
	return out, nil
}

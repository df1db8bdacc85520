package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/engine"
	"github.com/clip-go/clip/pkg/graph"
	"github.com/clip-go/clip/pkg/npy"
	"github.com/clip-go/clip/pkg/npytensor"
)

func parseDims(kvs []string) (map[string]int, error) {
	dims := map[string]int{}
	for _, kv := range kvs {
		name, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || name == "" || err != nil || n < 1 {
			return nil, cmdutil.UsageErrorf("--dim %q: want name=positive integer", kv)
		}
		dims[name] = n
	}
	return dims, nil
}

// saveInputs writes each input as <dir>/<n>.npy (n its position) and
// inputs.json mapping input names to files, dtypes and shapes.
func saveInputs(dir string, feeds map[string]*engine.Tensor) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--save-inputs: %w", err)
	}
	type entry struct {
		File  string `json:"file"`
		DType string `json:"dtype"`
		Shape []int  `json:"shape"`
	}
	index := map[string]entry{}
	i := 0
	for name, t := range feeds {
		file := fmt.Sprintf("input_%d.npy", i)
		i++
		a, err := npytensor.ToArray(t)
		if err != nil {
			return fmt.Errorf("--save-inputs: input %q: %w", name, err)
		}
		if err := npy.WriteFile(filepath.Join(dir, file), a); err != nil {
			return fmt.Errorf("--save-inputs: %w", err)
		}
		index[name] = entry{File: file, DType: graph.DTypeName(t.DType), Shape: t.Shape}
	}
	b, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "inputs.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--save-inputs: %w", err)
	}
	return nil
}

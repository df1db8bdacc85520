// Package shared holds what the `clip models` verbs have in common: the
// model store built from the command's environment, and output helpers.
package shared

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/hub"
)

// NewStore is modelload.NewStore: the store every clip command uses.
func NewStore(f *cmdutil.Factory, forceOffline bool) (*hub.Store, error) {
	return modelload.NewStore(f, forceOffline)
}

// CheckRef turns a malformed model reference into a usage error (exit 2).
func CheckRef(ref string) error {
	if err := hub.CheckRef(ref); err != nil {
		return cmdutil.UsageErrorf("%v", err)
	}
	return nil
}

// FindError makes a directory outside the cache, given where a cached
// model is expected, a usage error (exit 2); other errors pass unchanged.
func FindError(err error) error {
	var nc *hub.NotCachedDirError
	if errors.As(err, &nc) {
		return cmdutil.UsageErrorf("%v", err)
	}
	return err
}

// ParseVariant is hub.ParseVariant with a usage error.
func ParseVariant(s string) (hub.Variant, error) {
	v, err := hub.ParseVariant(s)
	if err != nil {
		return "", cmdutil.UsageErrorf("--variant: %v", err)
	}
	return v, nil
}

// WriteJSON writes v indented, for --format json.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteJSONL writes one compact JSON value per line.
func WriteJSONL[T any](w io.Writer, rows []T) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// WriteCSV writes a header and records.
func WriteCSV(w io.Writer, header []string, records [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(records); err != nil {
		return err
	}
	return cw.Error()
}

// HumanBytes formats n with decimal units, as the hub's pages do.
func HumanBytes(n int64) string {
	switch {
	case n < 0:
		return "?"
	case n >= 1_000_000_000:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

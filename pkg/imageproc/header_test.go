package imageproc

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckHeaderAgreesWithDecode: the early header check never refuses a
// file Decode accepts, and refuses (from the first 256 KiB alone) every
// file Decode refuses as too large.
func TestCheckHeaderAgreesWithDecode(t *testing.T) {
	var files []string
	for _, g := range []string{"../../testdata/images/*", "../../testdata/shapes/*"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Skip("testdata images missing")
	}
	for _, mp := range []float64{0, 0.01} {
		opt := DecodeOptions{MaxMegapixels: mp}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // a directory
			}
			_, decErr := DecodeBytes(b, opt)
			checkErr := CheckHeader(b[:min(len(b), 256<<10)], opt)
			switch {
			case decErr == nil && checkErr != nil:
				t.Errorf("%s (%g MP): Decode accepts it, CheckHeader refuses: %v", f, mp, checkErr)
			case errors.Is(decErr, ErrTooLarge) && !errors.Is(checkErr, ErrTooLarge):
				t.Errorf("%s (%g MP): Decode says too large (%v), CheckHeader %v", f, mp, decErr, checkErr)
			}
		}
	}
}

//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package imageproc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/inputs/inputstest"
)

// TestDecodeRefusesNonRegularAndOversizedFiles: Decode must not open a
// FIFO (the open blocks until a writer comes), read /dev/zero (it never
// ends) or read a file larger than any image under the cap.
func TestDecodeRefusesNonRegularAndOversizedFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "b.jpg")
	inputstest.Mkfifo(t, fifo)
	zero := filepath.Join(dir, "zero.png")
	os.Symlink("/dev/zero", zero)
	for _, p := range []string{fifo, zero} {
		inputstest.NoHang(t, "Decode("+p+")", func() {
			if _, err := Decode(p, DecodeOptions{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("Decode(%s): %v, want a refusal", p, err)
			}
		})
	}
	big := filepath.Join(dir, "big.png")
	os.WriteFile(big, []byte("\x89PNG\r\n\x1a\n"), 0o644)
	if err := os.Truncate(big, 2<<20); err != nil {
		t.Skip(err)
	}
	// 0.1 MP: at most 0.8 MB of pixels plus 16 MiB of metadata.
	if _, err := Decode(big, DecodeOptions{MaxMegapixels: 0.1}); err != nil {
		if errors.Is(err, ErrTooLarge) {
			t.Errorf("2 MiB under a 0.1 MP cap refused as too large: %v", err)
		}
	}
	if err := os.Truncate(big, 20<<20); err != nil {
		t.Skip(err)
	}
	if _, err := Decode(big, DecodeOptions{MaxMegapixels: 0.1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("20 MiB under a 0.1 MP cap: %v, want ErrTooLarge", err)
	}
}

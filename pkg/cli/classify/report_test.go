package classify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/clip-go/clip/pkg/imageproc"
	"github.com/clip-go/clip/pkg/inputs"
)

// The report reads local files again for the least certain images'
// thumbnails, and never a URL (a second request) or stdin (gone).
func TestRereadFilesOnlyLocal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.png")
	want := []byte("\x89PNG\r\n\x1a\n not really")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	in := []inputs.Input{{Name: path}, {Name: "http://127.0.0.1:1/x.png", IsURL: true}, {Name: inputs.StdinName}}
	read := rereadFiles(in, inputs.NewImageFetcher(imageproc.DecodeOptions{}))
	if got, err := read(context.Background(), 0); err != nil || !bytes.Equal(got, want) {
		t.Errorf("local file: %q, %v", got, err)
	}
	for i := 1; i < len(in); i++ {
		if got, err := read(context.Background(), i); got != nil || err != nil {
			t.Errorf("%s read again: %q, %v", in[i].Name, got, err)
		}
	}
}

package classify

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/modelload"
)

// TestInterruptedDuringModelLoadWritesSummary: Ctrl-C while the model
// loads (a download, say) still exits 130 with a summary marked
// interrupted that counts the inputs given.
func TestInterruptedDuringModelLoadWritesSummary(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "a.png")
	os.WriteFile(img, []byte("\x89PNG\r\n\x1a\n"), 0o644)
	summary := filepath.Join(dir, "s.json")
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{Quiet: true}, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := &ClassifyOptions{IO: ios, Factory: f, Args: []string{img, img, img}, Labels: []string{"a,b"},
		Summary: summary, ImageFlags: modelload.ImageFlags{BatchSize: 8, MaxMegapixels: 100},
		Open: func(ctx context.Context, _ *ClassifyOptions) (Model, error) {
			cancel()
			<-ctx.Done()
			return nil, ctx.Err()
		}}
	err := classifyRun(ctx, opts)
	if code := cmdutil.ExitCode(err); code != ExitInterrupted {
		t.Fatalf("exit %d (%v), want 130", code, err)
	}
	var s struct {
		Interrupted bool
		Counts      struct{ Inputs, Classified int }
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatalf("no summary: %v", err)
	}
	json.Unmarshal(b, &s)
	if !s.Interrupted || s.Counts.Inputs != 3 || s.Counts.Classified != 0 {
		t.Errorf("summary %+v, want interrupted, 3 inputs, 0 classified", s)
	}
}

package clip_test

import (
	"context"
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/internal/testmodels"
	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/hub"
	"github.com/clip-go/clip/pkg/hub/hubtest"
)

// Open resolves a repository id through the given store (a loopback hub)
// and gives the same embeddings as opening the directory; a bad variant or
// a missing directory is an error naming it.
func TestOpenByRepoIDAndDirectory(t *testing.T) {
	ctx := context.Background()
	dir := testmodels.TinyShapes(t)
	files := testmodels.TinyShapesFiles(t)
	srv := hubtest.New(false, &hubtest.Repo{ID: "clip-go/tiny-shapes", Commit: strings.Repeat("ab", 20), Files: files})
	defer srv.Close()
	store, err := hub.NewStore(hub.StoreOptions{Root: t.TempDir(), Endpoint: srv.URL(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	remote, err := clip.Open(ctx, "clip-go/tiny-shapes", clip.OpenOptions{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	local, err := clip.Open(ctx, dir, clip.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	a, err := remote.EmbedTexts(ctx, "a red circle.", "a blue cross.")
	if err != nil {
		t.Fatal(err)
	}
	b, err := local.EmbedTexts(ctx, "a red circle.", "a blue cross.")
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		for j := range b[i] {
			if a[i][j] != b[i][j] {
				t.Fatalf("text %d[%d]: %g from the hub, %g from the directory", i, j, a[i][j], b[i][j])
			}
		}
	}
	if _, err := clip.Open(ctx, dir, clip.OpenOptions{Variant: "int4"}); err == nil || !strings.Contains(err.Error(), "int4") {
		t.Errorf("bad variant: %v", err)
	}
}

// EmbedImages batches: more images than one inference holds come back in
// order, each equal to embedding it alone.
func TestEmbedImagesBatchesInOrder(t *testing.T) {
	ctx := context.Background()
	m, err := clip.Open(ctx, testmodels.TinyShapes(t), clip.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	paths, _ := filepath.Glob(filepath.Join(testmodels.Root(), "testdata", "shapes", "*.png"))
	if len(paths) < 10 {
		t.Skip("too few test images")
	}
	paths = paths[:10]
	var imgs []image.Image
	for _, p := range paths {
		img, err := clip.DecodeImageFile(p)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	all, err := m.EmbedImages(ctx, imgs...)
	if err != nil || len(all) != len(imgs) {
		t.Fatalf("%d embeddings, %v", len(all), err)
	}
	for i, img := range imgs {
		one, err := m.EmbedImages(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		for j := range one[0] {
			if d := math.Abs(float64(one[0][j] - all[i][j])); !(d <= 1e-6) {
				t.Fatalf("%s: dimension %d is %g in a batch, %g alone", paths[i], j, all[i][j], one[0][j])
			}
		}
	}
}

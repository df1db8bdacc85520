package cache_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/clip"
)

type constEncoder struct{}

func (constEncoder) EncodeTexts(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i := range texts {
		out[i] = []float32{1, 0}
	}
	return out, nil
}

func run(t *testing.T, home string, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	env := map[string]string{"CLIP_HOME": home}
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string { return env[k] }}
	return cli.Run(context.Background(), f, args), out.String(), errOut.String()
}

func TestCacheListPathClear(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "text-cache")
	if code, out, _ := run(t, home, "cache", "path"); code != 0 || out != dir+"\n" {
		t.Fatalf("cache path: exit %d, %q, want %q", code, out, dir)
	}
	if code, out, _ := run(t, home, "cache", "list", "--format", "table"); code != 0 || !strings.Contains(out, "is empty") {
		t.Fatalf("cache list on no cache: exit %d, %q", code, out)
	}
	c, err := clip.OpenTextCache(dir, "0123abcd")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wrap(constEncoder{}).EncodeTexts(context.Background(), []string{"a photo of a cat.", "a photo of a dog."}); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, home, "cache", "list", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "model_key,path,prompts,size,modified\n0123abcd,"+filepath.Join(dir, "0123abcd.bin")+",2,") {
		t.Fatalf("cache list: exit %d, %q", code, out)
	}
	code, _, errOut := run(t, home, "cache", "clear")
	if code != 0 || !strings.Contains(errOut, "removed 1 text cache file(s)") {
		t.Fatalf("cache clear: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "0123abcd.bin")); !os.IsNotExist(err) {
		t.Errorf("cache file still there after clear: %v", err)
	}
	if code, out, _ := run(t, home, "cache", "list", "--format", "json"); code != 0 || out != "[]\n" {
		t.Errorf("cache list after clear: exit %d, %q", code, out)
	}
}

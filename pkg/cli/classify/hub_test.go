package classify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/hub/hubtest"
)

// TestClassifyPullsOnFirstUseThenWorksOffline serves the tiny model from a
// loopback hub: the first run downloads it (saying so on stderr), the
// second runs with the network forbidden and gives the same records.
func TestClassifyPullsOnFirstUseThenWorksOffline(t *testing.T) {
	model := tinyModel(t)
	files := map[string][]byte{}
	for _, f := range []string{"onnx/vision_model.onnx", "onnx/text_model.onnx", "tokenizer.json", "vocab.json", "merges.txt",
		"tokenizer_config.json", "special_tokens_map.json", "config.json", "preprocessor_config.json"} {
		b, err := os.ReadFile(filepath.Join(model, f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
	}
	srv := hubtest.New(false, &hubtest.Repo{ID: "clip-go/tiny-shapes", Commit: strings.Repeat("ab", 20), Files: files})
	defer srv.Close()
	home := t.TempDir()
	runEnv := func(env map[string]string, args ...string) result {
		ios, _, out, errOut := iostreams.Test()
		env["CLIP_HOME"] = home
		f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string { return env[k] }}
		code := cli.Run(context.Background(), f, args)
		return result{code, out.String(), errOut.String()}
	}
	imgs := shapeImages(t)[:2]
	args := append([]string{"classify", "--model", "clip-go/tiny-shapes", "--labels", labels}, imgs...)
	first := runEnv(map[string]string{"HF_ENDPOINT": srv.URL()}, args...)
	if first.code != 0 || !strings.Contains(first.stderr, "downloading it from "+srv.URL()) {
		t.Fatalf("first run: exit %d, stderr %q", first.code, first.stderr)
	}
	n := len(srv.Requests())
	second := runEnv(map[string]string{"HF_ENDPOINT": srv.URL(), "HF_HUB_OFFLINE": "1"}, args...)
	if second.code != 0 || second.stdout != first.stdout || strings.Contains(second.stderr, "downloading") {
		t.Fatalf("offline rerun: exit %d, stderr %q", second.code, second.stderr)
	}
	if len(srv.Requests()) != n {
		t.Errorf("the offline run sent %d requests", len(srv.Requests())-n)
	}
	miss := runEnv(map[string]string{"HF_HUB_OFFLINE": "1"}, append([]string{"classify", "--model", "clip-go/other", "--labels", "a"}, imgs...)...)
	if miss.code != cmdutil.ExitRuntime || !strings.Contains(miss.stderr, "clip models pull clip-go/other") {
		t.Errorf("offline miss: exit %d, stderr %q", miss.code, miss.stderr)
	}
}

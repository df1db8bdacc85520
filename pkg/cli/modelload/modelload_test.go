package modelload_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/clip-go/clip/pkg/cli"
	"github.com/clip-go/clip/pkg/cli/cmdutil"
	"github.com/clip-go/clip/pkg/cli/iostreams"
	"github.com/clip-go/clip/pkg/cli/modelload"
	"github.com/clip-go/clip/pkg/hub"
	"github.com/clip-go/clip/pkg/hub/hubtest"
)

// refusedEndpoint is an http URL on 127.0.0.1 where nothing listens: a
// port taken from the kernel and released again.
func refusedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestDownloadAnnouncedWithSize: the first use of a catalogued model says,
// before downloading, that it is about to download it and how large it is.
func TestDownloadAnnouncedWithSize(t *testing.T) {
	e, _ := hub.LookupCatalogue(hub.DefaultModel)
	srv := hubtest.New(false, &hubtest.Repo{ID: e.Repo, Commit: e.Revision, Files: map[string][]byte{
		"onnx/vision_model.onnx": []byte("vision graph bytes"),
		"onnx/text_model.onnx":   []byte("text graph bytes"),
	}})
	defer srv.Close()
	ios, _, _, errOut := iostreams.Test()
	env := map[string]string{"CLIP_HOME": t.TempDir(), "HF_ENDPOINT": srv.URL()}
	f := &cmdutil.Factory{IOStreams: ios, Version: "test", Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string { return env[k] }}
	if _, err := modelload.Resolve(context.Background(), f, "", hub.FP32); err != nil {
		t.Fatal(err)
	}
	want := "about 606 MB" // the catalogue's (352 + 254) MB for fp32
	if !strings.Contains(errOut.String(), want) || !strings.Contains(errOut.String(), "downloading it from "+srv.URL()) {
		t.Errorf("stderr %q does not announce the download with %q", errOut.String(), want)
	}
}

// TestNetworkFailureSaysWhatToDo: with the hub unreachable (a loopback
// port that refuses connections), a command needing the default model
// fails with exit 4 and one message naming what failed and the ways out,
// not a raw dial error.
func TestNetworkFailureSaysWhatToDo(t *testing.T) {
	endpoint := refusedEndpoint(t)
	ios, _, _, errOut := iostreams.Test()
	env := map[string]string{"CLIP_HOME": t.TempDir(), "HF_ENDPOINT": endpoint}
	f := &cmdutil.Factory{IOStreams: ios, Version: "test", Globals: &cmdutil.GlobalOptions{}, Getenv: func(k string) string { return env[k] }}

	_, err := modelload.Resolve(context.Background(), f, "", hub.FP32)
	var ne *hub.NetworkError
	if !errors.As(err, &ne) {
		t.Fatalf("got %T %v, want a *hub.NetworkError", err, err)
	}

	ios, _, _, errOut = iostreams.Test()
	f.IOStreams = ios
	code := cli.Run(context.Background(), f, []string{"tokenize", "a photo of a cat"})
	if code != cmdutil.ExitRuntime {
		t.Errorf("exit %d, want %d", code, cmdutil.ExitRuntime)
	}
	msg := errOut.String()
	for _, want := range []string{"cannot download model " + hub.DefaultModel, endpoint, "connection refused",
		"--model DIR", "HF_ENDPOINT", "clip models pull " + hub.DefaultModel, "--offline"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, "cannot download"); n != 1 {
		t.Errorf("the failure is told %d times:\n%s", n, msg)
	}
}

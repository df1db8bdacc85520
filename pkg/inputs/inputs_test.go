package inputs

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tree(t *testing.T, files ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func names(root string, in []Input) []string {
	var out []string
	for _, i := range in {
		n, _ := filepath.Rel(root, i.Name)
		if i.Err != nil {
			n += " ERR"
		}
		out = append(out, filepath.ToSlash(n))
	}
	return out
}

func TestExpand(t *testing.T) {
	root := tree(t, "a.jpg", "b.PNG", "notes.txt", "sub/c.webp", "sub/deep/d.gif", "sub/skip.jpg")
	j := func(p string) string { return filepath.Join(root, p) }
	cases := []struct {
		name string
		args []string
		opt  Options
		want string
	}{
		{"dir top level", []string{root}, Options{}, "a.jpg b.PNG"},
		{"dir recursive", []string{root}, Options{Recursive: true}, "a.jpg b.PNG sub/c.webp sub/deep/d.gif sub/skip.jpg"},
		{"exclude", []string{root}, Options{Recursive: true, Exclude: []string{"skip.*"}}, "a.jpg b.PNG sub/c.webp sub/deep/d.gif"},
		{"include", []string{root}, Options{Recursive: true, Include: []string{"*.txt", "sub/deep/*"}}, "notes.txt sub/deep/d.gif"},
		{"glob", []string{j("*.jpg")}, Options{}, "a.jpg"},
		{"doublestar", []string{j("**/*.jpg")}, Options{}, "a.jpg sub/skip.jpg"},
		{"doublestar mid", []string{j("sub/**/d.gif")}, Options{}, "sub/deep/d.gif"},
		{"order kept", []string{j("b.PNG"), j("a.jpg")}, Options{}, "b.PNG a.jpg"},
		{"missing", []string{j("nope.jpg"), j("a.jpg")}, Options{}, "nope.jpg ERR a.jpg"},
		{"no match", []string{j("*.heic")}, Options{}, "*.heic ERR"},
		{"stdin lines", []string{"-"}, Options{Stdin: strings.NewReader(j("a.jpg") + "\r\n\n" + j("sub/c.webp") + "\n")}, "a.jpg sub/c.webp"},
		{"stdin nul", []string{"-"}, Options{NulSep: true, Stdin: strings.NewReader(j("a.jpg") + "\x00" + j("sub/c.webp") + "\x00")}, "a.jpg sub/c.webp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := Expand(context.Background(), c.args, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(names(root, in), " "); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestExpandURL(t *testing.T) {
	in, _ := Expand(context.Background(), []string{"https://example.com/x.jpg"}, Options{})
	if len(in) != 1 || !in[0].IsURL || in[0].Err != nil {
		t.Errorf("got %+v", in)
	}
}

func TestShardPartitionsStably(t *testing.T) {
	const n = 4
	counts := make([]int, n)
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("img/%04d.jpg", i)
		owners := 0
		for k := 0; k < n; k++ {
			if (Shard{k, n}).Keeps(name) {
				owners++
				counts[k]++
			}
		}
		if owners != 1 {
			t.Fatalf("%s is kept by %d shards", name, owners)
		}
	}
	for k, c := range counts {
		if c < 200 || c > 300 {
			t.Errorf("shard %d/%d has %d of 1000", k, n, c)
		}
	}
	for _, bad := range []string{"4/4", "-1/4", "1", "a/b", "0/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
	if s, err := ParseShard("3/4"); err != nil || s != (Shard{3, 4}) {
		t.Errorf("ParseShard(3/4) = %v, %v", s, err)
	}
}

func TestFetcher(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("PNGDATA"))
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>"))
		case "/big":
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(make([]byte, 2000))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f := &Fetcher{Client: srv.Client(), MaxBytes: 1000}
	ctx := context.Background()
	if b, err := f.Open(ctx, Input{Name: srv.URL + "/ok.png", IsURL: true}); err != nil || string(b) != "PNGDATA" {
		t.Errorf("ok: %q, %v", b, err)
	}
	for path, want := range map[string]string{"/html": "not an image", "/big": "limit", "/missing": "404"} {
		if _, err := f.Open(ctx, Input{Name: srv.URL + path, IsURL: true}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want it to mention %q", path, err, want)
		}
	}
}

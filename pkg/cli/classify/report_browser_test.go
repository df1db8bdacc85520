package classify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/clip-go/clip/internal/headless"
)

// The README's report command on testdata/shapes, opened from file:// in
// headless Chromium: a non-blank screenshot, and the DOM the browser built
// (after the page's script ran) has one card per image, each in the
// section of its label.
func TestReportInHeadlessChromium(t *testing.T) {
	headless.Chromium(t)
	model := tinyModel(t)
	shapes, _ := filepath.Abs(filepath.Join(repoRoot, "testdata", "shapes"))
	entries, err := os.ReadDir(shapes)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "r.html")
	r := run(t, t.TempDir(), "", "classify", shapes, "--model", model, "--offline", "-q",
		"--labels", "red circle,green square,purple triangle,orange cross", "--report", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := 0 // the images (the directory also holds manifest.json)
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); ext == ".png" || ext == ".jpg" {
			want++
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shot := filepath.Join(t.TempDir(), "report.png")
	if _, err := headless.Run(ctx, t, "file://"+out, "--screenshot="+shot, "--window-size=1200,1600", "--hide-scrollbars"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	headless.CheckScreenshot(t, "report.png", b)

	dom, err := headless.Run(ctx, t, "file://"+out, "--dump-dom")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(string(dom)))
	if err != nil {
		t.Fatal(err)
	}
	cards, thumbs, controlsShown := 0, 0, false
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "article" && attrOf(n, "class") == "card":
				cards++
			case n.Data == "img" && strings.HasPrefix(attrOf(n, "src"), "data:image/jpeg;base64,"):
				thumbs++
			case n.Data == "form" && attrOf(n, "id") == "controls":
				// The script un-hides the sort and filter controls: it ran
				// under the page's CSP.
				controlsShown = !hasAttr(n, "hidden")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(doc)
	if cards != want || thumbs != want {
		t.Errorf("browser DOM has %d cards and %d thumbnails for %d images", cards, thumbs, want)
	}
	if !controlsShown {
		t.Error("the page's script did not run (controls still hidden)")
	}
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

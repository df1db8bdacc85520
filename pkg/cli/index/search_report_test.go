package index_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/clip-go/clip/internal/headless"
)

// card is a search report's card as the page shows it.
type card struct {
	Title, Score, Error string
	Thumb               bool
}

// reportCards parses a search report: its cards in page order, the
// query block's text and whether it holds a thumbnail, and whether a
// script other than the page's one is there (it must not be).
func reportCards(t *testing.T, page []byte) (cards []card, query string, queryThumb bool, scripts int) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		t.Fatal(err)
	}
	var visit func(n *html.Node, in *card, inQuery bool)
	visit = func(n *html.Node, in *card, inQuery bool) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s> has an event handler %s", n.Data, a.Key)
				}
			}
			switch {
			case n.Data == "script":
				scripts++
			case n.Data == "article":
				cards = append(cards, card{})
				in = &cards[len(cards)-1]
			case n.Data == "div" && attrIs(n, "class", "query"):
				inQuery = true
			case n.Data == "img" && inQuery:
				queryThumb = strings.HasPrefix(attrVal(n, "src"), "data:image/jpeg;base64,")
			case n.Data == "img" && in != nil:
				in.Thumb = strings.HasPrefix(attrVal(n, "src"), "data:image/jpeg;base64,")
			case n.Data == "h3" && in != nil:
				in.Title = textOf(n)
			case n.Data == "span" && attrIs(n, "class", "p") && in != nil:
				in.Score = textOf(n)
			case n.Data == "p" && attrIs(n, "class", "err") && in != nil:
				in.Error = textOf(n)
			}
		}
		if n.Type == html.TextNode && inQuery {
			query += n.Data + " "
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c, in, inQuery)
		}
	}
	visit(doc, nil, false)
	return cards, query, queryThumb, scripts
}

func attrVal(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func attrIs(n *html.Node, key, val string) bool { return attrVal(n, key) == val }

func textOf(n *html.Node) string {
	var b strings.Builder
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(n)
	return b.String()
}

// TestSearchReport: `clip search --report` writes a page with the query
// (text, template and the example image's thumbnail), one card per hit in
// the order and with the scores stdout gives, each with a thumbnail, a
// file deleted since indexing shown as unreadable, and a file name that
// is markup shown as text. It opens in headless Chromium (script run,
// non-blank screenshot).
func TestSearchReport(t *testing.T) {
	model := tinyModel(t)
	dir := filepath.Join(t.TempDir(), "shapes")
	copyShapes(t, dir)
	const evil = "<img src=x onerror=alert(1)>.png"
	b, err := os.ReadFile(filepath.Join(dir, "red-circle-1.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, evil), b, 0o644); err != nil {
		t.Fatal(err)
	}
	ix := filepath.Join(t.TempDir(), "ix.sqlite")
	indexDir(t, model, ix, dir)
	if err := os.Remove(filepath.Join(dir, "red-circle-2.jpg")); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "r.html")
	example := filepath.Join(dir, "red-circle-1.png")
	hits := search(t, model, ix, "--report", out, "-k", "6", "--template", "a photo of a {}.", "--image", example, "red", "circle")
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cards, query, queryThumb, scripts := reportCards(t, page)
	if len(cards) != len(hits) || len(hits) != 6 {
		t.Fatalf("%d cards for %d hits (want 6)", len(cards), len(hits))
	}
	deleted, escaped := false, false
	for i, c := range cards {
		h := hits[i]
		if want := fmt.Sprintf("%d. %s", i+1, h.File); c.Title != want {
			t.Errorf("card %d is %q, want %q", i, c.Title, want)
		}
		if want := fmt.Sprintf("%.4f", h.Score); c.Score != want {
			t.Errorf("card %d score %q, stdout %s", i, c.Score, want)
		}
		switch filepath.Base(h.File) {
		case "red-circle-2.jpg":
			deleted = true
			if c.Thumb || c.Error != "no such file or directory" {
				t.Errorf("deleted file's card: %+v", c)
			}
		case evil:
			escaped = true
			fallthrough
		default:
			if !c.Thumb || c.Error != "" {
				t.Errorf("card %d (%s) has no thumbnail: %+v", i, h.File, c)
			}
		}
	}
	if !deleted || !escaped {
		t.Errorf("the deleted file (%v) or the one named like markup (%v) is not among the hits: %+v", deleted, escaped, hits)
	}
	for _, s := range []string{"red circle", "a photo of a {}.", example, "the best 6"} {
		if !strings.Contains(query, s) {
			t.Errorf("query block %q lacks %q", query, s)
		}
	}
	if !queryThumb || scripts != 1 {
		t.Errorf("example thumbnail %v, %d scripts (want the page's own only)", queryThumb, scripts)
	}
	if !strings.Contains(string(page), "tiny-shapes") || !strings.Contains(string(page), ix) {
		t.Error("the footer does not name the model and the index")
	}

	headless.Chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := headless.Open(ctx, t, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(ctx, "file://"+out); err != nil {
		t.Fatal(err)
	}
	var shown struct{ Cards, Thumbs int }
	if err := p.Eval(`({cards: document.querySelectorAll("article.card:not([hidden])").length,
		thumbs: Array.from(document.images).filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
		controls: !document.getElementById("controls").hidden})`, &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Cards != 6 || shown.Thumbs != 6 { // 5 hits' and the example's: the deleted file has none
		t.Errorf("Chromium shows %d cards and %d decoded images, want 6 and 6", shown.Cards, shown.Thumbs)
	}
	shot, err := p.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	headless.CheckScreenshot(t, "search-report.png", shot)
}

// --report needs a file that can be written: a usage error (exit 2)
// before the model or the index is read.
func TestSearchReportPathCheckedFirst(t *testing.T) {
	for _, path := range []string{"-", filepath.Join(t.TempDir(), "missing", "r.html")} {
		code, _, errOut := run(t, "search", "-m", "no-such-model", "--index", "no-such-index.sqlite", "--report", path, "x")
		if code != 2 || !strings.Contains(errOut, "--report") {
			t.Errorf("--report %s: exit %d, %q; want 2 naming --report", path, code, errOut)
		}
	}
}

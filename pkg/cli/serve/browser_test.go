package serve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clip-go/clip/internal/headless"
)

// The page at / driven in headless Chromium against clip serve on
// 127.0.0.1 with the tiny model and a token: pick files, type labels,
// click; the 401 is shown as the API gave it and the page asks for the
// token; with it, each image gets a card whose best label is the shape the file
// is named after (as in .ci/run's demo), the broken file (named like an <img> tag)
// its error record, as text.
func TestServePageRoundTripInHeadlessChromium(t *testing.T) {
	headless.Chromium(t)
	r := startServe(t, tinyModel(t), func(o *ServeOptions) { o.Token = "s3cret" })
	shapes, _ := filepath.Abs(filepath.Join(repoRoot, "testdata", "shapes"))
	// A file name that would be markup if the page put it in as HTML.
	const evil = "<img src=x onerror=alert(1)>.png"
	broken := filepath.Join(t.TempDir(), evil)
	if err := os.WriteFile(broken, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(shapes, "red-circle-1.png"), filepath.Join(shapes, "green-square-1.png"), broken}
	labels := "red circle, green square, purple triangle, orange cross"

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := headless.Open(ctx, t, 1000, 1100)
	if err != nil {
		t.Fatal(err)
	}
	step := stepper(t, r)
	step("open /", p.Navigate(ctx, r.url+"/"))
	step("pick files", p.SetFiles("#files", files...))
	step("list picked files", p.WaitFor(ctx, `document.querySelectorAll("#picked li").length === 3`))
	step("type labels", p.Type("#labels", labels))
	step("click Classify", p.Click("#go"))
	step("401 shown, token asked", p.WaitFor(ctx, `!document.getElementById("auth").hidden && document.activeElement.id === "token"`))
	var status string
	step("read status", p.Eval(`document.getElementById("status").textContent`, &status))
	if !strings.HasPrefix(status, "401 unauthorized: missing or wrong bearer token") {
		t.Errorf("status after 401: %q", status)
	}
	step("type token", p.Type("#token", "s3cret"))
	step("click Classify again", p.Click("#go"))
	step("result cards", p.WaitFor(ctx, `document.querySelectorAll("#results .card").length === 3`))

	var cards []struct{ File, Best, Error string }
	step("read cards", p.Eval(`Array.from(document.querySelectorAll("#results .card")).map(function (c) {
		var q = function (s) { var e = c.querySelector(s); return e ? e.textContent : ""; };
		return {file: q("h2"), best: q(".best"), error: q(".error")};
	})`, &cards))
	for i, want := range []string{"red circle", "green square"} {
		if !strings.HasPrefix(cards[i].Best, want+" ") || cards[i].File != filepath.Base(files[i]) {
			t.Errorf("card %d: %+v, want %s first", i, cards[i], want)
		}
	}
	var previews int
	step("previews", p.Eval(`document.querySelectorAll("#results .card img").length`, &previews))
	var injected int
	step("injected markup", p.Eval(`document.querySelectorAll("#results [onerror], #results img:not([src^='blob:'])").length`, &injected))
	if cards[2].File != evil || !strings.Contains(cards[2].Error, "not a supported image") || previews != 2 || injected != 0 {
		t.Errorf("broken file's card: %+v (%d previews, want 2; %d injected elements)", cards[2], previews, injected)
	}
	var stored int
	step("token not stored", p.Eval(`localStorage.length + sessionStorage.length + document.cookie.length + (location.href.indexOf("s3cret") >= 0 ? 1 : 0)`, &stored))
	if stored != 0 {
		t.Error("the token was stored outside the page's memory")
	}
	shot, err := p.Screenshot()
	step("screenshot", err)
	headless.CheckScreenshot(t, "serve-page.png", shot)

	p.CheckPhoneWidth(t, "serve-page-phone.png")
}

// An API error that is not the image's own reaches the page as the API
// gave it: a body over --max-body is "413 payload_too_large: …" in the
// status line, announced to screen readers (role=status), with no cards.
func TestServePageShowsAPIErrorsAsTheyCome(t *testing.T) {
	headless.Chromium(t)
	r := startServe(t, tinyModel(t), func(o *ServeOptions) { o.MaxBody = "4KiB" })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := headless.Open(ctx, t, 800, 900)
	if err != nil {
		t.Fatal(err)
	}
	step := stepper(t, r)
	img, _ := filepath.Abs(filepath.Join(repoRoot, "testdata", "shapes", "red-circle-1.png")) // 12 kB
	step("open /", p.Navigate(ctx, r.url+"/"))
	step("pick a file", p.SetFiles("#files", img))
	step("type labels", p.Type("#labels", "red circle, green square"))
	step("click Classify", p.Click("#go"))
	step("error shown", p.WaitFor(ctx, `document.getElementById("status").classList.contains("error")`))
	var status string
	var cards int
	step("read status", p.Eval(`document.getElementById("status").textContent`, &status))
	step("count cards", p.Eval(`document.querySelectorAll("#results .card").length`, &cards))
	if !strings.HasPrefix(status, "413 payload_too_large: ") || cards != 0 {
		t.Errorf("status %q with %d cards, want the API's 413 and none", status, cards)
	}
}

// stepper returns a check that ends the test at a failed browser step,
// with the server's log.
func stepper(t *testing.T, r *running) func(what string, err error) {
	return func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, r.stderr)
		}
	}
}

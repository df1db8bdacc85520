package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strconv"

	"github.com/clip-go/clip/pkg/clip"
)

// Groups that come before the labels: what someone should look at first.
const (
	groupError  = "\x00unreadable"
	groupFailed = "\x00failed"
)

func groupOf(e Entry) string {
	switch {
	case e.Record.Error != "":
		return groupError
	case e.Failed != "":
		return groupFailed
	}
	return e.Record.Label
}

//go:embed report.html.tmpl
var pageTemplate string

//go:embed report.js
var pageScript string

//go:embed report.css
var pageStyle string

var tmpl = template.Must(template.New("report").Parse(pageTemplate))

type page struct {
	Title, Tool, Model, Time string
	CSP                      string
	Script                   template.JS
	Style                    template.CSS
	Total, Errors, Failed    int
	Thumbs, Cap              int
	First, LeastCertain      int // how the cap was shared (Collector.AddLeastCertain)
	Capped                   bool
	PageSize                 int
	Paged                    bool   // some group has more than a page of cards
	Measure                  string // what the cards are sorted by
	Threshold                string
	Counts                   []labelCount
	Groups                   []group
	Query                    *queryView // a search report's question; nil for classify
}

type queryView struct {
	Text, Image, ImageError string
	Templates               []string
	Thumb                   template.URL
	Narrowed                string
	Index                   string
	Indexed                 int
}

type labelCount struct {
	Label string
	Count int
}

type group struct {
	ID, Name  string
	Attention bool
	Cards     []card
}

type card struct {
	Index         int
	Rank          int // a search hit's place, from 1; 0 in a classify report
	File          string
	Label         string
	Prob          string // for sorting: "" on error
	Thumb         template.URL
	Error, Failed string
	Scores        []bar
}

type bar struct {
	Label string
	Width string // percent, for the bar's CSS width
	Text  string
}

// newPage fills what every report has: provenance, the page's own script
// and style, and the policy that lets only them run.
func newPage(opts Options, title, measure string, total int) page {
	p := page{
		Title: opts.Title, Tool: opts.Tool, Model: opts.Model,
		Script: template.JS(pageScript), Style: template.CSS(pageStyle),
		Total: total, Cap: opts.ThumbsPerLabel, PageSize: opts.PageSize, Measure: measure,
	}
	if p.Cap <= 0 {
		p.Cap = DefaultThumbsPerLabel
	}
	p.LeastCertain = opts.LeastCertain
	p.First = p.Cap - p.LeastCertain
	if p.PageSize <= 0 {
		p.PageSize = DefaultPageSize
	}
	if p.Title == "" {
		p.Title = title
	}
	if !opts.Time.IsZero() {
		p.Time = opts.Time.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	sum := sha256.Sum256([]byte(pageScript))
	// Only this page's own script may run: an injected one would not
	// match the hash, and nothing may be fetched from anywhere.
	p.CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-" +
		base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
	return p
}

// execute renders p once its groups are in place.
func (p *page) execute(w io.Writer) error {
	for _, g := range p.Groups {
		p.Paged = p.Paged || len(g.Cards) > p.PageSize
	}
	return tmpl.Execute(w, p)
}

// Render writes the report page for entries (in input order).
func Render(w io.Writer, opts Options, entries []Entry) error {
	p := newPage(opts, "clip classify report", "probability", len(entries))
	if opts.Threshold > 0 {
		p.Threshold = strconv.FormatFloat(opts.Threshold, 'g', -1, 64)
	}

	order := append([]string{groupError, groupFailed, clip.UnknownLabel}, opts.Labels...)
	byGroup := map[string]*group{}
	for i, g := range order {
		if _, dup := byGroup[g]; dup {
			continue
		}
		gr := &group{ID: "g" + strconv.Itoa(i), Name: g}
		switch g {
		case groupError:
			gr.Name, gr.Attention = "unreadable", true
		case groupFailed:
			gr.Name, gr.Attention = "failed checks", true
		case clip.UnknownLabel:
			gr.Name, gr.Attention = "unknown (below --threshold)", true
		}
		byGroup[g] = gr
	}
	perLabel := map[string]int{}
	for i, e := range entries {
		g := groupOf(e)
		gr := byGroup[g]
		if gr == nil {
			// A label the options did not list: its own group, at the end.
			gr = &group{ID: "g" + strconv.Itoa(len(order)), Name: g}
			order = append(order, g)
			byGroup[g] = gr
		}
		gr.Cards = append(gr.Cards, newCard(i, e))
		switch {
		case e.Record.Error != "":
			p.Errors++
		default:
			perLabel[e.Record.Label]++
			if e.Failed != "" {
				p.Failed++
			}
		}
		if e.Thumb != nil {
			p.Thumbs++
		}
	}
	for _, g := range order {
		if gr := byGroup[g]; len(gr.Cards) > 0 {
			p.Groups = append(p.Groups, *gr)
			gr.Cards = nil // a label listed twice shows once
		}
		if n := perLabel[g]; n > 0 {
			p.Counts = append(p.Counts, labelCount{g, n})
			delete(perLabel, g)
		}
	}
	p.Capped = p.Thumbs < p.Total-p.Errors
	return p.execute(w)
}

func newCard(i int, e Entry) card {
	r := e.Record
	c := card{Index: i, File: r.File, Label: r.Label, Error: r.Error, Failed: e.Failed}
	if r.Probability != nil {
		c.Prob = strconv.FormatFloat(*r.Probability, 'f', 6, 64)
	}
	c.Thumb = dataURI(e.Thumb)
	for _, s := range r.Labels {
		c.Scores = append(c.Scores, bar{
			Label: s.Label,
			Width: strconv.FormatFloat(100*s.Probability, 'f', 1, 64),
			Text:  fmt.Sprintf("%.1f%%", 100*s.Probability),
		})
	}
	return c
}

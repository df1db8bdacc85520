package report

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"strconv"
)

// Query is what a search report was asked.
type Query struct {
	Text      string   // the text query ("" for none)
	Templates []string // the prompt templates the text was put into
	Image     string   // the example image's path ("" for none)
	ImageData []byte   // its bytes, for its thumbnail
	Index     string   // the index file searched
	Indexed   int      // the images searched (after --under)
	Narrowed  string   // how the hits were cut ("top 10, under DIR")
}

// Hit is one search result; hits come best first.
type Hit struct {
	File  string
	Score float64
	Thumb []byte // JPEG, nil past the cap or when the file is unreadable
	Error string // why the file gave no thumbnail now
}

// HitThumbnails reads the files of the first opts.ThumbsPerLabel hits and
// makes their thumbnails, workers at a time. A file that cannot be read or
// decoded now (the index can be older than the disk) gets an Error instead.
func HitThumbnails(ctx context.Context, hits []Hit, opts Options, workers int) {
	limit := opts.ThumbsPerLabel
	if limit <= 0 {
		limit = DefaultThumbsPerLabel
	}
	parallel(ctx, min(limit, len(hits)), workers, func(i int) {
		data, err := os.ReadFile(hits[i].File)
		if err == nil {
			hits[i].Thumb, err = Thumbnail(data, opts.Decode)
		}
		if pe := (*os.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err // the card is headed by the path already
		}
		if err != nil {
			hits[i].Error = err.Error()
		}
	})
}

// RenderSearch writes a search report: the query (with the example
// image's thumbnail), then the hits in rank order with their scores.
func RenderSearch(w io.Writer, opts Options, q Query, hits []Hit) error {
	p := newPage(opts, "clip search report", "score", len(hits))
	p.Query = &queryView{Text: q.Text, Templates: q.Templates, Image: q.Image, Narrowed: q.Narrowed, Index: q.Index, Indexed: q.Indexed}
	if q.ImageData != nil {
		if b, err := Thumbnail(q.ImageData, opts.Decode); err != nil {
			p.Query.ImageError = err.Error()
		} else {
			p.Query.Thumb = dataURI(b)
		}
	}
	g := group{ID: "g0", Name: "results"}
	for i, h := range hits {
		c := card{Index: i, Rank: i + 1, File: h.File, Error: h.Error, Thumb: dataURI(h.Thumb),
			Prob: strconv.FormatFloat(h.Score, 'f', 6, 64)}
		c.Scores = []bar{{
			Label: "cosine similarity",
			// Cosine similarity runs from -1 to 1; CLIP's matches sit well above 0.
			Width: strconv.FormatFloat(100*min(1, max(0, h.Score)), 'f', 1, 64),
			Text:  fmt.Sprintf("%.4f", h.Score),
		}}
		if h.Error != "" {
			p.Errors++
		}
		if h.Thumb != nil {
			p.Thumbs++
		}
		g.Cards = append(g.Cards, c)
	}
	if len(g.Cards) > 0 {
		p.Groups = []group{g}
	}
	p.Capped = p.Thumbs < p.Total-p.Errors
	return p.execute(w)
}

// WriteSearchFile renders a search report into path (whole, then renamed
// into place) and returns its size.
func WriteSearchFile(path string, opts Options, q Query, hits []Hit) (int64, error) {
	return writeFile(path, func(w io.Writer) error { return RenderSearch(w, opts, q, hits) })
}

// dataURI inlines a JPEG ("" for none).
func dataURI(jpeg []byte) template.URL {
	if jpeg == nil {
		return ""
	}
	return template.URL("data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(jpeg))
}

package server

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/clip-go/clip/pkg/clip"
	"github.com/clip-go/clip/pkg/index"
)

// Search limits: k is how many records one answer holds.
const (
	defaultSearchK = 10
	maxSearchK     = 1000
)

// searchIndex is the index served by /v1/search, loaded once at start.
type searchIndex struct {
	name    string // the index file's base name, for responses and logs
	vectors *index.Vectors
}

// SetIndex makes /v1/search rank vecs (an index's vectors, made with the
// model given to SetModel: the caller checks). Call it before SetModel, so
// that the server is never ready without its index; name is reported in
// responses. Without it /v1/search answers 404.
func (s *Server) SetIndex(name string, vecs *index.Vectors) {
	s.index.Store(&searchIndex{name: name, vectors: vecs})
}

// SearchResponse is the body of POST /v1/search: the records of `clip
// search --format json`, best first.
type SearchResponse struct {
	Schema  int            `json:"schema"`
	Model   *ModelInfo     `json:"model"`
	Index   string         `json:"index"`
	Images  int            `json:"images"` // vectors in the index
	Results []index.Record `json:"results"`
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) *apiError {
	ix := s.index.Load()
	if ix == nil {
		return errorf(http.StatusNotFound, CodeNotFound, "this server has no index to search: start clip serve with --index FILE (made by clip index)")
	}
	return s.withBody(func(w http.ResponseWriter, c *call) *apiError { return s.search(w, c, ix) })(w, r)
}

func (s *Server) search(w http.ResponseWriter, c *call, ix *searchIndex) *apiError {
	ctx, st, req, l := c.ctx, c.st, c.req, c.l
	k := defaultSearchK
	switch {
	case len(req.labels) > 0:
		return errorf(http.StatusBadRequest, CodeBadRequest, "labels are for /v1/classify; search by text, image or both")
	case len(req.texts) > 1:
		return errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("one text query per search, got %d texts", len(req.texts)))
	case len(req.images) > 1:
		return errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("one example image per search, got %d images", len(req.images)))
	case req.hasTopK && (req.topK < 1 || req.topK > maxSearchK):
		return errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("k must be between 1 and %d", maxSearchK))
	case req.hasTopK:
		k = req.topK
	}
	q := index.Query{Templates: req.templates}
	if len(req.texts) == 1 {
		q.Text = req.texts[0]
	}
	if len(req.images) == 1 {
		q.Image = []float32{} // embedded below, once the query is known to be valid
	}
	if err := q.Check(); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, err.Error())
	}
	if len(req.images) == 1 {
		embs, e := s.embedAllImages(ctx, st, l, req.images)
		if e != nil {
			return e
		}
		q.Image = embs[0]
	}
	vec, err := q.Vector(ctx, st.prompts)
	if e := finish(ctx); e != nil {
		return e
	}
	if err != nil {
		return errorf(http.StatusInternalServerError, CodeInternal, "encoding the query: "+err.Error())
	}
	if q.Text != "" {
		s.metrics.texts.Inc()
	}
	opt := index.SearchOptions{K: k, Keep: index.Under(strings.TrimSpace(req.prefix), filepath.Separator)}
	if req.hasThreshold {
		opt.Threshold, opt.HasMin = float32(req.threshold), true
	}
	hits := ix.vectors.Search(vec, opt)
	writeJSON(w, http.StatusOK, SearchResponse{Schema: clip.SchemaVersion, Model: st.info, Index: ix.name,
		Images: ix.vectors.Len(), Results: index.Records(hits)})
	return nil
}

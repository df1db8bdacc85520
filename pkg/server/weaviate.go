package server

import (
	"net/http"
	"strconv"

	"github.com/clip-go/clip/pkg/clip"
)

// Weaviate's multi2vec-clip module talks to an "inference container" over
// four endpoints; clip serve answers them so that Weaviate can use it as
// its vectorizer (CLIP_INFERENCE_API=http://host:8080). The shapes follow
// what the module's client does, read in weaviate/weaviate v1.35.2 (commit
// 12125a575fd748fe2d12b32bc472ec7781fdff14), modules/multi2vec-clip:
//
//   - clients/vectorizer.go: POST /vectorize with Content-Type
//     application/json and {"texts":[…],"images":[…]} (each omitted when
//     empty; images are base64 strings); it decodes every answer as
//     {"textVectors":[[…]],"imageVectors":[[…]],"error":"…"} and fails on
//     a status above 399 with the "error" string, so errors here are
//     {"error":"message"}, not the API's {"error":{"code","message"}}.
//   - clients/startup.go: GET /.well-known/ready until a status ≤ 299
//     (each try within 500 ms) when Weaviate starts.
//   - clients/meta.go: GET /meta, any JSON object (shown in Weaviate's own
//     /v1/meta).
//   - module.go: the URL comes from CLIP_INFERENCE_API; the client sets
//     no header but Content-Type, hence Basic authentication (see
//     authorized).
//
// Vectors are those of `clip embed`: texts are embedded as they come,
// without a prompt template (the reference container,
// weaviate/multi2vec-clip-inference clip.py, does the same), images
// through the same decoding and preprocessing; both L2-normalised.

// vectorizeResponse is the body of POST /vectorize.
type vectorizeResponse struct {
	TextVectors  [][]float32 `json:"textVectors"`
	ImageVectors [][]float32 `json:"imageVectors"`
}

// writeWeaviateError sends e as Weaviate's client reads errors.
func writeWeaviateError(w http.ResponseWriter, e *apiError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="clip"`)
	}
	writeJSON(w, e.Status, map[string]string{"error": e.Message})
}

func (s *Server) handleVectorize(w http.ResponseWriter, r *http.Request) *apiError {
	if r.Header.Get("Content-Type") == "" {
		// Older Weaviate clients (2023) sent no Content-Type.
		r.Header.Set("Content-Type", "application/json")
	}
	return s.withBody(s.vectorize)(w, r)
}

func (s *Server) vectorize(w http.ResponseWriter, c *call) *apiError {
	ctx, st, req, l := c.ctx, c.st, c.req, c.l
	if len(req.labels) > 0 || len(req.templates) > 0 || req.hasTopK || req.hasThreshold || req.prefix != "" {
		return errorf(http.StatusBadRequest, CodeBadRequest, `/vectorize takes {"texts":[…],"images":[base64…]} only`)
	}
	resp := vectorizeResponse{TextVectors: [][]float32{}, ImageVectors: [][]float32{}}
	if len(req.texts) > 0 {
		embs, err := st.prompts.EncodeTexts(ctx, req.texts)
		if e := finish(ctx); e != nil {
			return e
		}
		if err != nil {
			return errorf(http.StatusInternalServerError, CodeInternal, "encoding texts: "+err.Error())
		}
		resp.TextVectors = embs
		s.metrics.texts.Add(float64(len(req.texts)))
	}
	if len(req.images) > 0 {
		// Weaviate takes the vectors by position: one bad image fails the
		// request, as it does in the reference container.
		embs, e := s.embedAllImages(ctx, st, l, req.images)
		if e != nil {
			return e
		}
		resp.ImageVectors = embs
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// handleWeaviateMeta describes the model (Weaviate shows it as the
// module's meta).
func (s *Server) handleWeaviateMeta(w http.ResponseWriter, r *http.Request) *apiError {
	st, e := s.available()
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, map[string]any{"schema": clip.SchemaVersion, "model": st.info})
	return nil
}

func (s *Server) handleWeaviateLive(w http.ResponseWriter, r *http.Request) *apiError {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleWeaviateReady answers 204 once the model (and index) are loaded,
// 503 before and while shutting down, as /readyz does.
func (s *Server) handleWeaviateReady(w http.ResponseWriter, r *http.Request) *apiError {
	if _, e := s.available(); e != nil {
		return e
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

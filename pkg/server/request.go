package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

// imageInput is one image of a request: bytes already in the body, or a URL.
type imageInput struct {
	name string // reported as the record's "file"
	data []byte
	url  string
	err  error // a bad input (e.g. invalid base64): becomes an error record
}

// apiRequest is a parsed request of an endpoint that takes a body
// (/v1/classify, /v1/embed, /v1/search, /vectorize); each refuses the
// fields meant for another.
type apiRequest struct {
	images       []imageInput
	texts        []string
	labels       []string
	templates    []string
	topK         int
	threshold    float64
	hasTopK      bool   // top_k (or k) was given
	hasThreshold bool   // threshold was given
	prefix       string // /v1/search: only files at or below this path
}

const maxFieldBytes = 64 << 10 // a multipart text field (labels, template…)

// parseRequest reads a JSON or multipart body (already capped by
// http.MaxBytesReader and the upload limits). The limits on counts are
// checked here, as soon as they are exceeded, rather than after reading
// everything. left is the number of body bytes not yet read, -1 if unknown.
func (s *Server) parseRequest(r *http.Request, left func() int64) (*apiRequest, *apiError) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return nil, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type must be application/json or multipart/form-data")
	}
	var req *apiRequest
	switch mt {
	case "application/json":
		req, err = s.parseJSON(&jsonStream{r: bufio.NewReaderSize(r.Body, 32<<10), left: left})
		if err != nil {
			return nil, s.bodyError(err, "malformed JSON body")
		}
	case "multipart/form-data":
		var apiErr *apiError
		if req, apiErr = s.parseMultipart(r.Body, params["boundary"], left); apiErr != nil {
			return nil, apiErr
		}
	default:
		return nil, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, fmt.Sprintf("Content-Type %q is not supported: use application/json or multipart/form-data", mt))
	}
	return req, s.checkCounts(req)
}

// bodyError maps a failure to read a request: over the body cap is 413, a
// body arriving too slowly (or past --timeout) 408, else 400.
func (s *Server) bodyError(err error, what string) *apiError {
	var mbe *http.MaxBytesError
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body is over the %d-byte limit (--max-body)", s.cfg.MaxBody))
	case isTimeout(err):
		return errorf(http.StatusRequestTimeout, CodeUploadTimeout, fmt.Sprintf(
			"the request body did not arrive in time (at least %d bytes/s after %s, --min-upload-rate; all within --timeout %s)",
			s.cfg.MinUploadRate, s.cfg.UploadGrace, s.cfg.Timeout))
	case errors.Is(err, errJSONSyntax):
		return errorf(http.StatusBadRequest, CodeBadRequest, err.Error())
	}
	return errorf(http.StatusBadRequest, CodeBadRequest, what+": "+err.Error())
}

func (s *Server) parseMultipart(body io.Reader, boundary string, left func() int64) (*apiRequest, *apiError) {
	if boundary == "" {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	req := &apiRequest{}
	var topK, threshold string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.bodyError(err, "malformed multipart body")
		}
		name := part.FormName()
		if name == "image" {
			// The body cap bounds this read, and the bytes left in the body
			// the image's size.
			size := int64(64 << 10)
			if n := left(); n >= 0 {
				size = n + 4096
			}
			data, err := readAllSized(part, size)
			if err != nil {
				return nil, s.bodyError(err, "malformed multipart body")
			}
			fn := part.FileName()
			if fn == "" {
				fn = fmt.Sprintf("image[%d]", len(req.images))
			}
			req.images = append(req.images, imageInput{name: fn, data: data})
			if len(req.images) > s.cfg.MaxImages {
				return nil, tooManyImages(s.cfg.MaxImages)
			}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			return nil, s.bodyError(err, "malformed multipart body")
		}
		if len(v) > maxFieldBytes {
			return nil, errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("form field %q is over %d bytes", name, maxFieldBytes))
		}
		val := string(v)
		switch name {
		case "labels", "label":
			for _, l := range strings.Split(val, ",") {
				if l = strings.TrimSpace(l); l != "" {
					req.labels = append(req.labels, l)
				}
			}
		case "template", "templates":
			req.templates = append(req.templates, val)
			if len(req.templates) > s.cfg.MaxTemplates {
				return nil, errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("more than %d templates in one request", s.cfg.MaxTemplates))
			}
		case "text", "texts":
			req.texts = append(req.texts, val)
		case "top_k", "k":
			topK = val
		case "prefix":
			req.prefix = val
		case "threshold":
			threshold = val
		default:
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("unknown form field %q (want image, labels, template, top_k, threshold, text, prefix)", name))
		}
		if len(req.labels) > s.cfg.MaxLabels || len(req.texts) > s.cfg.MaxLabels {
			return nil, tooManyLabels(s.cfg.MaxLabels)
		}
	}
	var err error
	if topK != "" {
		req.hasTopK = true
		if req.topK, err = strconv.Atoi(strings.TrimSpace(topK)); err != nil {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("top_k %q is not an integer", topK))
		}
	}
	if threshold != "" {
		req.hasThreshold = true
		if req.threshold, err = strconv.ParseFloat(strings.TrimSpace(threshold), 64); err != nil {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("threshold %q is not a number", threshold))
		}
	}
	return req, nil
}

func tooManyImages(n int) *apiError {
	return errorf(http.StatusRequestEntityTooLarge, CodeTooManyImages, fmt.Sprintf("more than %d images in one request", n))
}

func tooManyLabels(n int) *apiError {
	return errorf(http.StatusBadRequest, CodeTooManyLabels, fmt.Sprintf("more than %d labels or texts in one request (--max-labels)", n))
}

// checkCounts applies the per-request limits common to both encodings.
func (s *Server) checkCounts(req *apiRequest) *apiError {
	switch {
	case len(req.images) > s.cfg.MaxImages:
		return tooManyImages(s.cfg.MaxImages)
	case len(req.labels) > s.cfg.MaxLabels || len(req.texts) > s.cfg.MaxLabels:
		return tooManyLabels(s.cfg.MaxLabels)
	case len(req.templates) > s.cfg.MaxTemplates:
		return errorf(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("more than %d templates in one request", s.cfg.MaxTemplates))
	case req.topK < 0:
		return errorf(http.StatusBadRequest, CodeBadRequest, "top_k must be 0 (all labels) or more")
	case req.threshold < 0 || req.threshold > 1:
		return errorf(http.StatusBadRequest, CodeBadRequest, "threshold must be between 0 and 1")
	}
	return nil
}

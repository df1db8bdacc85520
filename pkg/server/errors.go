package server

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Error codes of the JSON error body {"error":{"code","message"}}; part of
// the API contract (README, openapi.json).
const (
	CodeBadRequest       = "bad_request"
	CodeUnauthorized     = "unauthorized"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeTooLarge         = "payload_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeQueueFull        = "queue_full"
	CodeNotReady         = "not_ready"
	CodeShuttingDown     = "shutting_down"
	CodeTimeout          = "timeout"
	CodeUploadTimeout    = "upload_timeout"
	CodeInternal         = "internal"
)

// apiError is an error with the HTTP status and code it is reported as.
type apiError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter int // seconds; 0 means no Retry-After header
}

func (e *apiError) Error() string { return e.Message }

func errorf(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeAPIError sends e as the JSON error body.
func writeAPIError(w http.ResponseWriter, e *apiError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="clip"`)
	}
	var b errorBody
	b.Error.Code, b.Error.Message = e.Code, e.Message
	writeJSON(w, e.Status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"could not encode the response"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// Codes for limits, more specific than bad_request / payload_too_large.
const (
	CodeTooManyImages = "too_many_images"
	CodeTooManyLabels = "too_many_labels"
)

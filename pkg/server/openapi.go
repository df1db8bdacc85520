package server

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 description of every endpoint, served as is.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) *apiError {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
	return nil
}

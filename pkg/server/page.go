package server

import (
	"net/http"

	"github.com/clip-go/clip/pkg/server/web"
)

// handlePage serves the try-it page; it needs no token (the API calls it
// makes do).
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) *apiError {
	web.ServePage(w, r)
	return nil
}

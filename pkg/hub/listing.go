package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
)

// repoListing is what the hub's API says a revision holds.
type repoListing struct {
	Commit string
	Files  []string
}

// listRepo asks GET /api/models/{repo}/revision/{revision} for the
// revision's commit and file names; if the answer carries no siblings it
// falls back to /api/models/{repo}/tree/{revision}?recursive=1. Names
// that SafeRepoPath refuses are left out with a note: clip only ever
// fetches the layout's fixed file names, so an odd name it does not need
// must not stop the pull (and can never become a path on disk).
func (s *Store) listRepo(ctx context.Context, repo, revision string) (*repoListing, error) {
	u := s.endpoint + "/api/models/" + repo + "/revision/" + url.PathEscape(revision)
	var info struct {
		SHA      string `json:"sha"`
		Siblings *[]struct {
			RFilename string `json:"rfilename"`
		} `json:"siblings"`
	}
	if err := s.getJSON(ctx, u, repo, revision, &info); err != nil {
		return nil, err
	}
	l := &repoListing{Commit: info.SHA}
	if info.Siblings != nil {
		for _, sib := range *info.Siblings {
			l.Files = append(l.Files, sib.RFilename)
		}
	} else {
		tu := s.endpoint + "/api/models/" + repo + "/tree/" + url.PathEscape(revision) + "?recursive=1"
		var tree []struct {
			Type string `json:"type"`
			Path string `json:"path"`
		}
		if err := s.getJSON(ctx, tu, repo, revision, &tree); err != nil {
			return nil, err
		}
		for _, e := range tree {
			if e.Type == "file" {
				l.Files = append(l.Files, e.Path)
			}
		}
	}
	safe := l.Files[:0]
	for _, f := range l.Files {
		if err := SafeRepoPath(f); err != nil {
			s.logf("listing of %s at %q: ignoring a file clip does not need: %v", repo, revision, err)
			continue
		}
		safe = append(safe, f)
	}
	l.Files = safe
	sort.Strings(l.Files)
	return l, nil
}

func (s *Store) getJSON(ctx context.Context, u, repo, revision string, v any) error {
	return s.retry(ctx, "GET "+u, func(ctx context.Context, kick func()) error {
		req, err := s.newRequest(ctx, http.MethodGet, u, true)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := s.client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return httpError(resp, u, repo, revision, "")
		}
		// Listings are small; 32 MiB bounds a misbehaving server.
		body, err := io.ReadAll(io.LimitReader(&kickReader{r: resp.Body, kick: kick}, 32<<20))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(body, v); err != nil {
			return fmt.Errorf("the hub's answer to %s is not the expected JSON: %v", u, err)
		}
		return nil
	})
}

// planFromListing picks the files of variant v out of a listing: the
// layout is HF if the listing has onnx/vision_model*.onnx, immich if it has
// visual/model.onnx. Support files the listing lacks are returned as
// absent, so later runs know not to ask for them.
func planFromListing(repo string, l *repoListing, v Variant) (layout Layout, required, optional, absent []string, err error) {
	has := make(map[string]bool, len(l.Files))
	for _, f := range l.Files {
		has[f] = true
	}
	switch {
	case has["onnx/vision_model.onnx"] || has["onnx/vision_model_fp16.onnx"] || has["onnx/vision_model_quantized.onnx"]:
		layout = LayoutHF
	case has["visual/model.onnx"] && has["textual/model.onnx"]:
		layout = LayoutImmich
	default:
		var onnx []string
		for _, f := range l.Files {
			if strings.HasSuffix(f, ".onnx") {
				onnx = append(onnx, f)
			}
		}
		return "", nil, nil, nil, fmt.Errorf("%s has neither the transformers.js layout (onnx/vision_model.onnx, onnx/text_model.onnx) nor immich's (visual/model.onnx, textual/model.onnx); its .onnx files: %s",
			repo, listOrNone(onnx))
	}
	req, opt, err := layoutFiles(layout, v)
	if err != nil {
		return "", nil, nil, nil, fmt.Errorf("%s: %w", repo, err)
	}
	for _, f := range req {
		if !has[f] {
			var avail []string
			for _, cand := range AllVariants {
				r, _, err := layoutFiles(layout, cand)
				if err == nil && has[r[0]] && has[r[1]] {
					avail = append(avail, string(cand))
				}
			}
			return "", nil, nil, nil, fmt.Errorf("%s has no %s variant: %s is missing (variants present: %s)", repo, v, f, listOrNone(avail))
		}
	}
	for _, f := range opt {
		if has[f] {
			optional = append(optional, f)
		} else {
			absent = append(absent, f)
		}
	}
	if layout == LayoutImmich {
		req = append(req, immichExternalData(l.Files, req, opt)...)
	}
	return layout, req, optional, absent, nil
}

// immichExternalData picks the external-data files of immich's graphs out
// of a listing: immich's exports of towers over 2 GB (M-CLIP's XLM-R-Large)
// keep each weight in its own file beside the graph, named after the
// tensor (textual/transformer.encoder.layer.20.intermediate.dense.bias,
// textual/onnx__MatMul_2679). Everything directly in textual/ or visual/
// that is neither a known file nor another runtime's model is one.
func immichExternalData(files, required, optional []string) []string {
	known := make(map[string]bool, len(required)+len(optional))
	for _, f := range append(append([]string(nil), required...), optional...) {
		known[f] = true
	}
	var out []string
	for _, f := range files {
		dir := path.Dir(f)
		if known[f] || dir != "textual" && dir != "visual" {
			continue
		}
		switch path.Ext(f) {
		case ".onnx", ".json", ".txt", ".md", ".model", ".armnn", ".rknn", ".gitattributes":
			continue // other graphs and runtimes (model.armnn, model.rknn), tokenizer and config files
		}
		out = append(out, f)
	}
	return out
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

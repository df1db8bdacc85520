package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// target is a hub model a reference names.
type target struct {
	Ref      string // as the user wrote it, for messages
	Repo     string
	Revision string
	Entry    *Entry // catalogue entry, when the repo is catalogued
}

// parseTarget turns a catalogue name or "owner/name[@revision]" into a
// target. revision, when not empty, overrides both.
func parseTarget(ref, revision string) (target, error) {
	base, rev, hasRev := strings.Cut(ref, "@")
	if revision != "" {
		rev, hasRev = revision, true
	}
	if hasRev {
		if err := validateRevision(rev); err != nil {
			return target{}, err
		}
	}
	t := target{Ref: ref}
	if e, ok := LookupCatalogue(base); ok {
		t.Entry = &e
		t.Repo = e.Repo
		t.Revision = e.Revision
	} else {
		rr, err := ParseRepoRef(base)
		if err != nil {
			if best := NearestCatalogueName(base); best != "" {
				return target{}, fmt.Errorf("%q is not a catalogue model, an owner/name repository id, or an existing directory (did you mean %s? see `clip models list`)", ref, best)
			}
			return target{}, fmt.Errorf("%q is not a catalogue model (see `clip models list`), an owner/name repository id, or an existing directory", ref)
		}
		t.Repo = rr.Repo
		t.Revision = "main"
	}
	if hasRev {
		t.Revision = rev
	}
	return t, nil
}

// Resolve turns a model reference into local files, downloading what is
// missing unless the store is offline. ref is a catalogue name, a hub repo
// id "owner/name[@revision]", or a directory in the HF or immich layout;
// "" means DefaultModel. A cached model is returned without touching the
// network.
func (s *Store) Resolve(ctx context.Context, ref string, variant Variant) (*LocalModel, error) {
	return s.ResolvePart(ctx, ref, variant, AllFiles)
}

// ResolvePart is Resolve for the files part names: only they are
// downloaded, and the LocalModel's paths are set for those present. A
// later Resolve of the whole model fetches the rest.
func (s *Store) ResolvePart(ctx context.Context, ref string, variant Variant, part Part) (*LocalModel, error) {
	if variant == "" {
		variant = FP32
	}
	if ref == "" {
		ref = DefaultModel
	}
	if dir, ok := looksLikeDir(ref); ok {
		return OpenDir(dir, variant)
	}
	t, err := parseTarget(ref, "")
	if err != nil {
		return nil, err
	}
	return s.ensure(ctx, t, variant, part)
}

// Pull is Resolve for hub models only, with an optional revision that
// overrides the reference's.
func (s *Store) Pull(ctx context.Context, ref, revision string, variant Variant) (*LocalModel, error) {
	if variant == "" {
		variant = FP32
	}
	t, err := parseTarget(ref, revision)
	if err != nil {
		return nil, err
	}
	return s.ensure(ctx, t, variant, AllFiles)
}

// ensure returns the cached model, pulling it first when incomplete.
func (s *Store) ensure(ctx context.Context, t target, variant Variant, part Part) (*LocalModel, error) {
	if t.Entry != nil {
		if _, ok := t.Entry.Variants[variant]; !ok {
			return nil, fmt.Errorf("%s has no %s variant (available: %s)", t.Entry.Name, variant, joinVariants(t.Entry.VariantList()))
		}
	}
	s.adoptLegacyDir(t.Repo, t.Revision)
	dir := s.modelDir(t)
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	if m != nil && m.Revision != "" && m.Revision != t.Revision {
		return nil, fmt.Errorf("the cache directory %s holds %s at revision %q, not %q; remove it with `clip models rm %s@%s`", dir, m.Repo, m.Revision, t.Revision, m.Repo, m.Revision)
	}
	if missing := s.missing(dir, m, variant, part); len(missing) == 0 {
		return s.localModel(dir, m, t, variant)
	} else if s.Offline() {
		return nil, &NotInstalledError{Ref: t.Ref, Variant: variant, Root: s.root, Missing: missing, Offline: s.offline}
	}

	lock, err := acquireLock(ctx, s.lockPath(t), func() {
		s.logf("waiting for another clip process that is downloading %s", t.Repo)
	})
	if err != nil {
		return nil, err
	}
	defer lock.release()
	// Whoever held the lock may have finished the job.
	if m, err = readManifest(dir); err != nil {
		return nil, err
	}
	if len(s.missing(dir, m, variant, part)) == 0 {
		return s.localModel(dir, m, t, variant)
	}
	if m, err = s.pull(ctx, dir, m, t, variant, part); err != nil {
		if ctx.Err() == nil && isNetworkError(err) {
			return nil, &NetworkError{Ref: t.Ref, Endpoint: s.endpoint, Root: s.root, Err: err}
		}
		return nil, err
	}
	return s.localModel(dir, m, t, variant)
}

// missing lists what the cache lacks of part of variant; nil means
// complete. It stats files but never hashes them.
func (s *Store) missing(dir string, m *Manifest, variant Variant, part Part) []string {
	if m == nil {
		return []string{manifestName}
	}
	required, optional, err := layoutFiles(m.Layout, variant)
	if err != nil {
		return []string{err.Error()}
	}
	required, optional = part.filesOf(required, optional)
	var out []string
	for _, p := range required {
		f, ok := m.file(p)
		if !ok || !fileHasSize(filepath.Join(dir, filepath.FromSlash(p)), f.Size) {
			out = append(out, p)
		}
	}
	for _, p := range optional {
		if m.isAbsent(p) {
			continue
		}
		f, ok := m.file(p)
		if !ok || !fileHasSize(filepath.Join(dir, filepath.FromSlash(p)), f.Size) {
			out = append(out, p)
		}
	}
	return out
}

func fileHasSize(p string, size int64) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Size() == size
}

// pull downloads what variant needs into dir, recording each verified
// file in the manifest as it lands. Files are fetched at one commit: the
// manifest's if it has one, else the listing's, else the first HEAD's.
func (s *Store) pull(ctx context.Context, dir string, m *Manifest, t target, variant Variant, part Part) (*Manifest, error) {
	if m == nil {
		m = &Manifest{Repo: t.Repo, Revision: t.Revision}
		if t.Entry != nil {
			m.Name = t.Entry.Name
		}
	}
	var required, optional []string
	switch {
	case t.Entry != nil && !t.Entry.FromListing:
		var err error
		if required, optional, err = t.Entry.Files(variant); err != nil {
			return nil, err
		}
		m.Layout = t.Entry.Layout
	default:
		rev := t.Revision
		if m.Commit != "" {
			rev = m.Commit
		}
		l, err := s.listRepo(ctx, t.Repo, rev)
		if err != nil {
			return nil, err
		}
		layout, req, opt, absent, err := planFromListing(t.Repo, l, variant)
		if err != nil {
			return nil, err
		}
		if m.Layout != "" && m.Layout != layout {
			return nil, fmt.Errorf("%s: the cached files are in the %s layout but the hub now lists the %s layout; remove them with `clip models rm %s`", t.Repo, m.Layout, layout, t.Ref)
		}
		m.Layout, required, optional = layout, req, opt
		if m.Commit == "" && isHex(l.Commit, 40) {
			m.Commit = l.Commit
		}
		for _, a := range absent {
			m.markAbsent(a)
		}
	}
	required, optional = part.filesOf(required, optional)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating model directory: %w", err)
	}
	for _, p := range append(append([]string(nil), required...), optional...) {
		if err := SafeRepoPath(p); err != nil {
			return nil, err
		}
		isOptional := !contains(required, p)
		if isOptional && m.isAbsent(p) {
			continue
		}
		dest := filepath.Join(dir, filepath.FromSlash(p))
		if f, ok := m.file(p); ok && fileHasSize(dest, f.Size) {
			continue
		}
		rev := t.Revision
		if m.Commit != "" {
			rev = m.Commit
		}
		rf, err := s.headFile(ctx, t.Repo, rev, p)
		var he *HTTPError
		if isOptional && errors.As(err, &he) && he.Status == http.StatusNotFound {
			m.markAbsent(p)
			if err := writeManifest(dir, m); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if rf.Commit != "" {
			if m.Commit == "" {
				m.Commit = rf.Commit
			} else if !strings.EqualFold(rf.Commit, m.Commit) {
				return nil, fmt.Errorf("%s: the hub served %s from commit %s, but the other files are from %s", t.Repo, p, rf.Commit, m.Commit)
			}
		}
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return nil, err
		}
		sum, size, err := s.downloadFile(ctx, rf, dest, t.Repo, rev, s.maxFileSizeFor(t, variant))
		if err != nil {
			return nil, err
		}
		m.put(ManifestFile{Path: p, Size: size, SHA256: sum, Etag: rf.Etag})
		m.PulledAt = time.Now().UTC()
		if err := writeManifest(dir, m); err != nil {
			return nil, err
		}
	}
	if m.Commit == "" && isHex(t.Revision, 40) {
		m.Commit = t.Revision
	}
	m.PulledAt = time.Now().UTC()
	if err := writeManifest(dir, m); err != nil {
		return nil, err
	}
	return m, nil
}

// maxFileSizeFor bounds one file of t: MaxFileSize, and for a catalogued
// model twice its variant's listed size (graphs and all: no single file
// can be larger, whatever the rounding of the listed figure).
func (s *Store) maxFileSizeFor(t target, variant Variant) int64 {
	limit := s.maxFileSize
	if t.Entry != nil {
		if total := t.Entry.Variants[variant]; total > 0 && 2*total < limit {
			limit = 2 * total
		}
	}
	return limit
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// localModel describes a complete cached variant.
func (s *Store) localModel(dir string, m *Manifest, t target, variant Variant) (*LocalModel, error) {
	lm := &LocalModel{
		Dir: dir, ID: m.Repo, Name: m.Name, Revision: m.Revision, Commit: m.Commit,
		Variant: variant, Layout: m.Layout,
	}
	if t.Entry != nil {
		lm.Name = t.Entry.Name
	}
	required, optional, err := layoutFiles(m.Layout, variant)
	if err != nil {
		return nil, err
	}
	for _, p := range append(required, optional...) {
		if f, ok := m.file(p); ok {
			lm.Files = append(lm.Files, FileInfo{Path: p, Size: f.Size, SHA256: f.SHA256})
		}
	}
	fillPaths(lm)
	return lm, nil
}

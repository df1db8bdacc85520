package hub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Installed is one cached model revision.
type Installed struct {
	Dir      string
	Manifest Manifest
	Size     int64     // bytes of the recorded files
	Variants []Variant // variants whose graphs are all present
}

// Installed lists the cached model revisions, sorted by repo and revision.
func (s *Store) Installed() ([]Installed, error) {
	pattern := filepath.Join(s.root, "models", "*", "*", "*", manifestName)
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	var out []Installed
	for _, p := range paths {
		dir := filepath.Dir(p)
		m, err := readManifest(dir)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		in := Installed{Dir: dir, Manifest: *m}
		for _, f := range m.Files {
			in.Size += f.Size
		}
		for _, v := range AllVariants {
			req, _, err := layoutFiles(m.Layout, v)
			if err != nil {
				continue
			}
			ok := true
			for _, r := range req {
				if _, has := m.file(r); !has {
					ok = false
				}
			}
			if ok {
				in.Variants = append(in.Variants, v)
			}
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Manifest.Repo != out[j].Manifest.Repo {
			return out[i].Manifest.Repo < out[j].Manifest.Repo
		}
		return out[i].Manifest.Revision < out[j].Manifest.Revision
	})
	return out, nil
}

// installedFor returns the cached revisions ref names: one revision when
// ref carries @revision (or revision is set), else every cached revision
// of the repository.
func (s *Store) installedFor(ref, revision string) (target, []Installed, error) {
	t, err := parseTarget(ref, revision)
	if err != nil {
		return target{}, nil, err
	}
	_, _, explicit := strings.Cut(ref, "@")
	explicit = explicit || revision != ""
	all, err := s.Installed()
	if err != nil {
		return t, nil, err
	}
	var out []Installed
	for _, in := range all {
		if !strings.EqualFold(in.Manifest.Repo, t.Repo) {
			continue
		}
		if explicit && in.Manifest.Revision != t.Revision && !strings.EqualFold(in.Manifest.Commit, t.Revision) {
			continue
		}
		out = append(out, in)
	}
	return t, out, nil
}

// Find returns the cached revisions of ref (see installedFor); an error
// naming the pull command when there are none.
func (s *Store) Find(ref, revision string) ([]Installed, error) {
	if dir, ok := looksLikeDir(ref); ok {
		return s.findDir(dir)
	}
	t, found, err := s.installedFor(ref, revision)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, &NotInstalledError{Ref: ref, Root: s.root}
	}
	// The revision the reference resolves to comes first.
	sort.SliceStable(found, func(i, j int) bool {
		return found[i].Manifest.Revision == t.Revision && found[j].Manifest.Revision != t.Revision
	})
	return found, nil
}

// findDir returns the cached revision stored in dir: a directory inside
// the cache (as `clip models path` prints it) names that revision; any
// other directory is the user's own, which the cache does not manage.
func (s *Store) findDir(dir string) ([]Installed, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	all, err := s.Installed()
	if err != nil {
		return nil, err
	}
	for _, in := range all {
		d := in.Dir
		if real, err := filepath.EvalSymlinks(d); err == nil {
			d = real
		}
		if d == abs {
			return []Installed{in}, nil
		}
	}
	return nil, &NotCachedDirError{Dir: dir, Root: s.root}
}

// NotCachedDirError says a directory given where a cached model is
// expected is not one: the cache keeps no record (digests, lock) of it.
type NotCachedDirError struct {
	Dir, Root string
}

func (e *NotCachedDirError) Error() string {
	return fmt.Sprintf("%s is not a model in the cache %s: only cached models (see `clip models list`) can be verified or removed this way; a directory you manage is yours to check or delete", e.Dir, e.Root)
}

// Remove deletes the cached revisions ref names and returns their
// directories. Each is removed under its lock so a running download is
// not cut from under another process.
func (s *Store) Remove(ctx context.Context, ref, revision string) ([]string, error) {
	found, err := s.Find(ref, revision)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, in := range found {
		t := target{Repo: in.Manifest.Repo, Revision: in.Manifest.Revision}
		lock, err := acquireLock(ctx, s.lockPath(t), nil)
		if err != nil {
			return removed, err
		}
		// Drop the manifest first: a reader that races us sees "not
		// installed" rather than a manifest naming deleted files.
		err = os.Remove(filepath.Join(in.Dir, manifestName))
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			err = os.RemoveAll(in.Dir)
		}
		lock.release()
		if err != nil {
			return removed, fmt.Errorf("removing %s: %w", in.Dir, err)
		}
		removed = append(removed, in.Dir)
		// Tidy empty parents (owner/name), never the models root itself.
		repoDir := filepath.Dir(in.Dir)
		if os.Remove(repoDir) == nil {
			os.Remove(filepath.Dir(repoDir))
		}
	}
	return removed, nil
}

// VerifyResult is the outcome for one recorded file.
type VerifyResult struct {
	Dir     string
	Path    string
	Size    int64
	SHA256  string // recorded
	Problem string // "" when the file matches
}

// Verify re-hashes every recorded file of the cached revisions ref names.
func (s *Store) Verify(ctx context.Context, ref, revision string) ([]VerifyResult, error) {
	found, err := s.Find(ref, revision)
	if err != nil {
		return nil, err
	}
	var out []VerifyResult
	for _, in := range found {
		for _, f := range in.Manifest.Files {
			r := VerifyResult{Dir: in.Dir, Path: f.Path, Size: f.Size, SHA256: f.SHA256}
			p := filepath.Join(in.Dir, filepath.FromSlash(f.Path))
			sum, size, err := hashFile(ctx, p)
			switch {
			case ctx.Err() != nil:
				return out, ctx.Err()
			case errors.Is(err, fs.ErrNotExist):
				r.Problem = "missing"
			case err != nil:
				r.Problem = err.Error()
			case size != f.Size:
				r.Problem = fmt.Sprintf("size %d, recorded %d", size, f.Size)
			case sum != f.SHA256:
				r.Problem = fmt.Sprintf("sha256 %s, recorded %s", sum, f.SHA256)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

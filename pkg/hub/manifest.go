package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// manifestName is the file, inside a model's cache directory, that records
// what was downloaded and the digests it was verified against.
const manifestName = "manifest.json"

// Manifest records a cached model revision.
type Manifest struct {
	Repo     string         `json:"repo"`
	Revision string         `json:"revision"` // as asked for: "main", a tag, or a commit
	Commit   string         `json:"commit"`   // the commit every file was downloaded at
	Layout   Layout         `json:"layout"`
	Name     string         `json:"name,omitempty"` // catalogue name, when pulled through the catalogue
	Files    []ManifestFile `json:"files"`
	Absent   []string       `json:"absent,omitempty"` // optional files the hub answered 404 for
	PulledAt time.Time      `json:"pulled_at"`
}

// ManifestFile is one verified file.
type ManifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Etag is what the hub gave as the file's identity: the sha256 for LFS
	// files, the git blob sha1 for small ones.
	Etag string `json:"etag,omitempty"`
}

// file returns the entry for p.
func (m *Manifest) file(p string) (ManifestFile, bool) {
	for _, f := range m.Files {
		if f.Path == p {
			return f, true
		}
	}
	return ManifestFile{}, false
}

func (m *Manifest) isAbsent(p string) bool {
	for _, a := range m.Absent {
		if a == p {
			return true
		}
	}
	return false
}

// put records f, replacing an older entry for the same path.
func (m *Manifest) put(f ManifestFile) {
	for i := range m.Files {
		if m.Files[i].Path == f.Path {
			m.Files[i] = f
			return
		}
	}
	m.Files = append(m.Files, f)
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
}

func (m *Manifest) markAbsent(p string) {
	if !m.isAbsent(p) {
		m.Absent = append(m.Absent, p)
		sort.Strings(m.Absent)
	}
}

// readManifest loads dir's manifest; (nil, nil) when there is none.
func readManifest(dir string) (*Manifest, error) {
	p := filepath.Join(dir, manifestName)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading model manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("model manifest %s is corrupt: %v (remove the directory or run `clip models rm`)", p, err)
	}
	for _, f := range m.Files {
		if err := SafeRepoPath(f.Path); err != nil {
			return nil, fmt.Errorf("model manifest %s: %w", p, err)
		}
	}
	return &m, nil
}

// writeManifest replaces dir's manifest atomically, so a reader sees the
// old one or the new one and never a partial file.
func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, manifestName), append(b, '\n'))
}

func writeFileAtomic(p string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

package hub

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// repoPart is what the hub accepts as an owner or a repository name.
var repoPart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$`)

// revisionRe is a branch, tag or commit name; "/" is allowed (refs/pr/1).
var revisionRe = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,255}$`)

// RepoRef names a repository revision on the hub.
type RepoRef struct {
	Repo     string // owner/name
	Revision string // "" means the catalogue's or "main"
}

// ParseRepoRef parses "owner/name[@revision]".
func ParseRepoRef(s string) (RepoRef, error) {
	repo, rev, _ := strings.Cut(s, "@")
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || strings.Contains(name, "/") {
		return RepoRef{}, fmt.Errorf("invalid model reference %q: want a catalogue name, owner/name[@revision], or a directory", s)
	}
	if !validPart(owner) || !validPart(name) {
		return RepoRef{}, fmt.Errorf("invalid repository id %q: owner and name may hold letters, digits, '.', '_' and '-'", repo)
	}
	if strings.Contains(s, "@") {
		if err := validateRevision(rev); err != nil {
			return RepoRef{}, err
		}
	}
	return RepoRef{Repo: repo, Revision: rev}, nil
}

func validPart(s string) bool {
	return repoPart.MatchString(s) && s != "." && s != ".." && !strings.Contains(s, "..")
}

func validateRevision(rev string) error {
	if !revisionRe.MatchString(rev) || strings.Contains(rev, "..") || strings.HasPrefix(rev, "/") || strings.HasSuffix(rev, "/") {
		return fmt.Errorf("invalid revision %q", rev)
	}
	return nil
}

// revisionDir is the cache directory name of a revision: "/" cannot be a
// path element, so it is written %2F as in the resolve URL (refs/pr/1 →
// refs%2Fpr%2F1). "%" is not allowed in a revision, so two revisions never
// share a directory; a revision without "/" is its own name.
func revisionDir(rev string) string { return strings.ReplaceAll(rev, "/", "%2F") }

// legacyRevisionDir is the name earlier versions gave a revision's cache
// directory ("/" → "--"): feature/x and feature--x shared it.
func legacyRevisionDir(rev string) string { return strings.ReplaceAll(rev, "/", "--") }

// SafeRepoPath checks a file name taken from a hub listing (or a manifest)
// before it becomes a path on disk: relative, slash-separated, no "..",
// no empty or "." element, no backslash or drive letter, no control bytes.
func SafeRepoPath(p string) error {
	bad := func(why string) error { return fmt.Errorf("refusing unsafe file name %q from the hub: %s", p, why) }
	switch {
	case p == "":
		return bad("empty")
	case strings.HasPrefix(p, "/"):
		return bad("absolute")
	case strings.ContainsAny(p, "\\:"):
		return bad("backslash or colon")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return bad("control character")
		}
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return bad("empty, '.' or '..' path element")
		}
	}
	if path.Clean(p) != p || !filepath.IsLocal(filepath.FromSlash(p)) {
		return bad("not a local path")
	}
	return nil
}

// looksLikeDir reports whether ref should be treated as a local directory:
// it exists as one, or it is spelled like a path (./x, ../x, /x, ~/x).
func looksLikeDir(ref string) (string, bool) {
	if strings.HasPrefix(ref, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			ref = filepath.Join(home, ref[2:])
		}
	}
	if st, err := os.Stat(ref); err == nil && st.IsDir() {
		return ref, true
	}
	if filepath.IsAbs(ref) || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") || ref == "." || ref == ".." {
		return ref, true
	}
	return "", false
}

// CheckRef reports whether ref can name a model: an existing or path-like
// directory, a catalogue name, or owner/name[@revision]. Commands use it to
// tell a usage error from a download failure.
func CheckRef(ref string) error {
	if ref == "" {
		return nil
	}
	if _, ok := looksLikeDir(ref); ok {
		return nil
	}
	_, err := parseTarget(ref, "")
	return err
}

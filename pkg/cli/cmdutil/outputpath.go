package cmdutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CheckOutputFile validates the file an output flag names before any work
// is done, so that a typo is a usage error at once rather than a failure
// after a long run: its directory must exist and be writable, and the path
// must not be a directory. Nothing is left behind ("-" for stdout passes).
func CheckOutputFile(flag, path string) error {
	if path == "" || path == "-" {
		return nil
	}
	bad := func(err error) error { return UsageErrorf("%s %s: %v", flag, path, err) }
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return bad(errors.New("is a directory"))
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return bad(unwrapPath(err))
		}
		return f.Close()
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return bad(fmt.Errorf("directory %s does not exist", dir))
	case err != nil:
		return bad(unwrapPath(err))
	case !st.IsDir():
		return bad(fmt.Errorf("%s is not a directory", dir))
	}
	probe, err := os.CreateTemp(dir, ".clip-write-check-*")
	if err != nil {
		return bad(fmt.Errorf("cannot write in %s: %v", dir, unwrapPath(err)))
	}
	probe.Close()
	return os.Remove(probe.Name())
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// CheckOutputDir makes the directory an output flag names (as the flag
// promises) before any work, and checks that it can be written: a usage
// error naming the flag otherwise.
func CheckOutputDir(flag, dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return UsageErrorf("%s %s: %v", flag, dir, unwrapPath(err))
	}
	return CheckOutputFile(flag, filepath.Join(dir, ".clip-write-check"))
}

//go:build !linux

package engine

// newPageReleaser returns nil where /proc/self/maps is not available: the
// packed weights then stay beside the mapped file's pages.
func newPageReleaser(modelPath string) func(b []byte) { return nil }

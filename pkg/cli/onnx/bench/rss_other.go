//go:build !unix

package bench

// maxRSSBytes is unknown here (0).
func maxRSSBytes() int64 { return 0 }

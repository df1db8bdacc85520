//go:build !unix

package imageproc

import (
	"testing"
	"time"
)

// processCPU is unknown here: the cpu-ms/op metric reads 0.
func processCPU(*testing.B) time.Duration { return 0 }

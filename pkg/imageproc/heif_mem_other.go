//go:build !linux

package imageproc

import "github.com/tetratelabs/wazero/experimental"

// wasmMemory: wazero's own growth elsewhere (see heif_mem_linux.go).
var wasmMemory experimental.MemoryAllocator = experimental.MemoryAllocatorFunc(func(_, _ uint64) experimental.LinearMemory {
	return &heapMemory{}
})

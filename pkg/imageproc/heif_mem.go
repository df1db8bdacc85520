package imageproc

// heapMemory is a linear memory in the Go heap, grown as wazero grows its
// own (the fallback when no mapping can be made).
type heapMemory struct{ b []byte }

func (m *heapMemory) Reallocate(size uint64) []byte {
	if n := uint64(len(m.b)); size > n {
		m.b = append(m.b, make([]byte, size-n)...)
	}
	return m.b[:size]
}

func (m *heapMemory) Free() { m.b = nil }

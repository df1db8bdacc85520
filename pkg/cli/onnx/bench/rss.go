package bench

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// PeakRSSBytes returns the process's peak resident set size: VmHWM from
// /proc/self/status on Linux, else getrusage's ru_maxrss where the
// platform has it, else 0 (unknown).
func PeakRSSBytes() int64 {
	if n, ok := procStatusBytes("/proc/self/status", "VmHWM"); ok {
		return n
	}
	return maxRSSBytes()
}

// procStatusBytes reads a "Key:   1234 kB" line of a /proc status file.
func procStatusBytes(path, key string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			return 0, false
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, false
		}
		if len(fields) > 1 && strings.EqualFold(fields[1], "kB") {
			n *= 1024
		}
		return n, true
	}
	return 0, false
}

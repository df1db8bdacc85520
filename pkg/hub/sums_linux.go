package hub

import (
	"syscall"
	"time"
)

// statCtime: the fields are int32 on 32-bit Linux.
func statCtime(st *syscall.Stat_t) time.Time {
	return time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec))
}

package cached

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// unreadInput reports whether c's socket holds bytes it has not read.
func unreadInput(c *Client) bool {
	tc, ok := c.conn.(*net.TCPConn)
	if !ok {
		return false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	_ = rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.TIOCINQ) })
	return n > 0
}

// totalSystemMemory is the machine's RAM in bytes (INFO's
// total_system_memory).
func totalSystemMemory() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

//go:build !linux

package cached

// unreadInput reports whether c's socket holds bytes it has not read.
// Only Linux can tell (TIOCINQ); elsewhere PUBLISH does not wait for
// subscribers' pending input.
func unreadInput(*Client) bool { return false }

// totalSystemMemory is unknown outside Linux; INFO reports 0, as Redis
// does where it cannot find out.
func totalSystemMemory() int64 { return 0 }

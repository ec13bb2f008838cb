package cached

import (
	"sync"
	"sync/atomic"
	"time"
)

// slowlog keeps the commands that ran longer than
// slowlog-log-slower-than, newest first, at most slowlog-max-len.
type slowlog struct {
	slowerThan atomic.Int64 // µs; -1 off
	mu         sync.Mutex
	maxLen     int
	nextID     int64
	entries    []slowEntry // oldest first
}

type slowEntry struct {
	id       int64
	at       int64 // Unix seconds
	duration int64 // µs
	args     []string
	addr     string
	name     string
}

const (
	slowlogMaxArgs   = 32  // SLOWLOG_ENTRY_MAX_ARGC
	slowlogMaxString = 128 // SLOWLOG_ENTRY_MAX_STRING
)

func newSlowlog() *slowlog { return &slowlog{} }

func (l *slowlog) setParams(slowerThan int64, maxLen int) {
	l.slowerThan.Store(slowerThan)
	l.mu.Lock()
	l.maxLen = maxLen
	l.trim()
	l.mu.Unlock()
}

func (l *slowlog) trim() {
	if over := len(l.entries) - l.maxLen; over > 0 {
		l.entries = append(l.entries[:0], l.entries[over:]...)
	}
}

// maybeAdd records a command if it was slow enough. The fast path is one
// atomic load and a comparison.
func (l *slowlog) maybeAdd(c *Client, args [][]byte, d time.Duration) {
	th := l.slowerThan.Load()
	if th < 0 || d.Microseconds() < th || c.cmd == nil || c.cmd.Flags&FlagSkipSlowlog != 0 {
		return
	}
	e := slowEntry{at: time.Now().Unix(), duration: d.Microseconds(), addr: c.conn.RemoteAddr().String(), name: c.Name()}
	n := min(len(args), slowlogMaxArgs)
	for i := 0; i < n; i++ {
		if i == slowlogMaxArgs-1 && len(args) > slowlogMaxArgs {
			e.args = append(e.args, "... ("+itoa(int64(len(args)-slowlogMaxArgs+1))+" more arguments)")
			break
		}
		a := args[i]
		if len(a) > slowlogMaxString {
			e.args = append(e.args, string(a[:slowlogMaxString])+"... ("+itoa(int64(len(a)-slowlogMaxString))+" more bytes)")
		} else {
			e.args = append(e.args, string(a))
		}
	}
	l.mu.Lock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, e)
	l.trim()
	l.mu.Unlock()
}

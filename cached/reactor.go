package cached

// taskKind is what a loopTask asks of an event loop (reactor_linux.go).
type taskKind uint8

const (
	taskAdd      taskKind = iota // serve a new connection
	taskPush                     // flush output pushed from another goroutine
	taskKill                     // close a client (CLIENT KILL, limits)
	taskShutdown                 // hand every client to its own goroutine and stop
)

// loopTask is work posted to an event loop by another goroutine.
type loopTask struct {
	kind taskKind
	c    *Client
}

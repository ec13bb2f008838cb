//go:build !linux

package cached

import (
	"errors"
	"net"
)

// Event loops need epoll: elsewhere event_loops is ignored and every
// connection has a goroutine of its own.
const reactorSupported = false

type eventLoop struct{}

type loopConn struct {
	net.Conn
	l *eventLoop
}

func (s *Server) startLoops(int) error        { return errors.New("event loops need Linux") }
func (s *Server) pickLoop() *eventLoop        { return nil }
func (l *eventLoop) post(loopTask) bool       { return false }
func newLoopConn(net.Conn) (*loopConn, error) { return nil, errors.New("event loops need Linux") }
func (lc *loopConn) closeFD()                 {}
func (lc *loopConn) kill(*Client)             {}
func (c *Client) flushLoop(bool) bool         { return true }
func (c *Client) leaveLoop()                  {}
func (l *eventLoop) queueWrite(*Client)       {}
func loopConnFD(net.Conn) (int, bool)         { return 0, false }

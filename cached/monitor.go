package cached

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MONITOR: every command a client runs (but administrative ones) is sent
// to the monitoring clients as Redis writes it:
//
//	+1339518083.107412 [0 127.0.0.1:60866] "set" "foo" "bar"
//
// The feed costs one atomic load per command while nobody monitors.

type monitors struct {
	mu      sync.Mutex // a leaf lock
	clients []*Client
	n       atomic.Int32
}

func monitorCommands() []*Command {
	return []*Command{
		{Name: "monitor", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdMonitor,
			Group: "server", Since: "1.0.0", Summary: "Listens for all requests received by the server in real-time.", Complexity: ""},
	}
}

func (s *Server) setupMonitor() {
	m := &s.monitors
	remove := func(c *Client) {
		m.mu.Lock()
		for i, o := range m.clients {
			if o == c {
				m.clients = append(m.clients[:i], m.clients[i+1:]...)
				m.n.Add(-1)
				break
			}
		}
		m.mu.Unlock()
		c.monitoring.Store(false)
	}
	s.hooks.ClientClosed = append(s.hooks.ClientClosed, remove)
	s.hooks.ClientReset = append(s.hooks.ClientReset, remove)
	s.hooks.ClientInfo = append(s.hooks.ClientInfo, func(c *Client, info *ClientInfo) {
		if c.monitoring.Load() {
			info.Flags = "O" + info.Flags
		}
	})
}

func cmdMonitor(c *Client, args [][]byte) {
	if c.monitoring.Load() {
		return // already monitoring: no reply, as Redis
	}
	m := &c.srv.monitors
	m.mu.Lock()
	m.clients = append(m.clients, c)
	m.n.Add(1)
	m.mu.Unlock()
	c.monitoring.Store(true)
	c.SetExemptIdle(true) // Redis does not time out a monitor
	c.ReplyOK()
}

// feedMonitors sends the command c just ran to every monitor.
func (s *Server) feedMonitors(c *Client, cmd *Command, args [][]byte) {
	if cmd.Flags&(FlagAdmin|FlagSkipMonitor) != 0 {
		return
	}
	now := time.Now()
	b := make([]byte, 0, 64)
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := strconv.AppendInt(nil, int64(now.Nanosecond()/1000), 10)
	for range 6 - len(us) {
		b = append(b, '0')
	}
	b = append(b, us...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(c.db.ID()), 10)
	b = append(b, ' ')
	b = append(b, c.conn.RemoteAddr().String()...)
	b = append(b, "] "...)
	redactFrom := len(args)
	switch cmd.fullName {
	case "auth":
		redactFrom = 1
	case "hello":
		for i := 1; i+2 < len(args); i++ {
			if EqualFold(args[i], "auth") {
				redactFrom = i + 1
				break
			}
		}
	}
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		if i >= redactFrom && (cmd.fullName != "hello" || i < redactFrom+2) {
			b = append(b, `"(redacted)"`...)
			continue
		}
		b = appendRepr(b, a)
	}
	b = append(b, '\r', '\n')
	m := &s.monitors
	m.mu.Lock()
	for _, o := range m.clients {
		o.Push(b)
	}
	m.mu.Unlock()
}

// appendRepr quotes p as Redis's sdscatrepr does.
func appendRepr(b, p []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, ch := range p {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(b, '"')
}

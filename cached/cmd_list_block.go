package cached

import (
	"math"
	"time"

	"github.com/anvilstack/anvil/cached/list"
	"github.com/anvilstack/anvil/cached/store"
)

// Blocking list commands: BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH, on the
// core's Block/SignalReady (blocking.go). A handler that finds nothing
// blocks; woken, it runs again with its keys locked. Like Redis, a woken
// client ignores keys that now hold another type (it keeps waiting)
// where its first run would have replied WRONGTYPE; BLMOVE still replies
// WRONGTYPE when its destination holds another type. Inside EXEC nothing
// blocks: BLPOP/BRPOP/BLMPOP reply a null array, BLMOVE/BRPOPLPUSH a
// null, as Redis does for a client that may not block. A timeout replies
// a null array for all of them (Redis's replyToBlockedClientTimedOut).

// parseTimeout parses a timeout in seconds as Redis's
// getTimeoutFromObjectOrReply does: ceil(seconds*1000) milliseconds,
// 0 for no timeout. A value that overflows a long long turns negative in
// Redis, and is refused as negative here too.
func (c *Client) parseTimeout(arg []byte) (time.Duration, bool) {
	f, ok := ParseFloat(arg)
	if !ok {
		c.ReplyError("ERR timeout is not a float or out of range")
		return 0, false
	}
	ms := math.Ceil(f * 1000)
	if ms < 0 || ms >= math.MaxInt64 {
		c.ReplyError("ERR timeout is negative")
		return 0, false
	}
	if ms > float64(math.MaxInt64/int64(time.Millisecond)) {
		return 0, true // beyond what a Duration holds: as good as forever
	}
	return time.Duration(ms) * time.Millisecond, true
}

// woken reports whether the running handler is a blocked command run
// again after a wake-up.
func (c *Client) woken() bool { return c.blockActive != nil }

// uniqueKeys drops repeated keys (BLPOP k k waits once on k).
func uniqueKeys(keys [][]byte) [][]byte {
	out := make([][]byte, 0, len(keys))
outer:
	for _, k := range keys {
		for _, o := range out {
			if string(k) == string(o) {
				continue outer
			}
		}
		out = append(out, k)
	}
	return out
}

func cmdBLPop(c *Client, args [][]byte) {
	blockingPop(c, args[1:len(args)-1], args[len(args)-1], listLeft, -1)
}

func cmdBRPop(c *Client, args [][]byte) {
	blockingPop(c, args[1:len(args)-1], args[len(args)-1], listRight, -1)
}

func cmdBLMPop(c *Client, args [][]byte) {
	a, ok := c.parseLMPop(args, 2)
	if !ok {
		return
	}
	blockingPop(c, a.keys, args[1], a.end, a.count)
}

// blockingPop serves BLPOP/BRPOP (count -1: one element, replied as
// [key, element]) and BLMPOP (count > 0: [key, [elements]]) from the
// first non-empty list of keys, or blocks.
func blockingPop(c *Client, keys [][]byte, timeoutArg []byte, end listEnd, count int64) {
	timeout, ok := c.parseTimeout(timeoutArg)
	if !ok {
		return
	}
	woken := c.woken()
	for _, key := range c.servingOrder(keys) {
		e := c.LookupWrite(key)
		if e == nil {
			continue
		}
		if e.Kind() != store.KindList {
			if woken {
				continue
			}
			c.ReplyError(ErrWrongType)
			return
		}
		l := e.Obj.(*list.List)
		if l.Len() == 0 {
			continue
		}
		if count > 0 {
			c.replyPopRange(e, l, key, end, count)
			return
		}
		v, _ := popEnd(l, end)
		c.ReplyArray(2)
		c.ReplyBulk(key)
		c.ReplyBulk(v)
		c.listRemoved(e, l, key, end)
		return
	}
	if c.InExec() {
		c.ReplyNullArray()
		return
	}
	c.Block(uniqueKeys(keys), timeout, c.ReplyNullArray)
}

func cmdBLMove(c *Client, args [][]byte) {
	from, ok := c.parseListEnd(args[3])
	if !ok {
		return
	}
	to, ok := c.parseListEnd(args[4])
	if !ok {
		return
	}
	blmove(c, args, from, to, args[5])
}

func cmdBRPopLPush(c *Client, args [][]byte) { blmove(c, args, listRight, listLeft, args[3]) }

func blmove(c *Client, args [][]byte, from, to listEnd, timeoutArg []byte) {
	timeout, ok := c.parseTimeout(timeoutArg)
	if !ok {
		return
	}
	src, dst := args[1], args[2]
	e := c.LookupWrite(src)
	if e != nil && e.Kind() != store.KindList {
		if !c.woken() {
			c.ReplyError(ErrWrongType)
			return
		}
		e = nil
	}
	if e != nil {
		if l := e.Obj.(*list.List); l.Len() > 0 {
			c.moveElement(e, l, src, dst, from, to)
			return
		}
	}
	if c.InExec() {
		c.ReplyNull()
		return
	}
	c.Block(args[1:2], timeout, c.ReplyNullArray)
}

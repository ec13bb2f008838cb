package cached

import (
	"github.com/anvilstack/anvil/pkg/resp"
)

// Reply methods append to the client's output buffer, which is written
// to the connection once the pipelined input has been processed. A
// handler writes exactly one reply (which may be an aggregate).

// Redis's shared error replies.
const (
	ErrSyntax     = "ERR syntax error"
	ErrNotInt     = "ERR value is not an integer or out of range"
	ErrNotFloat   = "ERR value is not a valid float"
	ErrWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrNoSuchKey  = "ERR no such key"
	ErrOutOfRange = "ERR index out of range"
	ErrOOM        = "OOM command not allowed when used memory > 'maxmemory'."
	ErrNoAuth     = "NOAUTH Authentication required."
	ErrDBIndex    = "ERR DB index is out of range"
	ErrInvalidDB  = "ERR invalid DB index"
	ErrOverflow   = "ERR increment or decrement would overflow"
	ErrSameObject = "ERR source and destination objects are the same"
)

// Proto is the protocol the client speaks (2 until HELLO 3).
func (c *Client) Proto() resp.Proto { return c.proto }

// ReplyOK writes +OK.
func (c *Client) ReplyOK() { c.out = append(c.out, resp.OK...) }

// ReplySimple writes a simple string.
func (c *Client) ReplySimple(s string) { c.out = resp.AppendSimple(c.out, s) }

// ReplyError writes an error; msg starts with its code ("ERR ...",
// "WRONGTYPE ..."). Inside MULTI, a queued command's error is counted for
// INFO errorstats like any other.
func (c *Client) ReplyError(msg string) {
	c.out = resp.AppendError(c.out, msg)
	c.failed = true
	c.srv.stats.countError(msg)
}

// ReplyInt writes an integer.
func (c *Client) ReplyInt(n int64) { c.out = resp.AppendInt(c.out, n) }

// ReplyBulk writes a bulk string.
func (c *Client) ReplyBulk(b []byte) { c.out = resp.AppendBulk(c.out, b) }

// ReplyBulkString writes a bulk string.
func (c *Client) ReplyBulkString(s string) { c.out = resp.AppendBulkString(c.out, s) }

// ReplyBulkInt writes n as a bulk string.
func (c *Client) ReplyBulkInt(n int64) { c.out = resp.AppendBulkInt(c.out, n) }

// ReplyNull writes the null bulk string ($-1 in RESP2, _ in RESP3).
func (c *Client) ReplyNull() { c.out = resp.AppendNull(c.out, c.proto) }

// ReplyNullArray writes the null array (*-1 in RESP2, _ in RESP3).
func (c *Client) ReplyNullArray() { c.out = resp.AppendNullArray(c.out, c.proto) }

// ReplyArray writes the header of an array of n elements; the next n
// replies are its elements.
func (c *Client) ReplyArray(n int) { c.out = resp.AppendArray(c.out, n) }

// ReplyMap writes the header of a map of n pairs (a flat array of 2n in
// RESP2); the next 2n replies are its keys and values.
func (c *Client) ReplyMap(n int) { c.out = resp.AppendMap(c.out, n, c.proto) }

// ReplySet writes the header of a set of n elements (an array in RESP2).
func (c *Client) ReplySet(n int) { c.out = resp.AppendSet(c.out, n, c.proto) }

// ReplyDouble writes a double (a bulk string in RESP2).
func (c *Client) ReplyDouble(f float64) { c.out = resp.AppendDouble(c.out, f, c.proto) }

// ReplyBool writes a boolean (the integer 1 or 0 in RESP2).
func (c *Client) ReplyBool(v bool) { c.out = resp.AppendBool(c.out, v, c.proto) }

// ReplyVerbatim writes verbatim text (a bulk string in RESP2).
func (c *Client) ReplyVerbatim(text []byte) {
	c.out = resp.AppendVerbatim(c.out, "txt", text, c.proto)
}

// ReplyRaw writes bytes that are already a complete RESP reply.
func (c *Client) ReplyRaw(b []byte) { c.out = append(c.out, b...) }

// Scratch returns the client's scratch buffer, emptied. A reply whose
// aggregate length is known only at the end is built there (with the
// resp.Append* functions), then written with its header and ReplyRaw;
// give the buffer back with SetScratch so its memory is reused.
func (c *Client) Scratch() []byte { return c.scratch[:0] }

// SetScratch keeps b's memory as the scratch buffer for the next use.
func (c *Client) SetScratch(b []byte) { c.scratch = b[:0] }

func appendBulkString(b []byte, s string) []byte { return resp.AppendBulkString(b, s) }

// ReplyWrongArity writes Redis's arity error for the current command.
func (c *Client) ReplyWrongArity() {
	c.ReplyError("ERR wrong number of arguments for '" + c.cmd.fullName + "' command")
}

package resp

import (
	"math"
	"strconv"
)

// Proto is a protocol version a connection speaks: 2 (the default) or 3
// (after HELLO 3). The Append* functions for RESP3-only types take it and
// write the RESP2 form Redis uses for 2.
type Proto int

// The protocol versions.
const (
	Proto2 Proto = 2
	Proto3 Proto = 3
)

// Frequently written replies.
var (
	OK     = []byte("+OK\r\n")
	Queued = []byte("+QUEUED\r\n")
	Pong   = []byte("+PONG\r\n")
)

func appendHeader(b []byte, kind byte, n int64) []byte {
	b = append(b, kind)
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

// AppendSimple appends a simple string: +s. s must not hold \r or \n.
func AppendSimple(b []byte, s string) []byte {
	b = append(b, '+')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendError appends an error reply: -msg. msg starts with its code
// ("ERR ...", "WRONGTYPE ..."); \r and \n in it are replaced by spaces, as
// Redis does, so a reply can never break the framing.
func AppendError(b []byte, msg string) []byte {
	b = append(b, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return append(b, '\r', '\n')
}

// AppendInt appends an integer reply: :n.
func AppendInt(b []byte, n int64) []byte {
	if n >= 0 && n < 10 {
		return append(b, ':', byte('0'+n), '\r', '\n')
	}
	return appendHeader(b, ':', n)
}

// AppendBulk appends a bulk string: $len then the bytes.
func AppendBulk(b []byte, p []byte) []byte {
	b = appendHeader(b, '$', int64(len(p)))
	b = append(b, p...)
	return append(b, '\r', '\n')
}

// AppendBulkString is AppendBulk for a string.
func AppendBulkString(b []byte, s string) []byte {
	b = appendHeader(b, '$', int64(len(s)))
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendBulkInt appends n as a bulk string of its decimal form.
func AppendBulkInt(b []byte, n int64) []byte {
	var tmp [24]byte
	return AppendBulk(b, strconv.AppendInt(tmp[:0], n, 10))
}

// AppendNull appends the null reply: _ in RESP3, the null bulk $-1 in RESP2.
func AppendNull(b []byte, p Proto) []byte {
	if p == Proto3 {
		return append(b, '_', '\r', '\n')
	}
	return append(b, '$', '-', '1', '\r', '\n')
}

// AppendNullArray appends the null reply where RESP2 uses the null array
// *-1 (a timed-out blocking pop, an aborted EXEC).
func AppendNullArray(b []byte, p Proto) []byte {
	if p == Proto3 {
		return append(b, '_', '\r', '\n')
	}
	return append(b, '*', '-', '1', '\r', '\n')
}

// AppendArray appends the header of an array of n elements.
func AppendArray(b []byte, n int) []byte { return appendHeader(b, '*', int64(n)) }

// AppendMap appends the header of a map of n pairs (RESP3 %n); in RESP2, a
// flat array of 2n elements.
func AppendMap(b []byte, n int, p Proto) []byte {
	if p == Proto3 {
		return appendHeader(b, '%', int64(n))
	}
	return appendHeader(b, '*', 2*int64(n))
}

// AppendSet appends the header of a set of n elements (RESP3 ~n); in RESP2
// an array.
func AppendSet(b []byte, n int, p Proto) []byte {
	if p == Proto3 {
		return appendHeader(b, '~', int64(n))
	}
	return appendHeader(b, '*', int64(n))
}

// AppendPush appends the header of an out-of-band push message of n
// elements (RESP3 >n); in RESP2 an array, as pub/sub messages are.
func AppendPush(b []byte, n int, p Proto) []byte {
	if p == Proto3 {
		return appendHeader(b, '>', int64(n))
	}
	return appendHeader(b, '*', int64(n))
}

// AppendBool appends a boolean (RESP3 #t/#f); in RESP2 the integer 1 or 0.
func AppendBool(b []byte, v bool, p Proto) []byte {
	if p == Proto3 {
		if v {
			return append(b, '#', 't', '\r', '\n')
		}
		return append(b, '#', 'f', '\r', '\n')
	}
	if v {
		return append(b, ':', '1', '\r', '\n')
	}
	return append(b, ':', '0', '\r', '\n')
}

// AppendFloat formats f as Redis formats a double reply ("%.17g", and inf,
// -inf, nan spelled so); the bytes of a RESP2 double and a RESP3 one.
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// AppendDouble appends a double (RESP3 ,f); in RESP2 a bulk string of the
// same text.
func AppendDouble(b []byte, f float64, p Proto) []byte {
	if p == Proto3 {
		b = append(b, ',')
		b = AppendFloat(b, f)
		return append(b, '\r', '\n')
	}
	var tmp [32]byte
	return AppendBulk(b, AppendFloat(tmp[:0], f))
}

// AppendBigNumber appends a big number given as its decimal digits (RESP3
// (digits); in RESP2 a bulk string.
func AppendBigNumber(b []byte, digits string, p Proto) []byte {
	if p == Proto3 {
		b = append(b, '(')
		b = append(b, digits...)
		return append(b, '\r', '\n')
	}
	return AppendBulkString(b, digits)
}

// AppendVerbatim appends a verbatim string with a three-letter format
// ("txt", "mkd"): RESP3 =len\r\nfmt:text; in RESP2 a bulk string of text.
func AppendVerbatim(b []byte, format string, text []byte, p Proto) []byte {
	if p == Proto3 && len(format) == 3 {
		b = appendHeader(b, '=', int64(len(text)+4))
		b = append(b, format...)
		b = append(b, ':')
		b = append(b, text...)
		return append(b, '\r', '\n')
	}
	return AppendBulk(b, text)
}

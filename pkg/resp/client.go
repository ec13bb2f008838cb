package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// AppendCommand appends a request in the multibulk form a server always
// accepts.
func AppendCommand(b []byte, args ...[]byte) []byte {
	b = appendHeader(b, '*', int64(len(args)))
	for _, a := range args {
		b = AppendBulk(b, a)
	}
	return b
}

// AppendCommandString is AppendCommand for string arguments.
func AppendCommandString(b []byte, args ...string) []byte {
	b = appendHeader(b, '*', int64(len(args)))
	for _, a := range args {
		b = AppendBulkString(b, a)
	}
	return b
}

// Kind is the type byte of a reply.
type Kind byte

// The reply kinds, named by their RESP type byte.
const (
	KindSimple    Kind = '+'
	KindError     Kind = '-'
	KindInt       Kind = ':'
	KindBulk      Kind = '$'
	KindArray     Kind = '*'
	KindNull      Kind = '_'
	KindDouble    Kind = ','
	KindBool      Kind = '#'
	KindBigNumber Kind = '('
	KindVerbatim  Kind = '='
	KindBlobError Kind = '!'
	KindMap       Kind = '%'
	KindSet       Kind = '~'
	KindAttribute Kind = '|'
	KindPush      Kind = '>'
)

// Value is one decoded reply. RESP2's null bulk and null array decode as
// Kind KindNull, like RESP3's null.
type Value struct {
	Kind  Kind
	Str   []byte  // simple, error, bulk, verbatim (with its "fmt:" prefix), big number, double as sent
	Int   int64   // integer; a boolean is 1 or 0
	Float float64 // double
	Elems []Value // array, set, push; a map as key, value, key, value...
}

// IsError reports whether v is an error reply.
func (v Value) IsError() bool { return v.Kind == KindError || v.Kind == KindBlobError }

// String renders v for test failures and logs.
func (v Value) String() string {
	switch v.Kind {
	case KindSimple, KindBulk, KindVerbatim, KindBigNumber:
		return strconv.Quote(string(v.Str))
	case KindError, KindBlobError:
		return "(error) " + string(v.Str)
	case KindInt, KindBool:
		return strconv.FormatInt(v.Int, 10)
	case KindDouble:
		return string(v.Str)
	case KindNull:
		return "(nil)"
	}
	s := string(v.Kind) + "["
	for i, e := range v.Elems {
		if i > 0 {
			s += " "
		}
		s += e.String()
	}
	return s + "]"
}

// ErrProtocol is returned by Reader for bytes that are not a valid reply.
var ErrProtocol = errors.New("resp: malformed reply")

// MaxReplyBulk bounds a bulk reply the Reader accepts, so that a broken or
// hostile server cannot make a client allocate without limit.
const MaxReplyBulk = 1 << 30

// Reader reads replies from a server.
type Reader struct {
	br *bufio.Reader
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReaderSize(r, 16<<10)} }

// Buffered is the number of bytes read from the server but not yet decoded.
func (r *Reader) Buffered() int { return r.br.Buffered() }

func (r *Reader) line() ([]byte, error) {
	l, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, fmt.Errorf("%w: line too long", ErrProtocol)
	}
	if err != nil {
		return nil, err
	}
	if len(l) < 3 || l[len(l)-2] != '\r' {
		return nil, fmt.Errorf("%w: %q", ErrProtocol, l)
	}
	return l[:len(l)-2], nil
}

// ReadValue reads and decodes one reply. Error replies are values, not Go
// errors; the error is for I/O and malformed input. RESP3 attributes are
// read and dropped.
func (r *Reader) ReadValue() (Value, error) {
	l, err := r.line()
	if err != nil {
		return Value{}, err
	}
	k, body := Kind(l[0]), l[1:]
	switch k {
	case KindSimple, KindError:
		return Value{Kind: k, Str: append([]byte(nil), body...)}, nil
	case KindBigNumber:
		return Value{Kind: k, Str: append([]byte(nil), body...)}, nil
	case KindInt:
		n, ok := parseInt(body)
		if !ok {
			return Value{}, fmt.Errorf("%w: integer %q", ErrProtocol, body)
		}
		return Value{Kind: k, Int: n}, nil
	case KindNull:
		return Value{Kind: KindNull}, nil
	case KindBool:
		if len(body) != 1 || (body[0] != 't' && body[0] != 'f') {
			return Value{}, fmt.Errorf("%w: boolean %q", ErrProtocol, body)
		}
		if body[0] == 't' {
			return Value{Kind: k, Int: 1}, nil
		}
		return Value{Kind: k}, nil
	case KindDouble:
		var f float64
		switch string(body) {
		case "inf":
			f = math.Inf(1)
		case "-inf":
			f = math.Inf(-1)
		default:
			f, err = strconv.ParseFloat(string(body), 64)
			if err != nil {
				return Value{}, fmt.Errorf("%w: double %q", ErrProtocol, body)
			}
		}
		return Value{Kind: k, Float: f, Str: append([]byte(nil), body...)}, nil
	case KindBulk, KindVerbatim, KindBlobError:
		n, ok := parseInt(body)
		if !ok || n < -1 || n > MaxReplyBulk {
			return Value{}, fmt.Errorf("%w: length %q", ErrProtocol, body)
		}
		if n == -1 {
			return Value{Kind: KindNull}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r.br, buf); err != nil {
			return Value{}, err
		}
		if k == KindBlobError {
			k = KindError
		}
		return Value{Kind: k, Str: buf[:n:n]}, nil
	case KindArray, KindSet, KindPush, KindMap, KindAttribute:
		n, ok := parseInt(body)
		if !ok || n < -1 {
			return Value{}, fmt.Errorf("%w: length %q", ErrProtocol, body)
		}
		if n == -1 {
			return Value{Kind: KindNull}, nil
		}
		if k == KindMap || k == KindAttribute {
			n *= 2
		}
		v := Value{Kind: k, Elems: make([]Value, 0, min(n, 1024))}
		for i := int64(0); i < n; i++ {
			e, err := r.ReadValue()
			if err != nil {
				return Value{}, err
			}
			v.Elems = append(v.Elems, e)
		}
		if k == KindAttribute {
			return r.ReadValue()
		}
		return v, nil
	}
	return Value{}, fmt.Errorf("%w: type %q", ErrProtocol, l[0])
}

// ReadRaw appends the exact bytes of one reply (with every nested element)
// to dst, for callers that compare or forward replies byte for byte.
func (r *Reader) ReadRaw(dst []byte) ([]byte, error) {
	l, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return dst, fmt.Errorf("%w: line too long", ErrProtocol)
	}
	if err != nil {
		return dst, err
	}
	if len(l) < 3 || l[len(l)-2] != '\r' {
		return dst, fmt.Errorf("%w: %q", ErrProtocol, l)
	}
	dst = append(dst, l...)
	body := l[1 : len(l)-2]
	switch Kind(l[0]) {
	case KindBulk, KindVerbatim, KindBlobError:
		n, ok := parseInt(body)
		if !ok || n < -1 || n > MaxReplyBulk {
			return dst, fmt.Errorf("%w: length %q", ErrProtocol, body)
		}
		if n >= 0 {
			start := len(dst)
			dst = append(dst, make([]byte, n+2)...)
			if _, err := io.ReadFull(r.br, dst[start:]); err != nil {
				return dst, err
			}
		}
	case KindArray, KindSet, KindPush, KindMap, KindAttribute:
		n, ok := parseInt(body)
		if !ok || n < -1 {
			return dst, fmt.Errorf("%w: length %q", ErrProtocol, body)
		}
		if Kind(l[0]) == KindMap || Kind(l[0]) == KindAttribute {
			n *= 2
		}
		for i := int64(0); i < n; i++ {
			if dst, err = r.ReadRaw(dst); err != nil {
				return dst, err
			}
		}
		if Kind(l[0]) == KindAttribute {
			return r.ReadRaw(dst)
		}
	case KindSimple, KindError, KindInt, KindNull, KindDouble, KindBool, KindBigNumber:
	default:
		return dst, fmt.Errorf("%w: type %q", ErrProtocol, l[0])
	}
	return dst, nil
}

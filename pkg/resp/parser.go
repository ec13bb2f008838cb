package resp

import (
	"bytes"
	"errors"
	"io"
)

// Limits Redis applies to requests, with Redis's names and defaults.
const (
	// DefaultMaxBulkLen is proto-max-bulk-len: the largest bulk argument.
	DefaultMaxBulkLen = 512 << 20
	// DefaultMaxQueryBuffer is client-query-buffer-limit: the most a client
	// may have buffered in one unfinished request.
	DefaultMaxQueryBuffer = 1 << 30
	// MaxInlineSize bounds an inline request line and the count line of a
	// multibulk request (PROTO_INLINE_MAX_SIZE in Redis).
	MaxInlineSize = 64 << 10
	// UnauthMaxArgs and UnauthMaxBulkLen are the limits for a client that
	// has not authenticated while a password is required.
	UnauthMaxArgs    = 10
	UnauthMaxBulkLen = 16384

	minRead    = 16 << 10 // the initial buffer and the least free space a read gets
	shrinkOver = 64 << 10 // a buffer grown past this is dropped once idle
	maxArgs    = 1<<31 - 1
	longStrLen = 21 // string2ll refuses strings this long
)

// ProtocolError is a request the server must refuse: Redis replies
// "-ERR " + Msg and closes the connection after the reply.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return e.Msg }

// ErrQueryBufferLimit means a client's unfinished request outgrew
// client-query-buffer-limit. Redis closes such a client without a reply.
var ErrQueryBufferLimit = errors.New("client reached max query buffer length")

var (
	errTooBigInline    = &ProtocolError{"Protocol error: too big inline request"}
	errUnbalanced      = &ProtocolError{"Protocol error: unbalanced quotes in request"}
	errTooBigMbulk     = &ProtocolError{"Protocol error: too big mbulk count string"}
	errInvalidMbulk    = &ProtocolError{"Protocol error: invalid multibulk length"}
	errUnauthMbulk     = &ProtocolError{"Protocol error: unauthenticated multibulk length"}
	errTooBigBulkCount = &ProtocolError{"Protocol error: too big bulk count string"}
	errInvalidBulk     = &ProtocolError{"Protocol error: invalid bulk length"}
	errUnauthBulk      = &ProtocolError{"Protocol error: unauthenticated bulk length"}
)

// span locates one argument relative to the start of the request.
type span struct{ off, n int }

// Parser reads requests from one client connection.
//
// The parser owns one buffer. Fill fills it; Next returns the next
// complete request as argument slices that point into that buffer (or,
// for inline requests with escapes, into a scratch buffer the parser also
// owns). Those slices, and the [][]byte that holds them, stay valid only
// until the next call to Fill or Reset: a caller that keeps an argument
// longer (a queued MULTI command, a stored value) must copy it. Next never
// reads; call it until it returns nil, then Fill again.
//
// Memory is bounded: the buffered bytes of an unfinished request, counted
// with its bookkeeping, never exceed MaxQueryBuffer, and a declared bulk
// length is never allocated before its bytes arrive.
type Parser struct {
	// MaxBulkLen is proto-max-bulk-len (DefaultMaxBulkLen when 0).
	MaxBulkLen int64
	// MaxQueryBuffer is client-query-buffer-limit (DefaultMaxQueryBuffer
	// when 0).
	MaxQueryBuffer int
	// Unauthenticated applies Redis's tighter limits for a client that has
	// not authenticated while a password is required: at most 10 arguments
	// and 16384-byte bulks.
	Unauthenticated bool

	buf   []byte
	r, w  int // unread bytes are buf[r:w]
	batch int // unread bytes right after the last Fill

	// A multibulk request in progress; offsets are relative to buf[r].
	inMulti   bool
	remaining int // arguments still to read
	bulkLen   int // length of the argument being read, -1 before its header
	pos       int // where parsing continues
	// scan is how far the current line has been searched for its end, so
	// that a line arriving byte by byte is not searched again from its
	// start each time.
	scan  int
	spans []span

	args   [][]byte
	inline []byte // unescaped inline arguments
}

// Reset drops any buffered input and partial request, keeping the limits,
// and releases a buffer that grew large; the parser can be reused for
// another connection.
func (p *Parser) Reset() {
	p.r, p.w = 0, 0
	p.inMulti = false
	p.scan = 0
	p.spans = p.spans[:0]
	p.args = p.args[:0]
	if cap(p.buf) > shrinkOver {
		p.buf = nil
	}
	if cap(p.spans) > 1024 {
		p.spans = nil
		p.args = nil
	}
	if cap(p.inline) > shrinkOver {
		p.inline = nil
	}
}

// Buffered is the number of bytes read but not yet returned by Next.
func (p *Parser) Buffered() int { return p.w - p.r }

// Pending reports whether a request has been started but not completed.
func (p *Parser) Pending() bool { return p.w > p.r }

// BufferCap is the size of the parser's input buffer, for memory reports
// (CLIENT LIST qbuf).
func (p *Parser) BufferCap() int { return cap(p.buf) }

func (p *Parser) maxQuery() int {
	if p.MaxQueryBuffer > 0 {
		return p.MaxQueryBuffer
	}
	return DefaultMaxQueryBuffer
}

func (p *Parser) maxBulk() int64 {
	if p.MaxBulkLen > 0 {
		return p.MaxBulkLen
	}
	return DefaultMaxBulkLen
}

// Fill reads once from rd into the buffer (one Read call, so that a
// server replies to what it has before it blocks again). It invalidates
// the arguments Next returned before. It returns ErrQueryBufferLimit,
// without reading, when the unfinished request has outgrown the limit.
func (p *Parser) Fill(rd io.Reader) (int, error) {
	if err := p.prepare(); err != nil {
		return 0, err
	}
	n, err := rd.Read(p.buf[p.w:])
	p.w += n
	p.batch = p.w - p.r
	return n, err
}

// prepare checks the limit and makes room for the next read.
func (p *Parser) prepare() error {
	if p.r == p.w {
		p.r, p.w = 0, 0
		if cap(p.buf) > shrinkOver {
			p.buf = nil // a big request is done: give its memory back
		}
	}
	if p.w-p.r+len(p.spans)*16 > p.maxQuery() {
		return ErrQueryBufferLimit
	}
	want := minRead
	if p.inMulti && p.bulkLen >= 0 {
		// Reading a bulk: make room for the rest of it at once, but only
		// up to what the limit allows and never more than 4x what has
		// arrived, so that a declared length alone allocates little.
		need := p.pos + p.bulkLen + 2 - (p.w - p.r)
		if need > want {
			want = min(need, max(minRead, 4*(p.w-p.r)))
		}
	}
	if cap(p.buf)-p.w < want {
		if p.r > 0 && cap(p.buf)-(p.w-p.r) >= want {
			p.w = copy(p.buf[:cap(p.buf)], p.buf[p.r:p.w])
			p.r = 0
		} else {
			nb := make([]byte, max(2*cap(p.buf), p.w-p.r+want, minRead))
			p.w = copy(nb, p.buf[p.r:p.w])
			p.r = 0
			p.buf = nb
		}
	}
	p.buf = p.buf[:cap(p.buf)]
	return nil
}

// Full reports whether the last Fill filled the buffer, so the reader
// may hold more.
func (p *Parser) Full() bool { return p.buf != nil && p.w == len(p.buf) }

// Idle reports whether the parser holds no unread input and no partial
// request, so its buffer can be given back while the client is idle.
func (p *Parser) Idle() bool { return p.r == p.w && !p.inMulti }

// TakeBuffer removes the parser's buffer and returns it (nil if it has
// none), for the caller to pool while the connection is idle; call it only
// when Idle. The next Fill or Feed gets a buffer from SetBuffer or
// allocates one.
func (p *Parser) TakeBuffer() []byte {
	b := p.buf
	p.buf = nil
	p.r, p.w = 0, 0
	return b
}

// SetBuffer gives the parser b as its (empty) buffer; call it only when
// Idle and the parser has no buffer.
func (p *Parser) SetBuffer(b []byte) {
	if p.buf == nil && p.r == p.w {
		p.buf = b[:0]
	}
}

// HasBuffer reports whether the parser holds a buffer.
func (p *Parser) HasBuffer() bool { return p.buf != nil }

// BatchLen is the number of unread bytes the buffer held right after the
// last Fill: the batch being processed (CLIENT LIST's qbuf while a command
// of it runs, as Redis reports it).
func (p *Parser) BatchLen() int { return p.batch }

// Feed appends data to the buffer as if it had been read; for tests and
// callers that receive bytes by other means. Like Fill it invalidates
// earlier arguments.
func (p *Parser) Feed(data []byte) error {
	for len(data) > 0 {
		if err := p.prepare(); err != nil {
			return err
		}
		n := copy(p.buf[p.w:], data)
		p.w += n
		p.batch = p.w - p.r
		data = data[n:]
	}
	return nil
}

// Next returns the next complete request in the buffer, nil when more
// input is needed, or an error that ends the connection (a
// *ProtocolError to report to the client). Empty requests (a blank inline
// line, "*0" or "*-1") are skipped, as Redis does.
func (p *Parser) Next() ([][]byte, error) {
	for p.r < p.w {
		var args [][]byte
		var done bool
		var err error
		if p.inMulti || p.buf[p.r] == '*' {
			args, done, err = p.multibulk()
		} else {
			args, done, err = p.inlineRequest()
		}
		if err != nil || !done {
			return nil, err
		}
		if len(args) > 0 {
			return args, nil
		}
	}
	return nil, nil
}

// multibulk parses "*N\r\n$len\r\ndata\r\n..."; done is false when more
// input is needed.
func (p *Parser) multibulk() (args [][]byte, done bool, err error) {
	data := p.buf[p.r:p.w]
	if !p.inMulti {
		nl := p.lineEnd(data, '\r')
		if nl < 0 {
			if len(data) > MaxInlineSize {
				return nil, false, errTooBigMbulk
			}
			return nil, false, nil
		}
		if nl > len(data)-2 {
			return nil, false, nil // the \n has not arrived
		}
		p.scan = 0
		n, ok := parseInt(data[1:nl])
		if !ok || n > maxArgs {
			return nil, false, errInvalidMbulk
		}
		if n > UnauthMaxArgs && p.Unauthenticated {
			return nil, false, errUnauthMbulk
		}
		if n <= 0 {
			p.r += nl + 2
			return nil, true, nil
		}
		p.inMulti = true
		p.remaining = int(n)
		p.bulkLen = -1
		p.pos = nl + 2
		p.spans = p.spans[:0]
	}
	for p.remaining > 0 {
		if p.bulkLen < 0 {
			rest := data[p.pos:]
			nl := p.lineEnd(rest, '\r')
			if nl < 0 {
				if len(rest) > MaxInlineSize {
					return nil, false, errTooBigBulkCount
				}
				return nil, false, nil
			}
			if nl > len(rest)-2 {
				return nil, false, nil
			}
			p.scan = 0
			if rest[0] != '$' {
				return nil, false, &ProtocolError{"Protocol error: expected '$', got '" + string(rest[0:1]) + "'"}
			}
			n, ok := parseInt(rest[1:nl])
			if !ok || n < 0 || n > p.maxBulk() {
				return nil, false, errInvalidBulk
			}
			if n > UnauthMaxBulkLen && p.Unauthenticated {
				return nil, false, errUnauthBulk
			}
			p.pos += nl + 2
			p.bulkLen = int(n)
		}
		if len(data)-p.pos < p.bulkLen+2 {
			return nil, false, nil
		}
		// Like Redis, the two bytes after the data are skipped unchecked.
		p.spans = append(p.spans, span{p.pos, p.bulkLen})
		p.pos += p.bulkLen + 2
		p.bulkLen = -1
		p.remaining--
	}
	p.inMulti = false
	args = p.args[:0]
	for _, s := range p.spans {
		args = append(args, data[s.off:s.off+s.n:s.off+s.n])
	}
	p.args = args
	p.r += p.pos
	return args, true, nil
}

// inlineRequest parses one line of space-separated words with Redis's
// quoting rules (redis-cli and telnet style).
func (p *Parser) inlineRequest() (args [][]byte, done bool, err error) {
	data := p.buf[p.r:p.w]
	nl := p.lineEnd(data, '\n')
	if nl < 0 {
		if len(data) > MaxInlineSize {
			return nil, false, errTooBigInline
		}
		return nil, false, nil
	}
	p.scan = 0
	line := data[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, err = p.splitInline(line)
	if err != nil {
		return nil, false, err
	}
	p.r += nl + 1
	return args, true, nil
}

// lineEnd finds c in line, starting where the last search of this line
// stopped.
func (p *Parser) lineEnd(line []byte, c byte) int {
	if p.scan > len(line) {
		p.scan = 0
	}
	i := bytes.IndexByte(line[p.scan:], c)
	if i < 0 {
		p.scan = len(line)
		return -1
	}
	i += p.scan
	p.scan = i
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// splitInline splits line into arguments the way Redis's sdssplitargs
// does: words, "double quotes" with \n \r \t \b \a \xHH escapes, 'single
// quotes' with \' only. A NUL byte ends the line, as in C. Plain words point
// into the input buffer; quoted ones are unescaped into p.inline.
func (p *Parser) splitInline(line []byte) ([][]byte, error) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	args := p.args[:0]
	p.inline = p.inline[:0]
	// Quoted words are appended to p.inline, which may move while
	// growing: record their spans and slice at the end.
	p.spans = p.spans[:0]
	type word struct {
		quoted bool
		start  int
		end    int
	}
	var words [16]word
	ws := words[:0]
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			break
		}
		if line[i] != '"' && line[i] != '\'' {
			start := i
			for i < len(line) && line[i] != ' ' && line[i] != '\n' && line[i] != '\r' && line[i] != '\t' && line[i] != '"' && line[i] != '\'' {
				i++
			}
			if i >= len(line) || line[i] == ' ' || line[i] == '\n' || line[i] == '\r' || line[i] == '\t' {
				ws = append(ws, word{false, start, i})
				continue
			}
			// A quote inside a word: fall back to the general form.
			i = start
		}
		start := len(p.inline)
		inq, insq := false, false
		for done := false; !done; {
			switch {
			case inq:
				switch {
				case i >= len(line):
					return nil, errUnbalanced
				case line[i] == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					hi, _ := hexVal(line[i+2])
					lo, _ := hexVal(line[i+3])
					p.inline = append(p.inline, hi<<4|lo)
					i += 3
				case line[i] == '\\' && i+1 < len(line):
					i++
					c := line[i]
					switch c {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					}
					p.inline = append(p.inline, c)
				case line[i] == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errUnbalanced
					}
					done = true
				default:
					p.inline = append(p.inline, line[i])
				}
			case insq:
				switch {
				case i >= len(line):
					return nil, errUnbalanced
				case line[i] == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					p.inline = append(p.inline, '\'')
				case line[i] == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errUnbalanced
					}
					done = true
				default:
					p.inline = append(p.inline, line[i])
				}
			default:
				if i >= len(line) {
					done = true
					break
				}
				switch line[i] {
				case ' ', '\n', '\r', '\t':
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					p.inline = append(p.inline, line[i])
				}
			}
			if i < len(line) {
				i++
			}
		}
		ws = append(ws, word{true, start, len(p.inline)})
	}
	for _, w := range ws {
		if w.quoted {
			args = append(args, p.inline[w.start:w.end:w.end])
		} else {
			args = append(args, line[w.start:w.end:w.end])
		}
	}
	p.args = args
	return args, nil
}

func isHex(c byte) bool { _, ok := hexVal(c); return ok }

// parseInt parses a decimal integer exactly as Redis's string2ll does: no
// sign but a leading '-', no leading zeros, no spaces, at most 20 bytes.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) >= longStrLen {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v *= 10
		if v > 1<<64-1-d {
			return 0, false
		}
		v += d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// ParseInt parses b as Redis parses integer arguments (string2ll): the
// canonical decimal form only.
func ParseInt(b []byte) (int64, bool) { return parseInt(b) }

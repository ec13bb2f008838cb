package cached

import (
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/anvilstack/anvil/pkg/resp"
)

// Argument helpers shared by the command families.

// ParseInt parses an integer argument as Redis does (canonical decimal
// only).
func ParseInt(b []byte) (int64, bool) { return resp.ParseInt(b) }

// IntArg parses args[i] as an integer, replying Redis's error when it is
// not one.
func (c *Client) IntArg(b []byte) (int64, bool) {
	n, ok := resp.ParseInt(b)
	if !ok {
		c.ReplyError(ErrNotInt)
	}
	return n, ok
}

// ParseFloat parses a float argument as Redis's strtod-based parsing does:
// no leading space, no trailing garbage, no NaN; "inf" and "-inf" are
// accepted.
func ParseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || isSpaceByte(b[0]) || strings.ContainsRune(unsafeString(b), '_') {
		return 0, false
	}
	f, err := strconv.ParseFloat(unsafeString(b), 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// FloatArg parses a float argument, replying "value is not a valid float".
func (c *Client) FloatArg(b []byte) (float64, bool) {
	f, ok := ParseFloat(b)
	if !ok {
		c.ReplyError(ErrNotFloat)
	}
	return f, ok
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// unsafeString views b as a string without copying; only for immediate use.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// EqualFold reports whether arg equals the ASCII word w (lowercase),
// ignoring case.
func EqualFold(arg []byte, w string) bool {
	if len(arg) != len(w) {
		return false
	}
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// FormatFloatHuman formats f as Redis formats INCRBYFLOAT results and
// float values it stores: plain decimal without an exponent, shortest
// form that reads back the same.
func FormatFloatHuman(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0')
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// GlobMatch reports whether s matches the glob pattern as Redis's
// stringmatchlen does: * ? [abc] [^a] [a-z] and \ escapes; nocase folds
// ASCII case. Like Redis it gives up on a '*' once the rest of the pattern
// cannot match anywhere, so no pattern takes exponential time.
func GlobMatch(pattern, s []byte, nocase bool) bool {
	skip := false
	return globMatch(pattern, s, nocase, &skip)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func eqByte(a, b byte, nocase bool) bool {
	if nocase {
		return lower(a) == lower(b)
	}
	return a == b
}

func globMatch(p, s []byte, nocase bool, skipLonger *bool) bool {
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if globMatch(p[1:], s, nocase, skipLonger) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) >= 2 && p[0] == '\\' {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if len(p) > 0 && p[0] == ']' {
					break
				} else if len(p) == 0 {
					// an unterminated class: it ends the pattern
					p = []byte{0}
					break
				} else if len(p) >= 3 && p[1] == '-' {
					start, end, c := p[0], p[2], s[0]
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				} else if eqByte(p[0], s[0], nocase) {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if !eqByte(p[0], s[0], nocase) {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

package zset

import (
	"math"
	"strconv"
	"unsafe"
)

// Number and range parsing with the rules of Redis's C code, which relies
// on the C library's strtod: leading white space, hexadecimal floats,
// "inf"/"infinity" and a partial parse that the caller then judges.

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if lowerByte(b[i]) != p[i] {
			return false
		}
	}
	return true
}

func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// Strtod parses the longest prefix of b that the C library's strtod
// accepts (in the C locale). It returns the value, the bytes consumed (0
// when nothing was converted) and whether the result overflowed or
// underflowed to zero (C's ERANGE in the cases Redis rejects).
func Strtod(b []byte) (f float64, n int, erange bool) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	rest := b[i:]
	switch {
	case hasPrefixFold(rest, "inf"):
		n = i + 3
		if hasPrefixFold(rest, "infinity") {
			n = i + 8
		}
		f = math.Inf(1)
		if neg {
			f = -f
		}
		return f, n, false
	case hasPrefixFold(rest, "nan"):
		n = i + 3
		if n < len(b) && b[n] == '(' {
			j := n + 1
			for j < len(b) && (isDigit(b[j]) || (lowerByte(b[j]) >= 'a' && lowerByte(b[j]) <= 'z') || b[j] == '_') {
				j++
			}
			if j < len(b) && b[j] == ')' {
				n = j + 1
			}
		}
		return math.NaN(), n, false
	}
	// Hexadecimal: 0x, then hex digits with an optional point, then an
	// optional binary exponent.
	if len(rest) >= 2 && rest[0] == '0' && lowerByte(rest[1]) == 'x' {
		j := 2
		digits := 0
		nonzero := false
		for j < len(rest) && isHex(rest[j]) {
			nonzero = nonzero || rest[j] != '0'
			j++
			digits++
		}
		if j < len(rest) && rest[j] == '.' {
			k := j + 1
			for k < len(rest) && isHex(rest[k]) {
				nonzero = nonzero || rest[k] != '0'
				k++
				digits++
			}
			if digits > 0 {
				j = k
			}
		}
		if digits > 0 {
			mant := j
			if j < len(rest) && lowerByte(rest[j]) == 'p' {
				k := j + 1
				if k < len(rest) && (rest[k] == '+' || rest[k] == '-') {
					k++
				}
				if k < len(rest) && isDigit(rest[k]) {
					for k < len(rest) && isDigit(rest[k]) {
						k++
					}
					j = k
				}
			}
			text := string(b[start : i+mant])
			if j > mant {
				text += string(rest[mant:j])
			} else {
				text += "p0"
			}
			return finish(text, i+j, nonzero)
		}
		// "0x" without digits: strtod takes the "0".
		return finish(string(b[start:i+1]), i+1, false)
	}
	j := 0
	digits := 0
	nonzero := false
	for j < len(rest) && isDigit(rest[j]) {
		nonzero = nonzero || rest[j] != '0'
		j++
		digits++
	}
	if j < len(rest) && rest[j] == '.' {
		k := j + 1
		for k < len(rest) && isDigit(rest[k]) {
			nonzero = nonzero || rest[k] != '0'
			k++
			digits++
		}
		if digits > 0 {
			j = k
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if j < len(rest) && lowerByte(rest[j]) == 'e' {
		k := j + 1
		if k < len(rest) && (rest[k] == '+' || rest[k] == '-') {
			k++
		}
		if k < len(rest) && isDigit(rest[k]) {
			for k < len(rest) && isDigit(rest[k]) {
				k++
			}
			j = k
		}
	}
	return finish(string(b[start:i+j]), i+j, nonzero)
}

func finish(text string, n int, nonzero bool) (float64, int, bool) {
	f, err := strconv.ParseFloat(text, 64)
	erange := err != nil || math.IsInf(f, 0) || (f == 0 && nonzero)
	return f, n, erange
}

// ParseScore parses a score, weight or coordinate as Redis's
// getDoubleFromObject does: the whole argument must be a number, without
// leading space, not NaN, not out of a double's range ("inf" is fine).
func ParseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isSpace(b[0]) {
		return 0, false
	}
	f, n, erange := Strtod(b)
	if n != len(b) || erange || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// ScoreRange is a score interval of ZRANGEBYSCORE and friends.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool // exclusive bounds
}

// GteMin reports whether v is above the lower bound.
func (r *ScoreRange) GteMin(v float64) bool {
	if r.MinEx {
		return v > r.Min
	}
	return v >= r.Min
}

// LteMax reports whether v is below the upper bound.
func (r *ScoreRange) LteMax(v float64) bool {
	if r.MaxEx {
		return v < r.Max
	}
	return v <= r.Max
}

// Contains reports whether v is in the range.
func (r *ScoreRange) Contains(v float64) bool { return r.GteMin(v) && r.LteMax(v) }

func (r *ScoreRange) empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

// parseBound is one bound of zslParseRange: "(" makes it exclusive; the
// number is strtod's and may end at a NUL byte.
func parseBound(b []byte) (float64, bool, bool) {
	ex := false
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	f, n, _ := Strtod(b)
	if (n != len(b) && b[n] != 0) || math.IsNaN(f) {
		return 0, false, false
	}
	return f, ex, true
}

// ParseScoreRange parses min and max as Redis's zslParseRange does.
func ParseScoreRange(min, max []byte) (ScoreRange, bool) {
	var r ScoreRange
	var ok bool
	if r.Min, r.MinEx, ok = parseBound(min); !ok {
		return r, false
	}
	if r.Max, r.MaxEx, ok = parseBound(max); !ok {
		return r, false
	}
	return r, true
}

// LexBound is one end of a lexicographic range: "-", "+", or a member
// with "[" (inclusive) or "(" (exclusive).
type LexBound struct {
	Inf   int8 // -1 for "-", +1 for "+", 0 for Value
	Value string
	Ex    bool
}

// LexRange is a member interval of ZRANGEBYLEX and friends.
type LexRange struct{ Min, Max LexBound }

// cmpLex compares two bounds as Redis's sdscmplex does, with "-" and "+"
// below and above every string.
func cmpLex(a, b *LexBound) int {
	if a.Inf != 0 && a.Inf == b.Inf {
		return 0
	}
	if a.Inf < 0 || b.Inf > 0 {
		return -1
	}
	if a.Inf > 0 || b.Inf < 0 {
		return 1
	}
	switch {
	case a.Value < b.Value:
		return -1
	case a.Value > b.Value:
		return 1
	}
	return 0
}

// cmpMember compares a member with a bound.
func cmpMember(m string, b *LexBound) int {
	if b.Inf != 0 {
		return -int(b.Inf)
	}
	switch {
	case m < b.Value:
		return -1
	case m > b.Value:
		return 1
	}
	return 0
}

// GteMin reports whether m is above the lower bound.
func (r *LexRange) GteMin(m string) bool {
	if r.Min.Ex {
		return cmpMember(m, &r.Min) > 0
	}
	return cmpMember(m, &r.Min) >= 0
}

// LteMax reports whether m is below the upper bound.
func (r *LexRange) LteMax(m string) bool {
	if r.Max.Ex {
		return cmpMember(m, &r.Max) < 0
	}
	return cmpMember(m, &r.Max) <= 0
}

// Contains reports whether member m is in the range.
func (r *LexRange) Contains(m string) bool { return r.GteMin(m) && r.LteMax(m) }

func (r *LexRange) empty() bool {
	c := cmpLex(&r.Min, &r.Max)
	return c > 0 || (c == 0 && (r.Min.Ex || r.Max.Ex))
}

func parseLexBound(b []byte) (LexBound, bool) {
	if len(b) == 0 {
		return LexBound{}, false
	}
	switch b[0] {
	case '+':
		return LexBound{Inf: 1, Ex: true}, len(b) == 1 || b[1] == 0
	case '-':
		return LexBound{Inf: -1, Ex: true}, len(b) == 1 || b[1] == 0
	case '(':
		return LexBound{Value: string(b[1:]), Ex: true}, true
	case '[':
		return LexBound{Value: string(b[1:])}, true
	}
	return LexBound{}, false
}

// ParseLexRange parses min and max as Redis's zslParseLexRange does.
func ParseLexRange(min, max []byte) (LexRange, bool) {
	var r LexRange
	var ok bool
	if r.Min, ok = parseLexBound(min); !ok {
		return r, false
	}
	if r.Max, ok = parseLexBound(max); !ok {
		return r, false
	}
	return r, true
}

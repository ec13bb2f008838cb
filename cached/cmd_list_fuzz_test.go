package cached

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/anvilstack/anvil/pkg/resp"
)

// listFuzzCommands are the list commands whose argument parsing
// FuzzListArgs drives (the blocking ones would wait).
var listFuzzCommands = []string{"LPOS", "LMPOP", "LRANGE", "LINDEX", "LSET", "LINSERT", "LREM", "LTRIM",
	"LPOP", "RPOP", "LMOVE", "RPOPLPUSH", "LPUSH", "RPUSHX"}

// lposModel is LPOS as Redis's t_list.c defines it, written plainly over
// a slice: the oracle for the fuzz target. It returns the expected reply
// as text ("nil", "[]int", an int, or "error").
func lposModel(list []string, args []string) string {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 2; j < len(args); j++ {
		more := j+1 < len(args)
		opt := strings.ToLower(args[j])
		if !more || (opt != "rank" && opt != "count" && opt != "maxlen") {
			return "error"
		}
		j++
		n, ok := ParseInt([]byte(args[j]))
		if !ok {
			return "error"
		}
		switch opt {
		case "rank":
			if n == 0 {
				return "error"
			}
			rank = n
		case "count":
			if n < 0 {
				return "error"
			}
			count = n
		case "maxlen":
			if n < 0 {
				return "error"
			}
			maxlen = n
		}
	}
	reverse := rank < 0
	if reverse {
		rank = max(-rank, 1)
	}
	var found []int
	matches := int64(0)
	for i := 0; i < len(list) && (maxlen == 0 || int64(i) < maxlen); i++ {
		idx := i
		if reverse {
			idx = len(list) - 1 - i
		}
		if list[idx] != args[1] {
			continue
		}
		matches++
		if matches < rank {
			continue
		}
		found = append(found, idx)
		if count == -1 || (count != 0 && int64(len(found)) >= count) {
			break
		}
	}
	if count == -1 {
		if len(found) == 0 {
			return "nil"
		}
		return strconv.Itoa(found[0])
	}
	return fmt.Sprint(found)
}

// FuzzListArgs feeds arbitrary arguments to the list commands (LPOS's
// RANK/COUNT/MAXLEN, LMPOP's numkeys/direction/COUNT, indexes, pivots
// ...) against a short and a long list: every command answers exactly
// one well-formed reply and never panics, LPOS answers what a plain model
// of Redis's LPOS answers, LMPOP pops what it says from the first
// non-empty list, and the lists stay consistent.
func FuzzListArgs(f *testing.F) {
	for _, seed := range []string{
		"\x00l\x00c", "\x00l\x00c\x00RANK\x00-1\x00COUNT\x000", "\x00big\x00x3\x00MAXLEN\x0050\x00RANK\x002\x00COUNT\x002",
		"\x00l\x00c\x00RANK\x00-9223372036854775808", "\x00l\x00c\x00COUNT", "\x00l\x00c\x00RANK\x000",
		"\x012\x00nol\x00l\x00LEFT\x00COUNT\x003", "\x011\x00big\x00RIGHT", "\x019223372036854775807\x00l\x00left",
		"\x010\x00l\x00left", "\x012\x00str\x00l\x00left", "\x011\x00l\x00left\x00count\x001\x00count\x002",
		"\x02big\x00-5\x00100", "\x03big\x00-9223372036854775808", "\x04big\x00250\x00v",
		"\x05l\x00AFTER\x00c\x00new", "\x06big\x00-2\x00x1", "\x07big\x003\x00-3", "\x08l\x003",
		"\x0al\x00big\x00RIGHT\x00LEFT",
	} {
		f.Add(seed)
	}
	s := benchServer(f)
	conn := &zsetCaptureConn{}
	c := s.newClient(conn)
	run := func(t *testing.T, args ...string) string {
		conn.out.Reset()
		runBatch(t, c, resp.AppendCommandString(nil, args...))
		return conn.out.String()
	}
	small := []string{"a", "b", "c", "1", "2", "3", "c", "c"}
	var big []string
	for i := range 300 {
		big = append(big, "x"+strconv.Itoa(i%7))
	}
	contents := func(t *testing.T, key string) []string {
		v, err := resp.NewReader(strings.NewReader(run(t, "LRANGE", key, "0", "-1"))).ReadValue()
		if err != nil || v.Kind == resp.KindError {
			return nil
		}
		var out []string
		for _, e := range v.Elems {
			out = append(out, string(e.Str))
		}
		return out
	}
	f.Fuzz(func(t *testing.T, in string) {
		if in == "" {
			return
		}
		cmd := listFuzzCommands[int(in[0])%len(listFuzzCommands)]
		args := append([]string{cmd}, strings.Split(in[1:], "\x00")...)
		run(t, "FLUSHALL")
		run(t, append([]string{"RPUSH", "l"}, small...)...)
		run(t, append([]string{"RPUSH", "big"}, big...)...)
		run(t, "SET", "str", "v")
		out := run(t, args...)
		r := resp.NewReader(strings.NewReader(out))
		v, err := r.ReadValue()
		if err != nil {
			t.Fatalf("%q: unreadable reply %q: %v", args, out, err)
		}
		if _, err := r.ReadValue(); err == nil {
			t.Fatalf("%q: more than one reply in %q", args, out)
		}
		if v.Kind == resp.KindError && strings.Contains(v.String(), "internal error") {
			t.Fatalf("%q: %s", args, v.String())
		}
		switch cmd {
		case "LPOS":
			if len(args) < 3 {
				return // the dispatcher's arity error
			}
			var list []string
			switch args[1] {
			case "l":
				list = small
			case "big":
				list = big
			case "str":
				return // WRONGTYPE, after the options are parsed
			}
			want := lposModel(list, args[1:])
			var have string
			switch {
			case v.Kind == resp.KindError:
				have = "error"
			case v.Kind == resp.KindNull:
				have = "nil"
			case v.Kind == resp.KindArray:
				var ns []string
				for _, e := range v.Elems {
					ns = append(ns, e.String())
				}
				have = "[" + strings.Join(ns, " ") + "]"
			default:
				have = v.String()
			}
			if args[1] != "l" && args[1] != "big" && want != "error" {
				// A missing key: null, or an empty array with COUNT.
				if have != "nil" && have != "[]" {
					t.Fatalf("%q on a missing key: %s", args, have)
				}
				return
			}
			if have != want {
				t.Fatalf("%q: %s, model says %s", args, have, want)
			}
		case "LMPOP":
			if v.Kind != resp.KindArray || len(v.Elems) != 2 {
				return
			}
			key := string(v.Elems[0].Str)
			var orig []string
			switch key {
			case "l":
				orig = small
			case "big":
				orig = big
			default:
				t.Fatalf("%q popped from %q", args, key)
			}
			popped := len(v.Elems[1].Elems)
			if left := contents(t, key); len(left)+popped != len(orig) {
				t.Fatalf("%q: popped %d of %d, %d left", args, popped, len(orig), len(left))
			}
		}
		for _, key := range []string{"l", "big", "nol"} {
			n := run(t, "LLEN", key)
			if want := ":" + strconv.Itoa(len(contents(t, key))) + "\r\n"; n != want && !strings.HasPrefix(n, "-WRONGTYPE") {
				t.Fatalf("%q: %s has LLEN %q but LRANGE returns %s", args, key, n, want)
			}
		}
	})
}

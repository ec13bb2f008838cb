package cached

import (
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/anvilstack/anvil/pkg/resp"
)

// TestSortEvents checks SORT's keyspace events and key modifications.
func TestSortEvents(t *testing.T) {
	l, c := startWithEventLog(t)
	for _, step := range []struct {
		cmd      []string
		events   []string
		modified []string
	}{
		{[]string{"RPUSH", "l", "2", "1"}, []string{"rpush l"}, []string{"l"}},
		{[]string{"SORT", "l"}, nil, nil},
		{[]string{"SORT", "l", "STORE", "d"}, []string{"sortstore d"}, []string{"d"}},
		{[]string{"SORT", "nokey", "STORE", "d"}, []string{"del d"}, []string{"d"}},
		{[]string{"SORT", "nokey", "STORE", "d"}, nil, nil},
		{[]string{"SORT_RO", "l"}, nil, nil},
	} {
		c.send(step.cmd...)
		if _, err := c.read(5 * time.Second); err != nil {
			t.Fatalf("%v: %v", step.cmd, err)
		}
		events, modified := l.take()
		if !slices.Equal(events, step.events) {
			t.Errorf("%v: events %q, want %q", step.cmd, events, step.events)
		}
		if !slices.Equal(slices.Compact(modified), step.modified) {
			t.Errorf("%v: modified %q, want %q", step.cmd, modified, step.modified)
		}
	}
}

// FuzzSortCommand builds SORT and SORT_RO command lines from the input
// (options, patterns, LIMIT values, malformed arguments) over a list, a
// set and a sorted set of small integers with weight keys and hashes,
// runs them through the whole command path and checks that the replies
// are well-formed and no command panicked. A SORT of the list without
// patterns is checked against a model (numeric or ALPHA order, DESC,
// LIMIT).
func FuzzSortCommand(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{9, 3, 3, 10, 1, 2, 11})
	f.Add([]byte{13, 4, 12, 7, 7, 5, 0, 1})
	words := []string{"ASC", "DESC", "ALPHA", "LIMIT", "BY", "GET", "STORE", "w_*", "h_*->f", "#", "nosort",
		"0", "1", "-1", "2", "5", "9223372036854775807", "-9223372036854775808", "x", "dst", "*", "h_*->", "l", "s", "z", "str"}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := benchServer(t)
		conn := &captureConn{}
		c := s.newClient(conn)
		var setup []byte
		elems := []string{"3", "1", "10", "2", "-4", "7"}
		for i, e := range elems {
			setup = resp.AppendCommandString(setup, "RPUSH", "l", e)
			setup = resp.AppendCommandString(setup, "SADD", "s", e)
			setup = resp.AppendCommandString(setup, "ZADD", "z", strconv.Itoa(i), e)
			setup = resp.AppendCommandString(setup, "SET", "w_"+e, strconv.Itoa(len(elems)-i))
			setup = resp.AppendCommandString(setup, "HSET", "h_"+e, "f", strconv.Itoa(i*7%5))
		}
		setup = resp.AppendCommandString(setup, "SET", "str", "x")
		runBatch(t, c, setup)
		conn.out.Reset()

		var batch []byte
		sent := 0
		for len(data) > 0 {
			n := int(data[0]) % 8
			data = data[1:]
			args := []string{"SORT", "l"}
			if n%2 == 1 {
				args[0] = "SORT_RO"
			}
			if len(data) > 0 {
				args[1] = []string{"l", "s", "z", "str", "nokey"}[int(data[0])%5]
				data = data[1:]
			}
			for ; n > 0 && len(data) > 0; n-- {
				args = append(args, words[int(data[0])%len(words)])
				data = data[1:]
			}
			batch = resp.AppendCommandString(batch, args...)
			sent++
		}
		runBatch(t, c, batch)
		checkReplies(t, conn.out.Bytes(), sent)

		// The model, for the list (STORE may have replaced it).
		v := fuzzDo(t, c, conn, "TYPE", "l")
		if string(v.Str) != "list" {
			return
		}
		v = fuzzDo(t, c, conn, "LRANGE", "l", "0", "-1")
		var list []string
		for _, e := range v.Elems {
			list = append(list, string(e.Str))
		}
		for _, alpha := range []bool{false, true} {
			for _, desc := range []bool{false, true} {
				start, count := int64(len(data)%4)-1, int64(len(list)%3)
				args := []string{"SORT", "l", "LIMIT", itoa(start), itoa(count)}
				if alpha {
					args = append(args, "ALPHA")
				}
				if desc {
					args = append(args, "DESC")
				}
				got := fuzzDo(t, c, conn, args...)
				want := sortModel(list, alpha, desc, start, count)
				if got.IsError() {
					if !alpha && want != nil {
						t.Fatalf("%v on %q: %s", args, list, got.String())
					}
					continue
				}
				var have []string
				for _, e := range got.Elems {
					have = append(have, string(e.Str))
				}
				if want == nil {
					want = []string{}
				}
				if have == nil {
					have = []string{}
				}
				if !slices.Equal(have, want) {
					t.Fatalf("%v on %q = %q, want %q", args, list, have, want)
				}
			}
		}
	})
}

// sortModel sorts list as SORT does without patterns; nil means a number
// did not parse (numeric mode).
func sortModel(list []string, alpha, desc bool, start, count int64) []string {
	s := slices.Clone(list)
	if alpha {
		sort.SliceStable(s, func(i, j int) bool { return s[i] < s[j] })
	} else {
		nums := map[string]float64{}
		for _, e := range s {
			f, err := strconv.ParseFloat(e, 64)
			if err != nil {
				return nil
			}
			nums[e] = f
		}
		sort.SliceStable(s, func(i, j int) bool {
			if nums[s[i]] != nums[s[j]] {
				return nums[s[i]] < nums[s[j]]
			}
			return s[i] < s[j]
		})
	}
	if desc {
		slices.Reverse(s)
	}
	n := int64(len(s))
	start = min(max(start, 0), n)
	if count < 0 || start+count > n {
		count = n - start
	}
	return s[start : start+count]
}

package kvd

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/anishathalye/porcupine"
)

// This file is the contract's KV semantics (CONTRACT.md, "kvd") as a
// porcupine model, for the linearizability tests of this package: the
// in-process nemesis test and the process-level one.

type opKind uint8

const (
	opGet opKind = iota
	opPut
	opCAS   // put with prev_revision
	opDel   // delete
	opDelIf // delete with prev_revision
)

// kvInput is one call.
type kvInput struct {
	kind  opKind
	key   string
	value string // opPut, opCAS: unique per call
	prev  uint64 // opCAS, opDelIf
}

// kvOutput is what the reply said.
type kvOutput struct {
	unknown bool   // timeout, 5xx, cut connection: may or may not have happened
	found   bool   // get: 200 (else 404)
	value   string // get
	rev     uint64 // get: Kv-Revision; writes: {"revision"}; 412: current revision
	ok      bool   // writes: 200 (else 412)
	deleted bool   // deletes
}

// kvState is one key. rev == 0 with exists or after an unknown write means
// "not known yet, but greater than floor"; a later reply teaches it.
type kvState struct {
	exists bool
	value  string
	rev    uint64
	floor  uint64
}

func (s kvState) bound() uint64 { return max(s.rev, s.floor) }

// revIs checks that the key's revision can be r, and learns it.
func (s kvState) revIs(r uint64) (kvState, bool) {
	if s.rev != 0 {
		return s, s.rev == r
	}
	if r <= s.floor {
		return s, false
	}
	s.rev, s.floor = r, 0
	return s, true
}

// casRev: what a compare-and-set compares with; known=false while the
// revision of an existing key is not known.
func (s kvState) casRev() (uint64, bool) {
	if !s.exists {
		return 0, true
	}
	return s.rev, s.rev != 0
}

func (s kvState) mayMatch(prev uint64) bool {
	cr, known := s.casRev()
	if known {
		return cr == prev
	}
	return prev > s.floor
}

func written(exists bool, value string, floor uint64) kvState {
	return kvState{exists: exists, value: value, floor: floor}
}

// kvStep is the sequential specification; it returns every state the call
// may leave (none: the output is impossible here).
func kvStep(s kvState, in kvInput, out kvOutput) []kvState {
	if out.unknown {
		if in.kind == opGet {
			return []kvState{s}
		}
		next := []kvState{s} // it never happened
		switch in.kind {
		case opPut:
			next = append(next, written(true, in.value, s.bound()))
		case opCAS:
			if s.mayMatch(in.prev) {
				next = append(next, written(true, in.value, max(s.bound(), in.prev)))
			}
		case opDel:
			if s.exists {
				next = append(next, written(false, "", s.bound()))
			}
		case opDelIf:
			if s.exists && s.mayMatch(in.prev) {
				next = append(next, written(false, "", max(s.bound(), in.prev)))
			}
		}
		return next
	}
	switch in.kind {
	case opGet:
		if !out.found {
			if s.exists {
				return nil
			}
			return []kvState{s}
		}
		if !s.exists || s.value != out.value {
			return nil
		}
		if n, ok := s.revIs(out.rev); ok {
			return []kvState{n}
		}
		return nil
	case opPut:
		if out.rev <= s.bound() {
			return nil
		}
		return []kvState{{exists: true, value: in.value, rev: out.rev}}
	case opCAS, opDelIf:
		if !out.ok { // 412 with the current revision
			if !s.exists {
				if out.rev != 0 || in.prev == 0 {
					return nil
				}
				return []kvState{s}
			}
			if out.rev == in.prev {
				return nil
			}
			if n, ok := s.revIs(out.rev); ok {
				return []kvState{n}
			}
			return nil
		}
		if in.kind == opDelIf && !out.deleted {
			// prev_revision=0 on an absent key: the precondition holds
			// and there is nothing to delete
			if s.exists || in.prev != 0 {
				return nil
			}
			return []kvState{s}
		}
		if !s.mayMatch(in.prev) || out.rev <= max(s.bound(), in.prev) {
			return nil
		}
		if in.kind == opCAS {
			return []kvState{{exists: true, value: in.value, rev: out.rev}}
		}
		if !s.exists || !out.deleted {
			return nil
		}
		return []kvState{{exists: false, rev: out.rev}}
	case opDel:
		if !s.exists {
			if out.deleted {
				return nil
			}
			return []kvState{s}
		}
		if !out.deleted || out.rev <= s.bound() {
			return nil
		}
		return []kvState{{exists: false, rev: out.rev}}
	}
	return nil
}

var kvModel = (&porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range h {
			k := op.Input.(kvInput).key
			byKey[k] = append(byKey[k], op)
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() []any { return []any{kvState{}} },
	Step: func(state, input, output any) []any {
		var out []any
		for _, n := range kvStep(state.(kvState), input.(kvInput), output.(kvOutput)) {
			out = append(out, n)
		}
		return out
	},
	Equal: func(a, b any) bool { return a.(kvState) == b.(kvState) },
	DescribeOperation: func(input, output any) string {
		in, o := input.(kvInput), output.(kvOutput)
		call := [...]string{"get", "put", "cas", "del", "delif"}[in.kind]
		if in.kind == opPut || in.kind == opCAS {
			call += "(" + in.value + ")"
		}
		if in.kind == opCAS || in.kind == opDelIf {
			call += fmt.Sprintf("[prev=%d]", in.prev)
		}
		switch {
		case o.unknown:
			return call + " -> ?"
		case in.kind == opGet && !o.found:
			return call + " -> 404"
		case in.kind == opGet:
			return fmt.Sprintf("%s -> %s@%d", call, o.value, o.rev)
		case !o.ok && (in.kind == opCAS || in.kind == opDelIf):
			return fmt.Sprintf("%s -> 412 cur=%d", call, o.rev)
		}
		return fmt.Sprintf("%s -> %d deleted=%v", call, o.rev, o.deleted)
	},
	DescribeState: func(state any) string {
		s := state.(kvState)
		if !s.exists {
			return fmt.Sprintf("absent@%d>%d", s.rev, s.floor)
		}
		return fmt.Sprintf("%s@%d>%d", s.value, s.rev, s.floor)
	},
}).ToModel()

// history records concurrent calls; unknown outcomes return "never" (after
// every other call), so the checker may place them anywhere after their call.
type history struct {
	mu   sync.Mutex
	ops  []porcupine.Operation
	tick int64
}

func (h *history) now() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tick++
	return h.tick
}

func (h *history) add(client int, in kvInput, out kvOutput, call int64) {
	ret := h.now()
	if out.unknown {
		ret = math.MaxInt64
	}
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret})
	h.mu.Unlock()
}

// operations returns the history with "never" replaced by a time after the
// last event.
func (h *history) operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	end := h.tick + 1
	out := append([]porcupine.Operation(nil), h.ops...)
	for i := range out {
		if out[i].Return == math.MaxInt64 {
			out[i].Return = end
		}
	}
	return out
}

package kvd

import (
	"testing"

	"github.com/anishathalye/porcupine"
)

// The model accepts linearizable histories and rejects the anomalies the
// nemesis tests look for, so a passing nemesis run means something.
func TestModelCatchesAnomalies(t *testing.T) {
	op := func(c int, call, ret int64, in kvInput, out kvOutput) porcupine.Operation {
		return porcupine.Operation{ClientId: c, Input: in, Output: out, Call: call, Return: ret}
	}
	put := func(v string) kvInput { return kvInput{kind: opPut, key: "k", value: v} }
	get := kvInput{kind: opGet, key: "k"}
	cases := []struct {
		name string
		ops  []porcupine.Operation
		want bool
	}{
		{"write then read", []porcupine.Operation{
			op(0, 1, 2, put("a"), kvOutput{ok: true, rev: 5}),
			op(1, 3, 4, get, kvOutput{found: true, value: "a", rev: 5}),
		}, true},
		{"stale read after an acknowledged write", []porcupine.Operation{
			op(0, 1, 2, put("a"), kvOutput{ok: true, rev: 5}),
			op(0, 3, 4, put("b"), kvOutput{ok: true, rev: 6}),
			op(1, 5, 6, get, kvOutput{found: true, value: "a", rev: 5}),
		}, false},
		{"lost acknowledged write", []porcupine.Operation{
			op(0, 1, 2, put("a"), kvOutput{ok: true, rev: 5}),
			op(1, 3, 4, get, kvOutput{found: false}),
		}, false},
		{"revision going back", []porcupine.Operation{
			op(0, 1, 2, put("a"), kvOutput{ok: true, rev: 5}),
			op(0, 3, 4, put("b"), kvOutput{ok: true, rev: 4}),
		}, false},
		{"unknown write seen later", []porcupine.Operation{
			op(0, 1, 10, put("a"), kvOutput{unknown: true}),
			op(1, 2, 3, get, kvOutput{found: true, value: "a", rev: 9}),
			op(1, 4, 5, kvInput{kind: opCAS, key: "k", value: "c", prev: 9}, kvOutput{ok: true, rev: 10}),
		}, true},
		{"unknown write never seen", []porcupine.Operation{
			op(0, 1, 10, put("a"), kvOutput{unknown: true}),
			op(1, 2, 3, get, kvOutput{found: false}),
		}, true},
		{"cas succeeding on a stale revision", []porcupine.Operation{
			op(0, 1, 2, put("a"), kvOutput{ok: true, rev: 5}),
			op(0, 3, 4, put("b"), kvOutput{ok: true, rev: 6}),
			op(1, 5, 6, kvInput{kind: opCAS, key: "k", value: "c", prev: 5}, kvOutput{ok: true, rev: 7}),
		}, false},
		{"412 reports the current revision", []porcupine.Operation{
			op(0, 1, 2, put("a"), kvOutput{ok: true, rev: 5}),
			op(1, 3, 4, kvInput{kind: opDelIf, key: "k", prev: 4}, kvOutput{ok: false, rev: 5}),
			op(1, 5, 6, kvInput{kind: opDel, key: "k"}, kvOutput{ok: true, deleted: true, rev: 8}),
			op(1, 7, 8, kvInput{kind: opCAS, key: "k", value: "z", prev: 0}, kvOutput{ok: true, rev: 9}),
		}, true},
		{"create-only delete of an absent key", []porcupine.Operation{
			op(1, 1, 2, kvInput{kind: opDelIf, key: "k", prev: 0}, kvOutput{ok: true, deleted: false}),
		}, true},
		{"a deleted key read back", []porcupine.Operation{
			op(0, 1, 2, put("a"), kvOutput{ok: true, rev: 5}),
			op(0, 3, 4, kvInput{kind: opDel, key: "k"}, kvOutput{ok: true, deleted: true, rev: 6}),
			op(1, 5, 6, get, kvOutput{found: true, value: "a", rev: 5}),
		}, false},
	}
	for _, c := range cases {
		if got := porcupine.CheckOperations(kvModel, c.ops); got != c.want {
			t.Errorf("%s: linearizable=%v, want %v", c.name, got, c.want)
		}
	}
}

// Package resp is Anvil's codec for the Redis serialization protocol (RESP2
// and RESP3).
//
// The server side is a [Parser]: an incremental, zero-copy request parser
// for multibulk and inline commands that enforces the limits Redis applies
// (proto-max-bulk-len, the multibulk length, the unauthenticated-client
// limits, client-query-buffer-limit) with Redis's exact error strings.
// Replies are built with the Append* functions, which append to a caller's
// buffer in the shape of strconv.Append*, for every RESP2 and RESP3 type; the
// RESP3-only types fall back to their RESP2 forms when given [Proto2].
//
// The client side is [AppendCommand] (a request encoder) and [Reader] (a
// reply reader that decodes into [Value] or copies one raw reply).
package resp

// Package store owns mcpdrift's persistent state in a single bbolt file:
// manifest documents (content-addressed), the observations a poll leaves
// behind, the append-only record of baselines and approvals, and the
// daemon's alert state, outbox and notifier threads.
//
// store stores manifest documents as opaque bytes keyed by their id,
// "sha256:" and the hex digest of the bytes; it never parses, diffs or judges
// them, never probes a server and never reads configuration. It does no
// logging: every failure is returned, wrapped, and names the file or server it
// concerns.
//
// bbolt lets one process hold a database at a time, so Open always waits a
// bounded time for the file lock and then fails with ErrLocked. A database
// that is not a readable bbolt file fails with ErrCorrupt, never a panic.
//
// # Bucket layout (schema version 2)
//
//	meta/
//	  schema_version          decimal ASCII, e.g. "2"
//	manifests/
//	  <sha256:hex id>         1 encoding byte (0 raw, 1 DEFLATE) + document
//	servers/
//	  <server name>/
//	    obs/                  one observation per poll, successful or not
//	      <uint64 BE seq>     compact binary observation (see codec.go)
//	    approvals/            append-only: nothing updates or deletes these
//	      <uint64 BE seq>     JSON approval record
//	    snap                  uint64 BE seq of the latest successful observation
//	    err                   uint64 BE seq of the latest failed observation
//	alerts/, outbox/, threads/   added by schema version 2: see alerts.go
//
// Sequence keys come from each bucket's NextSequence, so new records are
// appended at the right edge of the B+tree and pages fill completely; that is
// what keeps an unchanged poll to about 160 bytes of pages (see
// TestUnchangedPollGrowth).
//
// A missing meta bucket is schema version 0. Open runs the migrations from the
// stored version to the current one, one transaction per step, so adding a
// bucket means appending a migration that creates it (as version 2 did for
// alerts, outbox and threads).
//
// # Read-only and read-write methods
//
// Manifest, Observations, LatestObservation, LatestSnapshot, LastError,
// Baseline, Approvals, ResolveSnapshot, Servers, Check, WriteTo,
// SchemaVersion and Path only read, and work on a database opened with
// Options.ReadOnly. PutSnapshot, RecordFailure, Approve and Prune write and
// return ErrReadOnly on such a database.
package store

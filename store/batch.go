package store

import (
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// group gathers the writes that arrive while another one commits, so that
// they share the next commit.
type group struct {
	mu      sync.Mutex
	queue   []*groupCall
	leading bool      // a caller is committing the queue
	last    time.Time // when the last commit began
}

// While writes come in quick succession (the snapshots of a check of many
// servers), a commit waits groupLinger for company before it begins; a
// lone write commits at once.
const (
	groupLinger = 2 * time.Millisecond
	groupBurst  = 10 * time.Millisecond
)

type groupCall struct {
	fn   func(*bolt.Tx) error
	done chan error // buffered: the committer never waits
}

// batch runs fn in a write transaction it may share with writes from other
// goroutines (group commit): a lone caller commits at once, and the calls
// that arrive while it commits, or while it waits for company during a
// burst, are committed together, by one of them, with one wait for the
// disk. A check of many servers so waits for the disk a few times instead
// of once per server.
//
// bbolt's own Batch is not used: it runs the transaction on a goroutine of
// its own, outside DB.guard, where a fault on a damaged file kills the
// process instead of returning ErrCorrupt; and a lone call waits on a timer
// for company.
//
// fn may run more than once (alone again, when another call of its group
// failed), so it must change nothing but tx and its own results.
func (db *DB) batch(fn func(tx *bolt.Tx) error) error {
	if db.readOnly {
		return fmt.Errorf("write to database %s: %w", db.path, ErrReadOnly)
	}
	call := &groupCall{fn: fn, done: make(chan error, 1)}
	g := &db.group
	g.mu.Lock()
	g.queue = append(g.queue, call)
	if g.leading {
		g.mu.Unlock()
		return <-call.done
	}
	g.leading = true
	for len(g.queue) > 0 {
		if time.Since(g.last) < groupBurst {
			g.mu.Unlock()
			time.Sleep(groupLinger)
			g.mu.Lock()
		}
		calls := g.queue
		g.queue = nil
		g.last = time.Now()
		g.mu.Unlock()
		db.commitGroup(calls)
		g.mu.Lock()
	}
	g.leading = false
	g.mu.Unlock()
	return <-call.done
}

// commitGroup commits calls in one transaction and tells each the result.
// A call that fails is taken out and run alone, so that it gets its own
// error, and the others are committed without it.
func (db *DB) commitGroup(calls []*groupCall) {
	for len(calls) > 0 {
		failed := -1
		err := db.update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				failed = i
				if err := c.fn(tx); err != nil {
					return err
				}
			}
			failed = -1
			return nil
		})
		if failed < 0 || len(calls) == 1 {
			for _, c := range calls {
				c.done <- err
			}
			return
		}
		c := calls[failed]
		c.done <- db.update(c.fn)
		calls = slices.Delete(calls, failed, failed+1)
	}
}

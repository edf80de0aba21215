package engine

import (
	"log/slog"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

// recaller is a store that remembers which capture its latest snapshot of
// a server was built from (store.DB).
type recaller interface {
	Recall(server, capture string) (doc []byte, id string, err error)
}

// recall returns the stored manifest of a capture identical to the one
// the server's latest snapshot was built from, read without
// canonicalizing it again, or nil. It is only asked when this process
// holds no manifest of the server (a new `mcpdrift check`, or a daemon
// whose cache keeps nothing after a first build): canonicalizing every
// unchanged server again was most of what a steady-state check did beyond
// listing (issue 15).
func (e *Engine) recall(server string, key string, cache *manifest.Cache) *manifest.Manifest {
	r, ok := e.Store.(recaller)
	if !ok || e.Store == nil || !cache.Empty() {
		return nil
	}
	doc, id, err := r.Recall(server, key)
	if err != nil {
		return nil
	}
	m, err := manifest.ParseStored(doc, id)
	if err != nil {
		// Built again from the capture below; the stored document is
		// what needs a look.
		e.Logger.Warn("stored snapshot does not read back; building it again", slog.String("server", server), slog.String("snapshot", id), slog.String("error", err.Error()))
		return nil
	}
	return m
}

// captureKey is the key of the server's last capture, nil if none.
func (e *Engine) captureKey(server string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.keys[server]
}

package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
)

// sessionLister lists in an open watch session (*probe.WatchSession).
type sessionLister interface {
	List(ctx context.Context) (map[manifest.Kind][]json.RawMessage, error)
}

// watchSessions holds the open watch session of each watched server, so
// that every check of the server also lists in it: the watch session is a
// long-lived client, and what it is served after a list_changed is what
// such a client sees, which a fresh session need not be shown.
type watchSessions struct {
	mu sync.Mutex
	m  map[string]sessionLister
}

func (w *watchSessions) set(server string, l sessionLister) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]sessionLister{}
	}
	w.m[server] = l
}

// drop forgets the server's session if it is still l.
func (w *watchSessions) drop(server string, l sessionLister) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m[server] == l {
		delete(w.m, server)
	}
}

func (w *watchSessions) get(server string) sessionLister {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.m[server]
}

// addSessionLists lists in the server's watch session, if one is open,
// right after the fresh probe res, and hands what it lists to the check as
// the session's later lists (mergeSessionLists). A failed listing leaves
// res alone: the fresh snapshot is taken as without a watch session.
func (w *watchSessions) addSessionLists(ctx context.Context, log *slog.Logger, server string, res *probe.Result) {
	l := w.get(server)
	if l == nil {
		return
	}
	pages, err := l.List(ctx)
	if err != nil {
		log.Debug("listing in the watch session failed; the fresh session's lists stand", "server", server, "error", err.Error())
		return
	}
	if mergeSessionLists(res, pages) {
		log.Warn("the watch session is served other lists than a fresh session", "server", server)
	}
}

// mergeSessionLists makes the watch session's lists, where they differ
// from the fresh session's first lists, the result's later lists
// (probe.Result.Relisted): the engine then compares what the long-lived
// session sees with the baseline, and reports the difference from a fresh
// session as a high server.later_list change. Where the two agree, the
// fresh session's own second list (if any) stands. It reports whether any
// list differed.
func mergeSessionLists(res *probe.Result, session map[manifest.Kind][]json.RawMessage) bool {
	differ := false
	for _, k := range manifest.Kinds {
		if slices.EqualFunc(session[k], res.Capture.Pages[k], func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
			continue
		}
		if res.Relisted == nil {
			res.Relisted = map[manifest.Kind][]json.RawMessage{}
		}
		// An empty list is nil pages: the session is served none of k.
		res.Relisted[k] = session[k]
		differ = true
	}
	return differ
}

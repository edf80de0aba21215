package engine

import (
	"context"
	"errors"
	"sync"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
)

// DefaultProbeBytes is the default budget of manifest bytes in flight
// across concurrent checks (Engine.ProbeBytes): the default
// max_manifest_bytes, so one manifest of the largest size allowed takes
// it all. One check adds about 4-5 × its manifest bytes at peak, plus its
// report (docs/deploy.md, "Memory"), so 64 MiB in flight stays under the
// unit's MemoryMax=1G with room for the daemon itself.
const DefaultProbeBytes = 64 << 20

// minReserve is what a check of a server of unknown size reserves: most
// manifests are far smaller, and one that is larger is probed again under
// a reservation of its full limit.
const minReserve = 4 << 20

// byteBudget is a counting semaphore of bytes.
type byteBudget struct {
	mu   sync.Mutex
	free int64
	size int64
	wake chan struct{} // closed (and replaced) when bytes are released
}

func newByteBudget(n int64) *byteBudget {
	return &byteBudget{free: n, size: n, wake: make(chan struct{})}
}

// acquire takes n bytes (at most the whole budget), waiting for them
// until ctx ends, and returns the function that gives them back.
func (b *byteBudget) acquire(ctx context.Context, n int64) (release func(), err error) {
	n = min(n, b.size)
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					b.mu.Lock()
					b.free += n
					close(b.wake)
					b.wake = make(chan struct{})
					b.mu.Unlock()
				})
			}, nil
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// budget returns the engine's byte budget, created on first use.
func (e *Engine) budget() *byteBudget {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bytes == nil {
		n := e.ProbeBytes
		if n == 0 {
			n = DefaultProbeBytes
		}
		e.bytes = newByteBudget(n)
	}
	return e.bytes
}

// expectedBytes is the size of the server's last manifest: from this
// process's last capture, else the latest stored snapshot; 0 if unknown.
func (e *Engine) expectedBytes(server string) int64 {
	e.mu.Lock()
	n, ok := e.sizes[server]
	e.mu.Unlock()
	if ok || e.Store == nil {
		return n
	}
	o, err := e.Store.LatestSnapshot(server)
	if err != nil || o.SnapshotID == "" {
		return 0
	}
	if st, ok := e.Store.(manifestSizer); ok {
		n, err := st.ManifestSize(o.SnapshotID)
		if err != nil {
			return 0
		}
		return n
	}
	doc, err := e.Store.Manifest(o.SnapshotID)
	if err != nil {
		return 0
	}
	return int64(len(doc))
}

// manifestSizer is a store that tells a document's size without reading
// it into memory (store.DB): a fresh process sizing its first reservation
// of a 64 MiB manifest must not hold those 64 MiB to count them.
type manifestSizer interface {
	ManifestSize(id string) (int64, error)
}

// budgetedCapture is capture under the byte budget: it reserves twice the
// server's last manifest size (at least minReserve, at most its
// max_manifest_bytes) and probes with that as the manifest limit, so the
// bytes in flight never exceed the budget; a manifest that outgrew its
// reservation is probed again under its full limit. The reservation is
// held until the caller releases it, after storing, linting and diffing,
// which hold the manifest too. A negative ProbeBytes turns the budget off.
func (e *Engine) budgetedCapture(ctx context.Context, s *config.Server, t probe.Target) (*probe.Result, *manifest.Manifest, string, func(), error) {
	if e.ProbeBytes < 0 {
		res, m, key, err := e.capture(ctx, s, t)
		return res, m, key, func() {}, err
	}
	limit := t.Limits.MaxManifestBytes
	if limit <= 0 {
		limit = probe.DefaultLimits().MaxManifestBytes
	}
	b := e.budget()
	n := min(limit, max(2*e.expectedBytes(s.Name), minReserve), b.size)
	release, err := b.acquire(ctx, n)
	if err != nil {
		return nil, nil, "", nil, err
	}
	tt := t
	tt.Limits.MaxManifestBytes = n
	res, m, key, err := e.capture(ctx, s, tt)
	if err != nil && n < limit && errors.Is(err, probe.ErrTooLarge) {
		release()
		if release, err = b.acquire(ctx, limit); err != nil {
			return nil, nil, "", nil, err
		}
		res, m, key, err = e.capture(ctx, s, t)
	}
	if err != nil {
		release()
		return nil, nil, "", nil, err
	}
	e.mu.Lock()
	if e.sizes == nil {
		e.sizes = map[string]int64{}
	}
	e.sizes[s.Name] = res.Bytes
	e.mu.Unlock()
	return res, m, key, release, nil
}

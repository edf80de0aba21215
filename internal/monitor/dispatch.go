package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/store"
)

// dispatcher delivers the outbox: one worker per notifier, each working
// through its own queue in order, so a failing or slow notifier never
// delays another. Delivery is at least once: a delivery leaves the outbox
// only after its notifier accepted it, failed permanently, or it grew too
// old.
type dispatcher struct {
	a *App

	mu      sync.Mutex
	workers map[string]*worker
}

func newDispatcher(a *App) *dispatcher {
	return &dispatcher{a: a, workers: map[string]*worker{}}
}

// worker delivers one notifier's queue.
type worker struct {
	name   string
	n      atomic.Pointer[notifierBox]
	wakeC  chan struct{}
	cancel context.CancelFunc
}

// notifierBox lets a worker swap its notifier atomically on reload.
type notifierBox struct{ n notifiers.Notifier }

// reconcile starts a worker for every notifier of rt, hands changed
// notifiers to running workers, stops the workers of removed ones and
// drops what was still queued for them.
func (d *dispatcher) reconcile(ctx context.Context, rt *runtimeConfig) {
	d.mu.Lock()
	defer d.mu.Unlock()
	names := make([]string, 0, len(rt.notifiers))
	for name := range rt.notifiers {
		names = append(names, name)
	}
	sort.Strings(names)
	for name, w := range d.workers {
		if rt.notifiers[name] == nil {
			w.cancel()
			delete(d.workers, name)
			d.a.m.outbox.DeleteLabelValues(name)
		}
	}
	dropped, err := d.a.store.DropOutboxes(names)
	if err != nil {
		d.a.log.Error("drop deliveries of removed notifiers", "error", err.Error())
	}
	for n, c := range dropped {
		d.a.log.Error("notifier no longer configured; its undelivered alerts are dropped", "notifier", n, "dropped", c)
	}
	for _, name := range names {
		if w := d.workers[name]; w != nil {
			w.n.Store(&notifierBox{rt.notifiers[name]})
			w.wake()
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		w := &worker{name: name, wakeC: make(chan struct{}, 1), cancel: cancel}
		w.n.Store(&notifierBox{rt.notifiers[name]})
		d.workers[name] = w
		d.a.goLoop(wctx, func(ctx context.Context) { d.run(ctx, w) })
	}
}

// wake tells a notifier's worker that its queue grew.
func (d *dispatcher) wake(name string) {
	d.mu.Lock()
	w := d.workers[name]
	d.mu.Unlock()
	if w != nil {
		w.wake()
	}
}

func (w *worker) wake() {
	select {
	case w.wakeC <- struct{}{}:
	default:
	}
}

// run is a worker's loop: take the oldest delivery, wait until it is due,
// try it, and record the outcome.
func (d *dispatcher) run(ctx context.Context, w *worker) {
	a := d.a
	log := a.log.With("notifier", w.name)
	var el errorLog
	for ctx.Err() == nil {
		d.updatePending(w.name)
		del, err := a.store.NextDelivery(w.name)
		if errors.Is(err, store.ErrNotFound) {
			select {
			case <-ctx.Done():
				return
			case <-w.wakeC:
			}
			continue
		}
		if err != nil {
			el.fail(log, "read outbox", err.Error())
			if !sleep(ctx, a.clock, a.opts.RetryMin) {
				return
			}
			continue
		}
		now := a.clock.Now()
		cfg := a.Config()
		if age := now.Sub(del.Created); cfg.Alerts.MaxDeliveryAge > 0 && age > cfg.Alerts.MaxDeliveryAge {
			log.Error("alert dropped undelivered: older than alerts.max_delivery_age",
				"delivery", del.ID, "age", age.Round(time.Second), "attempts", del.Attempts, "last_error", del.LastError)
			d.finish(log, del, OutcomeTooOld)
			continue
		}
		if wait := del.NextAttempt.Sub(now); wait > 0 {
			// Not woken by new deliveries: they queue behind this one.
			if !sleep(ctx, a.clock, wait) {
				return
			}
			continue
		}
		var alert notifiers.Alert
		if err := json.Unmarshal(del.Alert, &alert); err != nil {
			log.Error("alert dropped: stored alert unreadable", "delivery", del.ID, "error", err.Error())
			d.finish(log, del, OutcomeInvalid)
			continue
		}
		n := w.n.Load().n
		actx, cancel := context.WithTimeout(ctx, a.opts.DeliveryTimeout)
		retry, err := safeNotify(actx, n, &alert)
		cancel()
		attrs := []any{"server", alert.Server, "kind", alert.Kind, "incident", alert.Incident, "delivery", del.ID}
		switch {
		case err == nil:
			el.recover(log, "notifier delivering again", attrs...)
			log.Debug("alert delivered", attrs...)
			d.finish(log, del, OutcomeDelivered)
		case ctx.Err() != nil:
			// Shutting down: the delivery stays queued for the next start.
			return
		case !retry:
			log.Error("alert dropped: notifier failed permanently", append(attrs, "error", err.Error(), "attempts", del.Attempts+1)...)
			d.finish(log, del, OutcomeFailed)
		default:
			del.Attempts++
			wait := a.backoff(del.Attempts)
			if ra, ok := notifiers.RetryAfter(err); ok && ra > 0 {
				wait = ra
			}
			del.NextAttempt = a.clock.Now().Add(wait)
			del.LastError = err.Error()
			a.m.notifications.WithLabelValues(w.name, OutcomeRetried).Inc()
			el.fail(log, "delivery failed; will retry", err.Error(), append(attrs, "attempts", del.Attempts, "retry_in", wait.Round(time.Millisecond))...)
			if uerr := a.store.UpdateDelivery(del); uerr != nil && !errors.Is(uerr, store.ErrNotFound) {
				log.Error("record delivery attempt", "delivery", del.ID, "error", uerr.Error())
				if !sleep(ctx, a.clock, wait) {
					return
				}
			}
		}
	}
}

// finish removes a delivery from the outbox and counts its outcome. If the
// removal fails the delivery is tried again later: at least once.
func (d *dispatcher) finish(log *slog.Logger, del store.Delivery, outcome string) {
	d.a.m.notifications.WithLabelValues(del.Notifier, outcome).Inc()
	if err := d.a.store.DeleteDelivery(del.Notifier, del.ID); err != nil {
		log.Error("remove delivery from the outbox", "delivery", del.ID, "error", err.Error())
	}
}

func (d *dispatcher) updatePending(name string) {
	if n, err := d.a.store.OutboxLen(name); err == nil {
		d.a.m.outbox.WithLabelValues(name).Set(float64(n))
	}
}

// backoff is the wait after the n-th failed attempt: RetryMin doubling up
// to RetryMax, with jitter over its upper half.
func (a *App) backoff(n int) time.Duration {
	d := a.opts.RetryMin
	for i := 1; i < n && d < a.opts.RetryMax; i++ {
		d *= 2
	}
	d = min(d, a.opts.RetryMax)
	return d/2 + rand.N(d/2+1) //nolint:gosec // jitter needs no cryptographic randomness
}

// safeNotify calls the notifier, turning a panic into a permanent error.
func safeNotify(ctx context.Context, n notifiers.Notifier, a *notifiers.Alert) (retry bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			retry, err = false, fmt.Errorf("notifier %s panicked: %v\n%s", n.Name(), p, debug.Stack())
		}
	}()
	return n.Notify(ctx, a)
}

// Package outbox delivers the daemon's persisted outbox: one worker per
// notifier, each working through its own queue in order, so a failing or
// slow notifier never delays another. Delivery is at least once: a
// delivery leaves the outbox only after its notifier accepted it, failed
// permanently, or it grew too old. What is queued, and when, is the alert
// lifecycle's business (internal/monitor/incident); rendering and sending
// are the notifiers'.
package outbox

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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/monitor/logonce"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/store"
)

// Delivery outcomes, the "outcome" label of mcpdrift_notifications_total.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetried   = "retried"
	OutcomeFailed    = "failed"      // permanent error: dropped
	OutcomeTooOld    = "too_old"     // older than alerts.max_delivery_age: dropped
	OutcomeInvalid   = "undecodable" // the stored alert could not be read: dropped
)

// Store is the outbox as the dispatcher uses it (*store.DB).
type Store interface {
	NextDelivery(notifier string) (store.Delivery, error)
	UpdateDelivery(d store.Delivery) error
	DeleteDelivery(notifier string, id uint64) error
	OutboxLen(notifier string) (int, error)
	DropOutboxes(keep []string) (map[string]int, error)
}

// Options configure a Dispatcher. Store, Clock, Log and Go are required.
type Options struct {
	Store Store
	Clock clock.Clock
	Log   *slog.Logger
	// Go runs a worker loop in a goroutine the daemon waits for on
	// shutdown.
	Go func(ctx context.Context, f func(context.Context))
	// MaxAge is alerts.max_delivery_age of the running configuration
	// (zero: no limit).
	MaxAge func() time.Duration
	// RetryMin and RetryMax bound the retry backoff; Timeout bounds one
	// delivery attempt.
	RetryMin, RetryMax, Timeout time.Duration
	// Notifications counts attempts by notifier and outcome; Pending is
	// the number of queued deliveries per notifier. Either may be nil.
	Notifications *prometheus.CounterVec
	Pending       *prometheus.GaugeVec
}

// Dispatcher runs the notifiers' workers.
type Dispatcher struct {
	o Options

	mu      sync.Mutex
	workers map[string]*worker
}

// New returns a Dispatcher with no workers: Reconcile starts them.
func New(o Options) *Dispatcher {
	if o.MaxAge == nil {
		o.MaxAge = func() time.Duration { return 0 }
	}
	return &Dispatcher{o: o, workers: map[string]*worker{}}
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

// Reconcile starts a worker for every notifier of ns, hands changed
// notifiers to running workers, stops the workers of removed ones and
// drops what was still queued for them.
func (d *Dispatcher) Reconcile(ctx context.Context, ns map[string]notifiers.Notifier) {
	d.mu.Lock()
	defer d.mu.Unlock()
	names := make([]string, 0, len(ns))
	for name := range ns {
		names = append(names, name)
	}
	sort.Strings(names)
	for name, w := range d.workers {
		if ns[name] == nil {
			w.cancel()
			delete(d.workers, name)
			if d.o.Pending != nil {
				d.o.Pending.DeleteLabelValues(name)
			}
		}
	}
	dropped, err := d.o.Store.DropOutboxes(names)
	if err != nil {
		d.o.Log.Error("drop deliveries of removed notifiers", "error", err.Error())
	}
	for n, c := range dropped {
		d.o.Log.Error("notifier no longer configured; its undelivered alerts are dropped", "notifier", n, "dropped", c)
	}
	for _, name := range names {
		if w := d.workers[name]; w != nil {
			w.n.Store(&notifierBox{ns[name]})
			w.wake()
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		w := &worker{name: name, wakeC: make(chan struct{}, 1), cancel: cancel}
		w.n.Store(&notifierBox{ns[name]})
		d.workers[name] = w
		d.o.Go(wctx, func(ctx context.Context) { d.run(ctx, w) })
	}
}

// Wake tells a notifier's worker that its queue grew.
func (d *Dispatcher) Wake(name string) {
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
func (d *Dispatcher) run(ctx context.Context, w *worker) {
	o := d.o
	log := o.Log.With("notifier", w.name)
	var el logonce.Log
	for ctx.Err() == nil {
		d.updatePending(w.name)
		del, err := o.Store.NextDelivery(w.name)
		if errors.Is(err, store.ErrNotFound) {
			select {
			case <-ctx.Done():
				return
			case <-w.wakeC:
			}
			continue
		}
		if err != nil {
			el.Fail(log, "read outbox", err.Error())
			if !clock.Sleep(ctx, o.Clock, o.RetryMin) {
				return
			}
			continue
		}
		now := o.Clock.Now()
		if age, maxAge := now.Sub(del.Created), o.MaxAge(); maxAge > 0 && age > maxAge {
			log.Error("alert dropped undelivered: older than alerts.max_delivery_age",
				"delivery", del.ID, "age", age.Round(time.Second), "attempts", del.Attempts, "last_error", del.LastError)
			d.finish(log, del, OutcomeTooOld)
			continue
		}
		if wait := del.NextAttempt.Sub(now); wait > 0 {
			// Not woken by new deliveries: they queue behind this one.
			if !clock.Sleep(ctx, o.Clock, wait) {
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
		actx, cancel := context.WithTimeout(ctx, o.Timeout)
		retry, err := safeNotify(actx, n, &alert)
		cancel()
		attrs := []any{"server", alert.Server, "kind", alert.Kind, "incident", alert.Incident, "delivery", del.ID}
		switch {
		case err == nil:
			el.Recover(log, "notifier delivering again", attrs...)
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
			wait := Backoff(o.RetryMin, o.RetryMax, del.Attempts)
			if ra, ok := notifiers.RetryAfter(err); ok && ra > 0 {
				wait = ra
			}
			del.NextAttempt = o.Clock.Now().Add(wait)
			del.LastError = err.Error()
			d.count(w.name, OutcomeRetried)
			el.Fail(log, "delivery failed; will retry", err.Error(), append(attrs, "attempts", del.Attempts, "retry_in", wait.Round(time.Millisecond))...)
			if uerr := o.Store.UpdateDelivery(del); uerr != nil && !errors.Is(uerr, store.ErrNotFound) {
				log.Error("record delivery attempt", "delivery", del.ID, "error", uerr.Error())
				if !clock.Sleep(ctx, o.Clock, wait) {
					return
				}
			}
		}
	}
}

// finish removes a delivery from the outbox and counts its outcome. If the
// removal fails the delivery is tried again later: at least once.
func (d *Dispatcher) finish(log *slog.Logger, del store.Delivery, outcome string) {
	d.count(del.Notifier, outcome)
	if err := d.o.Store.DeleteDelivery(del.Notifier, del.ID); err != nil {
		log.Error("remove delivery from the outbox", "delivery", del.ID, "error", err.Error())
	}
}

func (d *Dispatcher) count(notifier, outcome string) {
	if d.o.Notifications != nil {
		d.o.Notifications.WithLabelValues(notifier, outcome).Inc()
	}
}

func (d *Dispatcher) updatePending(name string) {
	if d.o.Pending == nil {
		return
	}
	if n, err := d.o.Store.OutboxLen(name); err == nil {
		d.o.Pending.WithLabelValues(name).Set(float64(n))
	}
}

// Backoff is the wait after the n-th failed attempt: lo doubling up to hi,
// with jitter over its upper half.
func Backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
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

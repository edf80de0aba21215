package incident

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/notifiers"
)

// rateLimit bounds the notifications about one server, in the spirit of
// alertmanager's group_interval: at most max within any interval. What
// comes beyond is held, and sent when the budget allows, each family of
// incidents in its latest state (collapse); an incident raised and closed
// while held is never sent at all. A zero interval sends everything at
// once.
type rateLimit struct {
	interval time.Duration
	max      int
}

func rateLimitOf(a config.Alerts) rateLimit {
	return rateLimit{interval: a.GroupInterval, max: max(a.GroupMax, 1)}
}

// admit takes the server's recent send times and held alerts, and the
// alerts an evaluation raised, and returns the alerts to send now with the
// send times and held alerts that remain. It is pure: the caller persists
// held and keeps sent.
func (r rateLimit) admit(sent []time.Time, held []json.RawMessage, alerts []notifiers.Alert, now time.Time) (out []notifiers.Alert, sentNow []time.Time, heldNow []json.RawMessage, err error) {
	queue := make([]notifiers.Alert, 0, len(held)+len(alerts))
	for _, raw := range held {
		var a notifiers.Alert
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, sent, held, fmt.Errorf("held alert unreadable: %w", err)
		}
		queue = append(queue, a)
	}
	queue = append(queue, alerts...)
	for len(sent) > 0 && now.Sub(sent[0]) >= r.interval {
		sent = sent[1:]
	}
	budget := max(r.max-len(sent), 0)
	if r.interval <= 0 {
		sent, budget = nil, len(queue)
	}
	if len(held) > 0 || len(queue) > budget {
		queue = collapse(queue, len(held))
	}
	sentNow = append([]time.Time(nil), sent...)
	if r.interval <= 0 {
		return queue, nil, nil, nil
	}
	n := min(budget, len(queue))
	for range n {
		sentNow = append(sentNow, now)
	}
	for _, a := range queue[n:] {
		raw, err := json.Marshal(a)
		if err != nil {
			return nil, sent, held, fmt.Errorf("hold alert: %w", err)
		}
		heldNow = append(heldNow, raw)
	}
	return queue[:n], sentNow, heldNow, nil
}

// collapse keeps, of each family of incidents (drift, flapping,
// unreachable: one open at a time each), its latest alert, in the order
// the families first appear: what is held is sent in its latest state,
// not as the history that led there. An incident whose raise is among the
// held alerts (the first nHeld) was never sent: if it is resolved by now,
// nothing of it is sent; otherwise its latest alert goes as the raise.
func collapse(queue []notifiers.Alert, nHeld int) []notifiers.Alert {
	var order []string
	latest := map[string]notifiers.Alert{}
	raisedHeld := map[string]bool{}
	seen := map[string]bool{}
	for i, a := range queue {
		if !seen[a.Incident] {
			seen[a.Incident] = true
			raisedHeld[a.Incident] = i < nHeld && a.Kind != notifiers.KindResolved && a.Reminder == 0 && a.Update == 0
		}
		f := family(a.Incident)
		if _, ok := latest[f]; !ok {
			order = append(order, f)
		}
		latest[f] = a
	}
	out := make([]notifiers.Alert, 0, len(order))
	for _, f := range order {
		a := latest[f]
		if raisedHeld[a.Incident] {
			if a.Kind == notifiers.KindResolved {
				continue
			}
			a.Reminder, a.Update = 0, 0
		}
		out = append(out, a)
	}
	return out
}

// family is the kind of incident an id names: "drift", "flapping",
// "unreachable".
func family(incident string) string {
	f, _, _ := strings.Cut(incident, "/")
	return f
}

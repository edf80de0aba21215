package probe

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
)

// All is a fan-out of probes for the tests of what one probe's failure does
// to the others (TestProbeAllIsolatesFailures). It is no production code:
// mcpdrift's checks fan out in the check pipeline (engine.Engine.Check),
// under its concurrency limit and byte budget.

// Outcome is the result of probing one target in All.
type Outcome struct {
	Target string
	Result *Result
	Err    error
}

// All probes targets with at most concurrency probes at once (1 if
// concurrency < 1) and returns one Outcome per target, in input order. Each
// probe has its own deadline; a probe that hangs or panics affects no
// other.
func All(ctx context.Context, targets []Target, concurrency int) []Outcome {
	if concurrency < 1 {
		concurrency = 1
	}
	out := make([]Outcome, len(targets))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, t := range targets {
		out[i].Target = t.Name
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i].Err = &Error{Server: t.Name, Phase: "start", Err: fmt.Errorf("probe cancelled: %w", ctx.Err())}
				return
			}
			defer func() { <-sem }()
			defer func() {
				// Probe recovers its own panics; this catches one in its
				// set-up, so that the other probes go on.
				if r := recover(); r != nil {
					if t.Logger != nil {
						t.Logger.Error("probe panicked", "component", "probe", "server", t.Name,
							"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					}
					out[i].Result = nil
					out[i].Err = &Error{Server: t.Name, Phase: "start", Err: newKindError(ErrPanic, "probe panicked: %v", r)}
				}
			}()
			out[i].Result, out[i].Err = Probe(ctx, t)
		}()
	}
	wg.Wait()
	return out
}

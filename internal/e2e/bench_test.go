package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

const (
	benchServers     = 50
	benchTools       = 20
	benchConcurrency = 16
)

// benchFleet starts n streamable HTTP servers on loopback with realistic
// tools and returns their URLs.
func benchFleet(b testing.TB, n int) []string {
	urls := make([]string, n)
	for i := range urls {
		cfg := fleetConfig(fmt.Sprintf("bench-%d", i), "tool_%02d", benchTools)
		urls[i] = mcptest.NewServer(cfg).ServeStreamable(b, mcptest.HTTPOptions{})
	}
	return urls
}

// bareList is what an application using go-sdk directly does to list one
// server: connect, list everything, close.
func bareList(ctx context.Context, url string, hc *http.Client) error {
	return bareListTransport(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc})
}

// bareListTransport is bareList over any transport.
func bareListTransport(ctx context.Context, t mcp.Transport) error {
	c := mcp.NewClient(&mcp.Implementation{Name: "bare", Version: "1"}, nil)
	cs, err := c.Connect(ctx, t, nil)
	if err != nil {
		return err
	}
	defer cs.Close()
	for _, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return err
		}
	}
	for _, err := range cs.Prompts(ctx, nil) {
		if err != nil {
			return err
		}
	}
	for _, err := range cs.Resources(ctx, nil) {
		if err != nil {
			return err
		}
	}
	for _, err := range cs.ResourceTemplates(ctx, nil) {
		if err != nil {
			return err
		}
	}
	return nil
}

// fanOut runs f on every url with at most benchConcurrency at once.
func fanOut(urls []string, f func(url string) error) error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, benchConcurrency)
	errs := make(chan error, len(urls))
	for _, u := range urls {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := f(u); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// BenchmarkCycle50 compares one full `mcpdrift check` cycle over 50 local
// servers (probe, canonicalize, store, compare, lint) with bare go-sdk
// listing of the same servers at the same concurrency. Every iteration runs
// each variant once, in rotating order, so that the machine's ups and downs
// hit all of them alike; the medians are reported as ms per cycle, with
// ratio = mcpdrift / gosdk (scripts/bench.sh; target at most 1.10).
//
// gosdk starts every cycle without open connections, as a program run
// once (like `mcpdrift check`) does: mcpdrift opens a fresh connection per
// snapshot on purpose, since the TLS certificate it records is the one of
// that connection. gosdk-keepalive, for reference, keeps its connections
// from one cycle to the next, which only a long-running process can.
func BenchmarkCycle50(b *testing.B) {
	urls := benchFleet(b, benchServers)
	ctx := context.Background()

	var y strings.Builder
	y.WriteString("servers:\n")
	for i, u := range urls {
		fmt.Fprintf(&y, "  - {name: s%d, url: %q}\n", i, u)
	}
	srvs := servers(parseConfig(b, y.String()))
	eng := engine.New(openDB(b), slog.New(slog.DiscardHandler))
	eng.Limit = engine.NewLimiter(benchConcurrency)
	eng.Check(ctx, srvs, engine.Options{}) // baselines: not part of the steady state

	warm := &http.Client{Transport: &http.Transport{}}
	variants := []struct {
		name string
		run  func() error
	}{
		{"gosdk", func() error {
			cold := &http.Client{Transport: &http.Transport{}}
			defer cold.CloseIdleConnections()
			return fanOut(urls, func(u string) error { return bareList(ctx, u, cold) })
		}},
		{"gosdk-keepalive", func() error {
			return fanOut(urls, func(u string) error { return bareList(ctx, u, warm) })
		}},
		{"mcpdrift", func() error {
			rep := eng.Check(ctx, srvs, engine.Options{})
			for _, s := range rep.Servers {
				if s.Status != report.StatusOK {
					return fmt.Errorf("%s: %s %s", s.Server, s.Status, s.Error)
				}
			}
			return nil
		}},
	}
	times := make([][]time.Duration, len(variants))
	round := 0
	for b.Loop() {
		for j := range variants {
			k := (round + j) % len(variants)
			start := time.Now()
			if err := variants[k].run(); err != nil {
				b.Fatalf("%s: %v", variants[k].name, err)
			}
			times[k] = append(times[k], time.Since(start))
		}
		round++
	}
	med := make([]float64, len(variants))
	for k, v := range variants {
		med[k] = float64(median(times[k])) / 1e6
		b.ReportMetric(med[k], v.name+"-ms")
	}
	b.ReportMetric(med[2]/med[0], "ratio")
	b.ReportMetric(med[2]/med[1], "ratio-keepalive")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

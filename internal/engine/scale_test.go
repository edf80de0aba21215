package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

// baselineStore serves one server's approved baseline.
type baselineStore struct {
	Store
	base []byte
}

func (b baselineStore) Baseline(server string) (report.Approval, error) {
	return report.Approval{Server: server, BaselineID: "base", Approver: "test"}, nil
}

func (b baselineStore) Manifest(id string) ([]byte, error) {
	if id != "base" {
		return nil, store.ErrNotFound
	}
	return b.base, nil
}

// renamedPair builds a baseline of n tools and the same tools renamed.
func renamedPair(tb testing.TB, n int) (base, snap *manifest.Manifest) {
	tb.Helper()
	build := func(prefix string) *manifest.Manifest {
		tools := make([]string, n)
		for i := range n {
			tools[i] = fmt.Sprintf(`{"name":"%s_%d","description":"Looks up record %d of the ledger.","inputSchema":{"type":"object","properties":{"id":{"type":"string","description":"Record id"}}}}`, prefix, i, i)
		}
		m, err := manifest.Build(manifest.Capture{Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {
			json.RawMessage(`{"tools":[` + strings.Join(tools, ",") + `]}`)}}})
		if err != nil {
			tb.Fatal(err)
		}
		return m
	}
	return build("lookup_record"), build("fetch_entry")
}

// checkRenamed runs what check does after the probe (lint, acknowledge,
// diff) on a snapshot renaming every tool of the baseline.
func checkRenamed(tb testing.TB, base, snap *manifest.Manifest) report.Server {
	tb.Helper()
	e := &Engine{Store: baselineStore{base: base.Document()}, Now: time.Now}
	return e.evaluate(&config.Server{Name: "ledger"}, snap, snap.ID(), time.Now(), nil, false)
}

// Renames, lint and diff are near-linear in the tools renamed: twice the
// renamed tools cost at most about twice the allocations (a quadratic
// path, like indexing every baseline name again per changed field, costs
// four times).
func TestRenamesLinear(t *testing.T) {
	cost := func(n int) float64 {
		base, snap := renamedPair(t, n)
		rs := checkRenamed(t, base, snap)
		renamed := 0
		for _, c := range rs.Changes {
			if c.Kind == drift.KindToolRenamed {
				renamed++
			}
		}
		if renamed != n {
			t.Fatalf("%d of %d tools reported renamed", renamed, n)
		}
		return testing.AllocsPerRun(1, func() { checkRenamed(t, base, snap) })
	}
	at500, at1000 := cost(500), cost(1000)
	if at1000 > at500*2.3 {
		t.Fatalf("check of 1000 renamed tools allocates %.0f times, of 500 %.0f: not linear", at1000, at500)
	}
	t.Logf("allocations: %.0f for 500 renamed tools, %.0f for 1000", at500, at1000)
}

// BenchmarkCheckRenamed10k is the case: a baseline of 10,000 tools
// and the same tools renamed (target: under 5 s per check).
func BenchmarkCheckRenamed10k(b *testing.B) {
	base, snap := renamedPair(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		e := &Engine{Store: baselineStore{base: base.Document()}, Now: time.Now}
		e.evaluate(&config.Server{Name: "ledger"}, snap, snap.ID(), time.Now(), nil, false)
	}
}

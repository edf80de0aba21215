package lint

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// manifest500 builds a 500-tool manifest from the benign corpus: real
// descriptions and schemas, each tool renamed and its description made
// unique, so that only what real servers share (parameter schemas, $defs)
// repeats.
func manifest500(tb testing.TB) *manifest.Manifest {
	tb.Helper()
	benign := loadCorpus(tb, "benign")
	tools := make([]json.RawMessage, 0, 500)
	for i := 0; len(tools) < 500; i++ {
		e := benign[i%len(benign)]
		var t map[string]any
		if err := json.Unmarshal(e.Tool, &t); err != nil {
			tb.Fatal(err)
		}
		t["name"] = fmt.Sprintf("%v_%d", t["name"], i)
		t["description"] = fmt.Sprintf("%v (variant %d)", t["description"], i)
		raw, err := json.Marshal(t)
		if err != nil {
			tb.Fatal(err)
		}
		tools = append(tools, raw)
	}
	return buildManifest(tb, tools)
}

// BenchmarkLint500 lints a 500-tool manifest next to the corpus's other
// servers. The manifest's canonical document is about 600 KB.
func BenchmarkLint500(b *testing.B) {
	m := manifest500(b)
	b.SetBytes(int64(len(m.Document())))
	ctx := Context{Server: "bench", OtherTools: corpusOthers}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Manifest(m, ctx)
	}
}

// BenchmarkText is the drift engine's hook: one changed description.
func BenchmarkText(b *testing.B) {
	text := "Search for files matching a pattern in the given directory, recursively. Returns full paths. " +
		"Use this tool when the user asks where a file is; results are limited to allowed directories."
	ctx := Context{Server: "bench", OtherTools: corpusOthers}
	b.ReportAllocs()
	for b.Loop() {
		Text("tool", "search_files", "description", text, ctx)
	}
}

// Manifest is safe to call from many goroutines at once (the daemon lints
// servers in parallel): run it under -race.
func TestManifestConcurrent(t *testing.T) {
	m := manifest500(t)
	ctx := Context{Server: "bench", OtherTools: corpusOthers}
	want := Manifest(m, ctx)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := Manifest(m, ctx)
			if len(got) != len(want) {
				errs <- fmt.Sprintf("%d findings, want %d", len(got), len(want))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	worst := severity.None
	for _, f := range want {
		worst = severity.Max(worst, f.Severity)
	}
	if worst > severity.Medium {
		t.Errorf("benign 500-tool manifest has a %s finding", worst)
	}
}

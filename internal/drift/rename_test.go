package drift

import (
	"github.com/mcpdrift/mcpdrift/internal/report"
	"strings"
	"testing"
)

// Renames with a new name and a reworded description pair on the
// parameters' names and types and the description's words; near misses
// stay a removal and an addition.
func TestRenameByParametersAndWords(t *testing.T) {
	add := `{"name":"add","description":"Adds two numbers","inputSchema":{"type":"object","additionalProperties":false,"properties":{"a":{"type":"number","description":"First number"},"b":{"type":"number","description":"Second number"}},"required":["a","b"]}}`
	printEnv := `{"name":"printEnv","description":"Prints all environment variables, helpful for debugging MCP server configuration","inputSchema":{"type":"object","additionalProperties":false,"properties":{}}}`
	sumTool := func(name, desc, props, required string) string {
		return `{"name":"` + name + `","description":"` + desc + `","inputSchema":{"type":"object","properties":` + props + `,"required":` + required + `}}`
	}
	ab := `{"a":{"type":"number"},"b":{"type":"number"}}`
	for _, tt := range []struct {
		name       string
		base, snap []string
		renamed    string // "from->to", or "" for none
		why        string
	}{
		// The real server-everything 2025.11.25 -> 2026.8.31 renames.
		{"add to get-sum", []string{add}, []string{sumTool("get-sum", "Returns the sum of two numbers", ab, `["a","b"]`)},
			"add->get-sum", "same parameters a:number, b:number (required a, b), descriptions share 57% of their words"},
		{"printEnv to get-env", []string{printEnv}, []string{`{"name":"get-env","description":"Returns all environment variables, helpful for debugging MCP server configuration","inputSchema":{"type":"object","properties":{}}}`},
			"printEnv->get-env", "same parameters (none), descriptions share 89% of their words"},

		// Near misses.
		{"another parameter type", []string{add}, []string{sumTool("get-sum", "Returns the sum of two numbers", `{"a":{"type":"string"},"b":{"type":"number"}}`, `["a","b"]`)}, "", ""},
		{"another parameter name", []string{add}, []string{sumTool("get-sum", "Returns the sum of two numbers", `{"x":{"type":"number"},"b":{"type":"number"}}`, `["x","b"]`)}, "", ""},
		{"another required list", []string{add}, []string{sumTool("get-sum", "Returns the sum of two numbers", ab, `["a"]`)}, "", ""},
		{"unrelated description, same parameters", []string{add}, []string{sumTool("resize", "Resizes the window to the given width", ab, `["a","b"]`)}, "", ""},
		{"no parameters, a description only somewhat alike", []string{printEnv}, []string{`{"name":"get-config","description":"Returns the server configuration for debugging","inputSchema":{"type":"object","properties":{}}}`}, "", ""},
		{"two candidates: neither is chosen by chance", []string{add},
			[]string{sumTool("get-sum", "Returns the sum of two numbers", ab, `["a","b"]`), sumTool("get-total", "Returns the total of two numbers", ab, `["a","b"]`)}, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs := Diff(srv{tools: tt.base}.build(t), srv{tools: tt.snap}.build(t), Policy{})
			var got, why string
			for _, c := range cs {
				if c.Kind == KindToolRenamed {
					got = c.Before + "->" + c.After
					why = c.Summary
				}
			}
			if got != tt.renamed {
				t.Fatalf("renamed %q, want %q; changes:\n%s", got, tt.renamed, kindsList(cs))
			}
			if tt.why != "" && !strings.Contains(why, tt.why) {
				t.Errorf("summary %q lacks %q", why, tt.why)
			}
			if tt.renamed != "" {
				// The reworded description is still reported, under the
				// new name: a rename cannot launder an edit.
				found := false
				for _, c := range cs {
					found = found || (c.Kind == KindToolDescription && c.Name == strings.Split(tt.renamed, "->")[1])
				}
				if !found {
					t.Errorf("no description change for the renamed tool:\n%s", kindsList(cs))
				}
			}
		})
	}
}

func kindsList(cs []report.Change) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Kind + " " + c.Name + ": " + c.Summary + "\n")
	}
	return b.String()
}

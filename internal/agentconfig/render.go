package agentconfig

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"
)

// Render writes r as a mcpdrift `servers:` block, headed by comments that
// say where it came from, which variables to set and what was not
// translated.
func Render(r Result) ([]byte, error) {
	var head strings.Builder
	head.WriteString("Imported by `mcpdrift config import` from:\n")
	for _, s := range r.Sources {
		head.WriteString("  " + s + "\n")
	}
	if len(r.Vars) > 0 {
		head.WriteString("\nNo value was copied: set these variables where mcpdrift runs (or\nreplace a reference with an env_files or header_files entry):\n")
		var tw bytes.Buffer
		w := tabwriter.NewWriter(&tw, 0, 0, 2, ' ', 0)
		for _, v := range r.Vars {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", v.Name, strings.Join(v.Uses, ", "), v.Origin)
		}
		if err := w.Flush(); err != nil {
			return nil, err
		}
		for _, l := range strings.Split(strings.TrimRight(tw.String(), "\n"), "\n") {
			head.WriteString(strings.TrimRight(l, " ") + "\n")
		}
	}
	if len(r.Notes) > 0 {
		head.WriteString("\nNot translated as it stood:\n")
		for _, n := range r.Notes {
			head.WriteString("  " + n.String() + "\n")
		}
	}

	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range r.Servers {
		list.Content = append(list.Content, serverNode(s))
	}
	key := &yaml.Node{Kind: yaml.ScalarNode, Value: "servers", HeadComment: strings.TrimRight(head.String(), "\n")}
	if len(r.Servers) == 0 {
		list.Style = yaml.FlowStyle
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Content: []*yaml.Node{key, list}}}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("rendering the servers: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("rendering the servers: %w", err)
	}
	return buf.Bytes(), nil
}

func serverNode(s Server) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, HeadComment: "from " + s.Source}
	add := func(k string, v *yaml.Node) {
		m.Content = append(m.Content, str(k), v)
	}
	add("name", str(s.Name))
	if s.Transport == "sse" {
		add("transport", str("sse"))
	}
	if s.URL != "" {
		add("url", str(s.URL))
	}
	if len(s.Headers) > 0 {
		add("headers", mapNode(s.Headers))
	}
	if s.Command != "" {
		add("command", str(s.Command))
	}
	if len(s.Args) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, a := range s.Args {
			seq.Content = append(seq.Content, str(a))
		}
		add("args", seq)
	}
	if s.Cwd != "" {
		add("cwd", str(s.Cwd))
	}
	if len(s.Env) > 0 {
		add("env", mapNode(s.Env))
	}
	if s.Disabled {
		add("disabled", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	return m
}

func mapNode(m map[string]string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		n.Content = append(n.Content, str(k), str(m[k]))
	}
	return n
}

// str is a string scalar, quoted by the encoder wherever YAML would read
// it as something else ("true", "1.0", "-").
func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

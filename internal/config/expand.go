package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// expandTree replaces ${VAR} references in every scalar value of the tree (not
// in keys), in place, so each node keeps the line it was read from. Failures
// are reported at the node's key path and the node is marked bad so decoding
// skips it instead of reporting a second, derived problem.
func (d *decoder) expandTree(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			d.expandTree(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := path
			if k.Tag != mergeTag {
				p = joinPath(path, k.Value)
			}
			d.expandTree(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			d.expandTree(c, fmt.Sprintf("%s[%d]", path, i))
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return
		}
		v, used, errs := expand(n.Value, d.env)
		for _, e := range errs {
			d.problem(n.Line, path, e)
		}
		if len(errs) > 0 {
			d.bad[n] = true
			return
		}
		n.Value = v
		if used {
			d.fromEnv[n] = true
		}
	case yaml.AliasNode:
		// The anchored node is expanded where it is defined.
	}
}

// expand resolves ${VAR} from env; "$$" is a literal "$" and a "$" followed
// by anything else is kept as is. used reports whether any variable was read.
// Every unset or malformed reference is reported; messages name variables,
// never values.
func expand(s string, env func(string) (string, bool)) (out string, used bool, errs []string) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				errs = append(errs, "unterminated ${ (write $$ for a literal $)")
				return "", used, errs
			}
			name := s[i+2 : i+2+end]
			i += end + 3
			if !validEnvName(name) {
				errs = append(errs, fmt.Sprintf("invalid variable name %s in ${...}", quoteText(name)))
				continue
			}
			v, ok := env(name)
			if !ok {
				errs = append(errs, fmt.Sprintf("environment variable %s is not set", quoteText(name)))
				continue
			}
			b.WriteString(v)
			used = true
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), used, errs
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

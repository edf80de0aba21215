package drift

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Ignore drops or masks part of a manifest before comparing.
//
// Path is "<entities>/<name-glob>/<field path>":
//
//	tools/get_time/description          one field of one tool
//	tools/*/annotations                 a field of every tool
//	tools/search/inputSchema.properties.q.description
//	prompts/summarize                   a whole prompt (added, removed, changed)
//	resources/file:%2F%2F*              every resource under file://
//	resources/*/annotations/lastModified
//	server/instructions                 a server field (server has no name)
//
// <entities> is tools, prompts, resources, resource_templates or server
// (singular forms are accepted). The name segment is matched against the
// entity key with path.Match after percent-encoding "%", "/", spaces,
// controls and invisible characters as %XX, so "/" in a URI is written %2F
// and "*" never crosses it; an omitted name means every entity. The field
// path is a sequence of object keys and array indexes separated by "/" or
// ".", each a path.Match glob, with "." in a key written %2E; it matches a
// field and everything below it. Change.Path uses the same encoding.
//
// Without Pattern, the matched fields (or whole entities) are removed from
// both sides. With Pattern, every match of the regexp in the strings under
// the path is replaced by "<ignored>" on both sides, so a description that
// embeds today's date is not drift while any other edit to it still is.
// Either way the ignored parts vanish from Before, After and Diff too.
//
// A malformed rule (see Validate) matches nothing.
type Ignore struct {
	Path    string
	Pattern *regexp.Regexp
}

// ErrIgnorePath reports an ignore rule whose path cannot match anything.
var ErrIgnorePath = errors.New("invalid ignore path")

// ignoredMarker replaces masked text, and removed array elements.
const ignoredMarker = "<ignored>"

// Validate checks that the rule's path names an entity type and that every
// glob in it is well formed.
func (ig Ignore) Validate() error {
	r, ok := parseIgnore(ig)
	if !ok {
		return fmt.Errorf("%w %q: want <entities>/<name>/<field path> with entities one of tools, prompts, resources, resource_templates, server", ErrIgnorePath, ig.Path)
	}
	globs := append([]string{r.entity}, r.rest...)
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("%w %q: bad glob %q: %w", ErrIgnorePath, ig.Path, g, err)
		}
	}
	return nil
}

// rule is a parsed Ignore.
type rule struct {
	entity  string   // glob over plural entity names
	rest    []string // raw segments after the entity, split on "/"
	pattern *regexp.Regexp
}

// fieldRule is a rule resolved for one entity: the field globs (empty for
// the whole entity) and the optional mask.
type fieldRule struct {
	field   []string
	pattern *regexp.Regexp
}

// plural maps Change.Entity values to their ignore path spelling.
func plural(entity string) string {
	if entity == EntityServer {
		return EntityServer
	}
	return entity + "s"
}

func parseIgnore(ig Ignore) (rule, bool) {
	var segs []string
	for _, s := range strings.Split(ig.Path, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 {
		return rule{}, false
	}
	entity := segs[0]
	switch entity {
	case "tool", "prompt", "resource", "resource_template":
		entity += "s"
	}
	known := false
	for _, e := range []string{"server", "tools", "prompts", "resources", "resource_templates"} {
		if ok, _ := path.Match(entity, e); ok {
			known = true
		}
	}
	if !known {
		return rule{}, false
	}
	return rule{entity: entity, rest: segs[1:], pattern: ig.Pattern}, true
}

// scope resolves r for one entity type: the name glob ("" for the server)
// and the field globs. ok is false when r does not apply to that type.
func (r rule) scope(entities string) (name string, field []string, ok bool) {
	if m, _ := path.Match(r.entity, entities); !m {
		return "", nil, false
	}
	rest := r.rest
	if entities != EntityServer {
		name = "*"
		if len(rest) > 0 {
			name = encodeName(percentDecode(rest[0]))
			rest = rest[1:]
		}
	}
	for _, seg := range rest {
		for _, c := range strings.Split(seg, ".") {
			if c != "" {
				field = append(field, encodeField(percentDecode(c)))
			}
		}
	}
	return name, field, true
}

// rulesFor returns what the policy does to one entity: drop it entirely, or
// prune and mask these fields. key is the raw entity key ("" for server).
func (d *differ) rulesFor(entity, key string) (drop bool, rs []fieldRule) {
	if len(d.rules) == 0 {
		return false, nil
	}
	enc := encodeName(key)
	for _, r := range d.rules {
		name, field, ok := r.scope(plural(entity))
		if !ok {
			continue
		}
		if entity != EntityServer {
			if m, _ := path.Match(name, enc); !m {
				continue
			}
		}
		if len(field) == 0 && r.pattern == nil {
			return true, nil
		}
		rs = append(rs, fieldRule{field: field, pattern: r.pattern})
	}
	return false, rs
}

// prune applies field rules to a decoded entity in place.
func prune(obj map[string]any, rs []fieldRule) {
	for _, r := range rs {
		if len(r.field) == 0 {
			maskAll(obj, r.pattern)
			continue
		}
		pruneAt(obj, r.field, r.pattern)
	}
}

func pruneAt(node any, comps []string, pat *regexp.Regexp) any {
	last := len(comps) == 1
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if m, _ := path.Match(comps[0], encodeField(k)); !m {
				continue
			}
			switch {
			case last && pat == nil:
				delete(n, k)
			case last:
				n[k] = maskAll(v, pat)
			default:
				n[k] = pruneAt(v, comps[1:], pat)
			}
		}
	case []any:
		for i, v := range n {
			if m, _ := path.Match(comps[0], strconv.Itoa(i)); !m {
				continue
			}
			switch {
			case last && pat == nil:
				// Deleting would shift the indexes of later elements.
				n[i] = ignoredMarker
			case last:
				n[i] = maskAll(v, pat)
			default:
				n[i] = pruneAt(v, comps[1:], pat)
			}
		}
	}
	return node
}

// maskAll replaces every match of pat in the strings of v (not object keys).
func maskAll(v any, pat *regexp.Regexp) any {
	switch x := v.(type) {
	case string:
		return pat.ReplaceAllLiteralString(x, ignoredMarker)
	case map[string]any:
		for k, e := range x {
			x[k] = maskAll(e, pat)
		}
	case []any:
		for i, e := range x {
			x[i] = maskAll(e, pat)
		}
	}
	return v
}

package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// locations maps servers and pinned entities to lines of the file.
type locations struct {
	servers  map[string]int
	entities map[string]int
}

func entityKey(server, entity, name string) string {
	return server + "\x00" + entity + "\x00" + name
}

// listEntity maps a manifest list key to its entity kind and key field.
var listEntity = map[string][2]string{
	"tools":              {"tool", "name"},
	"prompts":            {"prompt", "name"},
	"resources":          {"resource", "uri"},
	"resource_templates": {"resource_template", "uriTemplate"},
}

// frame is one open object or array while scanning.
type frame struct {
	object  bool
	keys    map[string]struct{}
	key     string // object: the key whose value is being read
	wantKey bool
}

// scan walks every token of data once: it refuses duplicate object keys
// anywhere (a reviewer reading the file and a JSON reader would disagree on
// which value counts) and records the lines of servers and entities.
func scan(data []byte) (locations, error) {
	loc := locations{servers: map[string]int{}, entities: map[string]int{}}
	newlines := lineStarts(data)
	lineAt := func(off int64) int {
		return sort.Search(len(newlines), func(i int) bool { return newlines[i] >= int(off) }) + 1
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return loc, fmt.Errorf("%w: line %d: unexpected end of JSON", ErrMalformed, lineAt(int64(len(data))))
			}
			break
		}
		if err != nil {
			return loc, fmt.Errorf("%w: line %d: %w", ErrMalformed, lineAt(dec.InputOffset()), err)
		}
		// The offset after the token; the token's last byte is on the line
		// of off-1.
		line := lineAt(dec.InputOffset() - 1)
		top := (*frame)(nil)
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				valueDone(stack)
				continue
			}
			key, _ := tok.(string)
			if _, dup := top.keys[key]; dup {
				return loc, fmt.Errorf("%w: line %d: duplicate key %q", ErrMalformed, line, key)
			}
			top.keys[key] = struct{}{}
			top.key, top.wantKey = key, false
			if len(stack) == 2 && stack[0].key == "servers" {
				loc.servers[key] = line
			}
			continue
		}
		switch d := tok.(type) {
		case json.Delim:
			switch d {
			case '{':
				stack = append(stack, &frame{object: true, keys: map[string]struct{}{}, wantKey: true})
			case '[':
				stack = append(stack, &frame{})
			case ']':
				stack = stack[:len(stack)-1]
				valueDone(stack)
			}
		case string:
			recordEntity(loc, stack, d, line)
			valueDone(stack)
		default:
			valueDone(stack)
		}
	}
	return loc, nil
}

// valueDone marks the value of the innermost open object as read.
func valueDone(stack []*frame) {
	if n := len(stack); n > 0 && stack[n-1].object {
		stack[n-1].wantKey = true
	}
}

// recordEntity records the line of an entity's identity field:
// servers.NAME.manifest.LIST[i].KEYFIELD.
func recordEntity(loc locations, stack []*frame, value string, line int) {
	if len(stack) != 6 || stack[0].key != "servers" || stack[2].key != "manifest" {
		return
	}
	le, ok := listEntity[stack[3].key]
	if !ok || stack[4].object || !stack[5].object || stack[5].key != le[1] {
		return
	}
	k := entityKey(stack[1].key, le[0], value)
	if _, seen := loc.entities[k]; !seen {
		loc.entities[k] = line
	}
}

// lineStarts returns the offsets of every newline in data.
func lineStarts(data []byte) []int {
	var out []int
	for i, b := range data {
		if b == '\n' {
			out = append(out, i)
		}
	}
	return out
}

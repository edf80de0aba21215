// Package manifest owns the canonical form of a captured MCP server manifest
// and its fingerprints.
//
// A Capture holds the raw JSON results a server sent; Build turns it into a
// Manifest whose entities are RFC 8785 (JCS) canonical, sorted by name or URI,
// with volatile fields removed by a versioned rule list. The same manifest
// always yields the same bytes and the same `sha256:` id, whatever the order
// of tools, keys or pages, and however numbers were spelled.
//
// manifest is pure: it does no I/O.
package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/gowebpki/jcs"
)

// FormatVersion is the version of the canonical document layout. It changes
// only when the canonical bytes of an unchanged server would change.
const FormatVersion = 1

// Kind names an entity type in a manifest.
type Kind string

// The entity kinds a manifest holds.
const (
	KindTool             Kind = "tool"
	KindPrompt           Kind = "prompt"
	KindResource         Kind = "resource"
	KindResourceTemplate Kind = "resource_template"
)

// Kinds lists the entity kinds in document order.
var Kinds = []Kind{KindTool, KindPrompt, KindResource, KindResourceTemplate}

// Capture is what a probe received from one server: raw JSON results exactly
// as the server sent them, in the order they arrived.
type Capture struct {
	// Init is the raw result of initialize (or server/discover).
	Init json.RawMessage
	// Protocol is the negotiated protocol version. It is recorded as the
	// server's protocolVersion, so that initialize and server/discover
	// handshakes of the same server give the same manifest.
	Protocol string
	// Pages holds the raw list results per kind (tools/list, prompts/list,
	// resources/list, resources/templates/list), one per page.
	Pages map[Kind][]json.RawMessage
}

// Entity is one tool, prompt, resource or resource template in canonical form.
type Entity struct {
	Kind Kind
	// Key is the entity's identity: name for tools and prompts, uri for
	// resources, uriTemplate for resource templates.
	Key string
	// JSON is the entity's canonical (JCS) JSON.
	JSON json.RawMessage
	// Fingerprint is "sha256:" and the hex digest of JSON.
	Fingerprint string
}

// Manifest is the canonical view of one server's manifest.
type Manifest struct {
	// Server is the canonical JSON object of server-level fields:
	// protocolVersion, serverInfo, capabilities, instructions and any other
	// non-volatile initialize result field.
	Server json.RawMessage
	// Entities per kind, sorted by Key, then by JSON for duplicate keys.
	Entities map[Kind][]Entity
}

// ErrMalformed reports a capture or document that is not what the protocol
// or this package's format allows.
var ErrMalformed = errors.New("malformed manifest")

// listField names the array in each kind's list result.
var listField = map[Kind]string{
	KindTool:             "tools",
	KindPrompt:           "prompts",
	KindResource:         "resources",
	KindResourceTemplate: "resourceTemplates",
}

// keyField names the identity field of each kind.
var keyField = map[Kind]string{
	KindTool:             "name",
	KindPrompt:           "name",
	KindResource:         "uri",
	KindResourceTemplate: "uriTemplate",
}

// Build canonicalizes a capture.
func Build(c Capture) (*Manifest, error) { return build(c, nil) }

// Cache remembers the canonical form of the raw entities of one server's
// last build, so that a poll of an unchanged server re-canonicalizes
// nothing: the raw bytes of each entity are hashed and looked up. It holds
// only the entities of the latest build, so its size is bounded by one
// manifest. A Cache is safe for one build at a time.
type Cache struct {
	last map[[32]byte]Entity
}

// BuildCached is Build with a per-server cache. The result is identical to
// Build's.
func BuildCached(c Capture, cache *Cache) (*Manifest, error) {
	next := map[[32]byte]Entity{}
	m, err := build(c, func(k Kind, raw json.RawMessage) (Entity, error) {
		h := sha256.Sum256(append([]byte(k), raw...))
		if e, ok := cache.last[h]; ok {
			next[h] = e
			return e, nil
		}
		e, err := newEntity(k, raw)
		if err == nil {
			next[h] = e
		}
		return e, err
	})
	if err == nil {
		cache.last = next
	}
	return m, err
}

func build(c Capture, entity func(Kind, json.RawMessage) (Entity, error)) (*Manifest, error) {
	if entity == nil {
		entity = newEntity
	}
	m := &Manifest{Entities: map[Kind][]Entity{}}
	server, err := canonicalServer(c.Init, c.Protocol)
	if err != nil {
		return nil, err
	}
	m.Server = server
	for _, k := range Kinds {
		for i, page := range c.Pages[k] {
			items, err := pageItems(k, page)
			if err != nil {
				return nil, fmt.Errorf("%s page %d: %w", listField[k], i+1, err)
			}
			for _, raw := range items {
				e, err := entity(k, raw)
				if err != nil {
					return nil, fmt.Errorf("%s page %d: %w", listField[k], i+1, err)
				}
				m.Entities[k] = append(m.Entities[k], e)
			}
		}
		sortEntities(m.Entities[k])
	}
	return m, nil
}

func canonicalServer(init json.RawMessage, protocol string) (json.RawMessage, error) {
	obj := map[string]any{}
	if len(bytes.TrimSpace(init)) > 0 {
		if err := decodeJSON(init, &obj); err != nil {
			return nil, fmt.Errorf("%w: initialize result: %w", ErrMalformed, err)
		}
		if obj == nil {
			obj = map[string]any{}
		}
	}
	// server/discover (protocol 2026-07-28) carries serverInfo in _meta,
	// initialize at the top level: keep it in one place either way.
	if _, ok := obj["serverInfo"]; !ok {
		if meta, ok := obj["_meta"].(map[string]any); ok {
			if info, ok := meta[metaKeyServerInfo]; ok {
				obj["serverInfo"] = info
			}
		}
	}
	for _, f := range volatileResultFields {
		delete(obj, f)
	}
	if protocol != "" {
		obj["protocolVersion"] = protocol
	}
	return canonicalJSON(obj)
}

func pageItems(k Kind, page json.RawMessage) ([]json.RawMessage, error) {
	// Only the entity array is kept: every other list-level field
	// (nextCursor, ttlMs, cacheScope, _meta) is volatile by rule. One struct
	// for every kind decodes the page in a single pass.
	var obj *struct {
		Tools             []json.RawMessage `json:"tools"`
		Prompts           []json.RawMessage `json:"prompts"`
		Resources         []json.RawMessage `json:"resources"`
		ResourceTemplates []json.RawMessage `json:"resourceTemplates"`
	}
	if err := json.Unmarshal(page, &obj); err != nil {
		return nil, fmt.Errorf("%w: %q is not an array of objects: %w", ErrMalformed, listField[k], err)
	}
	if obj == nil {
		return nil, fmt.Errorf("%w: list result is not a JSON object", ErrMalformed)
	}
	switch k {
	case KindTool:
		return obj.Tools, nil
	case KindPrompt:
		return obj.Prompts, nil
	case KindResource:
		return obj.Resources, nil
	default:
		return obj.ResourceTemplates, nil
	}
}

func newEntity(k Kind, raw json.RawMessage) (Entity, error) {
	var v any
	if err := decodeJSON(raw, &v); err != nil {
		return Entity{}, fmt.Errorf("%w: %s: %w", ErrMalformed, k, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return Entity{}, fmt.Errorf("%w: %s is not a JSON object", ErrMalformed, k)
	}
	if k == KindTool {
		for _, f := range []string{"inputSchema", "outputSchema"} {
			if s, ok := obj[f]; ok {
				obj[f] = normalizeSchema(s)
			}
		}
	}
	key, _ := obj[keyField[k]].(string)
	canon, err := canonicalJSON(obj)
	if err != nil {
		return Entity{}, fmt.Errorf("%w: %s %q: %w", ErrMalformed, k, key, err)
	}
	return Entity{Kind: k, Key: key, JSON: canon, Fingerprint: Fingerprint(canon)}, nil
}

func sortEntities(es []Entity) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Key != es[j].Key {
			return es[i].Key < es[j].Key
		}
		return bytes.Compare(es[i].JSON, es[j].JSON) < 0
	})
}

// decodeJSON decodes with UseNumber so that no number loses precision before
// JCS formats it.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// canonicalJSON marshals v and returns its RFC 8785 form.
func canonicalJSON(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out, err := jcs.Transform(b)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Canonicalize returns the RFC 8785 form of any JSON document.
func Canonicalize(data []byte) ([]byte, error) {
	var v any
	if err := decodeJSON(data, &v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return canonicalJSON(v)
}

// Fingerprint returns "sha256:" and the hex SHA-256 digest of b.
func Fingerprint(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Document returns the manifest's canonical document bytes: the form that is
// stored, shown and fingerprinted.
func (m *Manifest) Document() []byte {
	var buf bytes.Buffer
	// Keys are written in RFC 8785 order (sorted by UTF-16 code units, which
	// for these ASCII names is byte order) so the document is itself JCS.
	fmt.Fprintf(&buf, `{"format":%d,"prompts":`, FormatVersion)
	writeEntities(&buf, m.Entities[KindPrompt])
	buf.WriteString(`,"resource_templates":`)
	writeEntities(&buf, m.Entities[KindResourceTemplate])
	buf.WriteString(`,"resources":`)
	writeEntities(&buf, m.Entities[KindResource])
	buf.WriteString(`,"server":`)
	if len(m.Server) == 0 {
		buf.WriteString("{}")
	} else {
		buf.Write(m.Server)
	}
	buf.WriteString(`,"tools":`)
	writeEntities(&buf, m.Entities[KindTool])
	fmt.Fprintf(&buf, `,"volatile_rules":%d}`, VolatileRulesVersion)
	return buf.Bytes()
}

func writeEntities(buf *bytes.Buffer, es []Entity) {
	buf.WriteByte('[')
	for i, e := range es {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(e.JSON)
	}
	buf.WriteByte(']')
}

// ID returns the manifest fingerprint, the snapshot id.
func (m *Manifest) ID() string { return Fingerprint(m.Document()) }

// Count returns the number of entities of kind k.
func (m *Manifest) Count(k Kind) int { return len(m.Entities[k]) }

// Lookup returns the entities of kind k with the given key.
func (m *Manifest) Lookup(k Kind, key string) []Entity {
	es := m.Entities[k]
	i := sort.Search(len(es), func(i int) bool { return es[i].Key >= key })
	j := i
	for j < len(es) && es[j].Key == key {
		j++
	}
	return es[i:j]
}

// document is the decoded shape of Document.
type document struct {
	Format            int               `json:"format"`
	VolatileRules     int               `json:"volatile_rules"`
	Server            json.RawMessage   `json:"server"`
	Tools             []json.RawMessage `json:"tools"`
	Prompts           []json.RawMessage `json:"prompts"`
	Resources         []json.RawMessage `json:"resources"`
	ResourceTemplates []json.RawMessage `json:"resource_templates"`
}

// Parse reads a canonical document (as written by Document) back into a
// Manifest. Entities are re-canonicalized, so a hand-edited document parses to
// the same manifest as its canonical twin.
func Parse(doc []byte) (*Manifest, error) {
	var d document
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if d.Format != FormatVersion {
		return nil, fmt.Errorf("%w: format %d, this build reads format %d", ErrMalformed, d.Format, FormatVersion)
	}
	m := &Manifest{Entities: map[Kind][]Entity{}}
	server, err := Canonicalize(orEmpty(d.Server))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	m.Server = server
	lists := map[Kind][]json.RawMessage{
		KindTool: d.Tools, KindPrompt: d.Prompts,
		KindResource: d.Resources, KindResourceTemplate: d.ResourceTemplates,
	}
	for _, k := range Kinds {
		for _, raw := range lists[k] {
			e, err := newEntity(k, raw)
			if err != nil {
				return nil, err
			}
			m.Entities[k] = append(m.Entities[k], e)
		}
		sortEntities(m.Entities[k])
	}
	return m, nil
}

func orEmpty(b json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 || string(b) == "null" {
		return json.RawMessage("{}")
	}
	return b
}

// Clone returns a copy of m that shares no slices with it.
func (m *Manifest) Clone() *Manifest {
	c := &Manifest{Server: m.Server, Entities: make(map[Kind][]Entity, len(m.Entities))}
	for k, es := range m.Entities {
		c.Entities[k] = append([]Entity(nil), es...)
	}
	return c
}

// Replace makes es the entities of kind k with the given key (removing
// them when es is empty), keeping the order canonical. It is how a partial
// approval takes some tools from a snapshot into a baseline.
func (m *Manifest) Replace(k Kind, key string, es []Entity) {
	kept := m.Entities[k][:0:0]
	for _, e := range m.Entities[k] {
		if e.Key != key {
			kept = append(kept, e)
		}
	}
	kept = append(kept, es...)
	sortEntities(kept)
	m.Entities[k] = kept
}

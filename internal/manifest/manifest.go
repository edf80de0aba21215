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
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	segjson "github.com/segmentio/encoding/json"

	"github.com/gowebpki/jcs"
)

// FormatVersion is the version of the canonical document layout. It changes
// only when the canonical bytes of an unchanged server would change.
//
// Format 2 adds the top-level "identity" object (see Identity). A manifest
// without an identity is still written as format 1, byte for byte as
// before, so documents stored before identity existed, and manifests
// captured without one (custom transports, lock files), keep their ids.
// Parse reads both.
const FormatVersion = 2

// formatNoIdentity is the layout of a document without identity.
const formatNoIdentity = 1

// Kind names an entity type in a manifest.
type Kind string

// The entity kinds a manifest holds.
const (
	KindTool             Kind = "tool"
	KindPrompt           Kind = "prompt"
	KindResource         Kind = "resource"
	KindResourceTemplate Kind = "resource_template"
)

// EntityServer names the server itself (its info, capabilities,
// instructions and identity) as the entity of a change or finding.
const EntityServer = "server"

// EntityRank orders entities in reports: the server, tools, prompts,
// resources, resource templates, then anything else.
func EntityRank(entity string) int {
	if entity == EntityServer {
		return 0
	}
	for i, k := range Kinds {
		if string(k) == entity {
			return i + 1
		}
	}
	return len(Kinds) + 1
}

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
	// Identity is what the probe observed of the server's identity; nil
	// when nothing was (an in-memory transport).
	Identity *Identity
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

	// current: the canonical form under VolatileRulesVersion differs from
	// the one under legacyRules (see Manifest.rules).
	current bool
}

// Manifest is the canonical view of one server's manifest.
type Manifest struct {
	// Server is the canonical JSON object of server-level fields:
	// protocolVersion, serverInfo, capabilities, instructions and any other
	// non-volatile initialize result field.
	Server json.RawMessage
	// Entities per kind, sorted by Key, then by JSON for duplicate keys.
	Entities map[Kind][]Entity
	// Identity is the canonical JSON of the observed Identity, or empty
	// when none was recorded.
	Identity json.RawMessage
	// Rules is the volatile rules version the entities were canonicalized
	// under: 0 for the current VolatileRulesVersion. Only Parse sets it,
	// for a document written by an older release (see Under).
	Rules int

	// serverCurrent: the server object's canonical form needs the current
	// rules (it holds a lone surrogate).
	serverCurrent bool
	// stored is the volatile_rules a ParseStored document was written
	// under: its entities do not say which of them needed the current
	// rules, so the manifest keeps needing them as a whole.
	stored int
}

// rules is the version written in the document: the oldest one under
// which the canonical bytes are the same. A manifest that holds nothing
// the current rules tell apart is written exactly as an older release
// wrote it, so an upgrade changes no snapshot id but those of the
// manifests it sees more of.
func (m *Manifest) rules() int {
	if m.Rules != 0 {
		return m.Rules
	}
	if m.serverCurrent || m.stored == VolatileRulesVersion {
		return VolatileRulesVersion
	}
	for _, es := range m.Entities {
		for _, e := range es {
			if e.current {
				return VolatileRulesVersion
			}
		}
	}
	return legacyRules
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
// the last manifest and one hash per entity, never the raw bytes, so it
// costs about the canonical manifest itself. It keeps nothing but a hash
// after a server's first build: a process that builds each server once
// (`mcpdrift check` over 1,000 servers) would only hold every manifest
// until it exits, while a daemon's third poll of a server is a hit (issue
// 15: per-server memory). A Cache is safe for one build at a time.
type Cache struct {
	last map[[32]byte]Entity // raw entity hash -> entity (sharing m's bytes)
	// The last manifest and the key of the capture it was built from.
	capture string
	m       *Manifest
	built   bool // a build succeeded before: keep the next ones
}

// BuildCached is Build with a per-server cache; key is CaptureKey(c),
// which the caller has already. The result is identical to Build's; for
// a capture identical to the previous one (from the third build on) it is
// the same Manifest, which callers therefore must not modify.
func BuildCached(c Capture, key string, cache *Cache) (*Manifest, error) {
	if cache.m != nil && key == cache.capture {
		return cache.m, nil
	}
	if !cache.built {
		m, err := Build(c)
		cache.built = err == nil
		return m, err
	}
	next := map[[32]byte]Entity{}
	m, err := build(c, func(k Kind, page json.RawMessage) ([]Entity, error) {
		items, err := pageItems(k, page)
		if err != nil {
			return nil, err
		}
		es := make([]Entity, 0, len(items))
		for _, raw := range items {
			h := entityHash(k, raw)
			e, ok := cache.last[h]
			if !ok {
				if e, err = newEntity(k, raw, VolatileRulesVersion); err != nil {
					return nil, err
				}
			}
			next[h] = e
			es = append(es, e)
		}
		return es, nil
	})
	if err == nil {
		cache.last = next
		cache.capture, cache.m = key, m
	}
	return m, err
}

// entityHash identifies one raw entity of kind k.
func entityHash(k Kind, raw []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(k))
	h.Write([]byte{0})
	h.Write(raw)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// captureHash identifies a capture by everything Build reads from it.
func captureHash(c Capture) [32]byte {
	h := sha256.New()
	count := func(n int) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	field := func(b []byte) {
		count(len(b))
		h.Write(b)
	}
	field(c.Init)
	field([]byte(c.Protocol))
	id, err := json.Marshal(c.Identity)
	if err != nil {
		// Not cacheable; build reports the problem.
		id = []byte(err.Error())
	}
	field(id)
	for _, k := range Kinds {
		count(len(c.Pages[k]))
		for _, page := range c.Pages[k] {
			field(page)
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// pageEntities canonicalizes every entity of one page.
func pageEntities(k Kind, page json.RawMessage) ([]Entity, error) {
	items, err := pageItems(k, page)
	if err != nil {
		return nil, err
	}
	es := make([]Entity, 0, len(items))
	for _, raw := range items {
		e, err := newEntity(k, raw, VolatileRulesVersion)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, nil
}

func build(c Capture, entities func(Kind, json.RawMessage) ([]Entity, error)) (*Manifest, error) {
	if entities == nil {
		entities = pageEntities
	}
	m := &Manifest{Entities: map[Kind][]Entity{}}
	server, current, err := canonicalServer(c.Init, c.Protocol)
	if err != nil {
		return nil, err
	}
	m.Server, m.serverCurrent = server, current
	if m.Identity, err = canonicalIdentity(c.Identity); err != nil {
		return nil, err
	}
	for _, k := range Kinds {
		for i, page := range c.Pages[k] {
			es, err := entities(k, page)
			if err != nil {
				return nil, fmt.Errorf("%s page %d: %w", listField[k], i+1, err)
			}
			m.Entities[k] = append(m.Entities[k], es...)
		}
		sortEntities(m.Entities[k])
	}
	return m, nil
}

func canonicalServer(init json.RawMessage, protocol string) (json.RawMessage, bool, error) {
	obj := map[string]any{}
	if len(bytes.TrimSpace(init)) > 0 {
		if err := decodeJSON(protectSurrogates(init), &obj); err != nil {
			return nil, false, fmt.Errorf("%w: initialize result: %w", ErrMalformed, err)
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
	return canonicalValue(obj, VolatileRulesVersion)
}

func pageItems(k Kind, page json.RawMessage) ([]json.RawMessage, error) {
	items, _, err := Page(k, page)
	return items, err
}

// Page splits one raw list result into its raw entities and its
// nextCursor, in a single decoding pass. Every other list-level field
// (ttlMs, cacheScope, _meta) is volatile by rule and ignored. The items
// are slices of page, not copies: a large page is not held twice while
// it is canonicalized.
func Page(k Kind, page json.RawMessage) (items []json.RawMessage, nextCursor string, err error) {
	var obj *struct {
		Tools             []json.RawMessage `json:"tools"`
		Prompts           []json.RawMessage `json:"prompts"`
		Resources         []json.RawMessage `json:"resources"`
		ResourceTemplates []json.RawMessage `json:"resourceTemplates"`
		NextCursor        *string           `json:"nextCursor"`
	}
	// The SDK's parser, with its exact key matching: a page means here
	// what it means to an MCP client, and it is 5 times faster than
	// encoding/json on the large pages a probe reads.
	rest, err := segjson.Parse(page, &obj, segjson.DontMatchCaseInsensitiveStructFields|segjson.DontCopyRawMessage)
	if err == nil && len(bytes.TrimSpace(rest)) > 0 {
		err = errors.New("data after the result")
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w: list result: %q must be an array of objects and nextCursor a string: %w", ErrMalformed, listField[k], err)
	}
	if obj == nil {
		return nil, "", fmt.Errorf("%w: list result is not a JSON object", ErrMalformed)
	}
	if obj.NextCursor != nil {
		nextCursor = *obj.NextCursor
	}
	switch k {
	case KindTool:
		return obj.Tools, nextCursor, nil
	case KindPrompt:
		return obj.Prompts, nextCursor, nil
	case KindResource:
		return obj.Resources, nextCursor, nil
	default:
		return obj.ResourceTemplates, nextCursor, nil
	}
}

func newEntity(k Kind, raw json.RawMessage, rules int) (Entity, error) {
	var v any
	data := raw
	if rules >= 2 {
		data = protectSurrogates(raw)
	}
	if err := decodeJSON(data, &v); err != nil {
		return Entity{}, fmt.Errorf("%w: %s: %w", ErrMalformed, k, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return Entity{}, fmt.Errorf("%w: %s is not a JSON object", ErrMalformed, k)
	}
	if k == KindTool {
		for _, f := range []string{"inputSchema", "outputSchema"} {
			if s, ok := obj[f]; ok {
				obj[f] = normalizeSchema(s, rules)
			}
		}
	}
	key, _ := obj[keyField[k]].(string)
	canon, current, err := canonicalValue(obj, rules)
	if err != nil {
		return Entity{}, fmt.Errorf("%w: %s %q: %w", ErrMalformed, k, key, err)
	}
	if rules >= 2 && k == KindTool {
		current = current || unsortedRequired(obj["inputSchema"]) || unsortedRequired(obj["outputSchema"])
	}
	return Entity{Kind: k, Key: key, JSON: canon, Fingerprint: Fingerprint(canon), current: current}, nil
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

// Canonicalize returns the RFC 8785 form of any JSON document, escaped
// lone UTF-16 surrogates kept as escapes.
func Canonicalize(data []byte) ([]byte, error) {
	return canonicalize(data, VolatileRulesVersion)
}

func canonicalize(data []byte, rules int) ([]byte, error) {
	out, _, err := canonicalizeCurrent(data, rules)
	return out, err
}

// canonicalizeCurrent is canonicalize, and whether the result needs
// rules version 2.
func canonicalizeCurrent(data []byte, rules int) ([]byte, bool, error) {
	if rules >= 2 {
		data = protectSurrogates(data)
	}
	var v any
	if err := decodeJSON(data, &v); err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return canonicalValue(v, rules)
}

// canonicalValue is the canonical JSON of a decoded value under a rules
// version; under version 2, lone surrogates (marked by protectSurrogates)
// stay escapes and numbers outside the float64 range keep their value.
// current reports whether it holds either, which version 1 could not write.
func canonicalValue(v any, rules int) (canon json.RawMessage, current bool, err error) {
	big := false
	if rules >= 2 {
		v, big = markBigNumbers(v)
	}
	if canon, err = canonicalJSON(v); err != nil || rules < 2 {
		return exact(canon), false, err
	}
	canon = restoreSurrogates(restoreBigNumbers(canon))
	return exact(canon), big || hasLoneSurrogate(canon), nil
}

// exact returns b in a slice of its own length: a canonical form outlives
// its build (in the manifest, the per-server cache), and the spare
// capacity of the buffer it was written into would be held with it, about
// as much again (issue 15: per-server memory).
func exact(b []byte) []byte {
	if cap(b)-len(b) < 64 {
		return b
	}
	return bytes.Clone(b)
}

// Fingerprint returns "sha256:" and the hex SHA-256 digest of b.
func Fingerprint(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Document returns the manifest's canonical document bytes: the form that is
// stored, shown and fingerprinted. The buffer is allocated once at its
// final size: a document can be tens of MiB.
func (m *Manifest) Document() []byte {
	var n counter
	m.writeDocument(&n)
	buf := bytes.NewBuffer(make([]byte, 0, int(n)))
	m.writeDocument(buf)
	return buf.Bytes()
}

// ID returns the manifest fingerprint, the snapshot id, hashing the
// document as it is written instead of building it.
func (m *Manifest) ID() string {
	h := sha256.New()
	m.writeDocument(h)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// counter is an io.Writer that counts.
type counter int

func (c *counter) Write(b []byte) (int, error) {
	*c += counter(len(b))
	return len(b), nil
}

// writeDocument writes the document to w, which never fails (a buffer,
// a hash, a counter).
func (m *Manifest) writeDocument(w io.Writer) {
	put := func(b []byte) { _, _ = w.Write(b) }
	// Keys are written in RFC 8785 order (sorted by UTF-16 code units, which
	// for these ASCII names is byte order) so the document is itself JCS.
	if len(m.Identity) == 0 {
		put(fmt.Appendf(nil, `{"format":%d,"prompts":`, formatNoIdentity))
	} else {
		put(fmt.Appendf(nil, `{"format":%d,"identity":`, FormatVersion))
		put(m.Identity)
		put([]byte(`,"prompts":`))
	}
	entities := func(es []Entity) {
		put([]byte("["))
		for i, e := range es {
			if i > 0 {
				put([]byte(","))
			}
			put(e.JSON)
		}
		put([]byte("]"))
	}
	entities(m.Entities[KindPrompt])
	put([]byte(`,"resource_templates":`))
	entities(m.Entities[KindResourceTemplate])
	put([]byte(`,"resources":`))
	entities(m.Entities[KindResource])
	put([]byte(`,"server":`))
	if len(m.Server) == 0 {
		put([]byte("{}"))
	} else {
		put(m.Server)
	}
	put([]byte(`,"tools":`))
	entities(m.Entities[KindTool])
	put(fmt.Appendf(nil, `,"volatile_rules":%d}`, m.rules()))
}

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
	Identity          json.RawMessage   `json:"identity"`
	Tools             []json.RawMessage `json:"tools"`
	Prompts           []json.RawMessage `json:"prompts"`
	Resources         []json.RawMessage `json:"resources"`
	ResourceTemplates []json.RawMessage `json:"resource_templates"`
}

// readDocument decodes a document's top level, its entities slices of doc.
func readDocument(doc []byte) (document, error) {
	var d document
	rest, err := segjson.Parse(doc, &d, segjson.DontCopyRawMessage)
	if err == nil && len(bytes.TrimSpace(rest)) > 0 {
		err = errors.New("data after the document")
	}
	if err != nil {
		return d, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if d.Format != FormatVersion && d.Format != formatNoIdentity {
		return d, fmt.Errorf("%w: format %d, this build reads formats %d and %d", ErrMalformed, d.Format, formatNoIdentity, FormatVersion)
	}
	return d, nil
}

// lists returns the document's raw entities by kind.
func (d *document) lists() map[Kind][]json.RawMessage {
	return map[Kind][]json.RawMessage{
		KindTool: d.Tools, KindPrompt: d.Prompts,
		KindResource: d.Resources, KindResourceTemplate: d.ResourceTemplates,
	}
}

// Parse reads a canonical document (as written by Document) back into a
// Manifest. Entities are re-canonicalized, so a hand-edited document parses to
// the same manifest as its canonical twin.
func Parse(doc []byte) (*Manifest, error) {
	// The entities are slices of doc, not copies (a document can be tens
	// of MiB); each is canonicalized into bytes of its own below.
	d, err := readDocument(doc)
	if err != nil {
		return nil, err
	}
	rules := d.VolatileRules
	switch {
	case rules == 0 || rules == VolatileRulesVersion:
		// 0: a hand-written document without the field.
		rules = VolatileRulesVersion
	case rules < legacyRules || rules > VolatileRulesVersion:
		return nil, fmt.Errorf("%w: volatile_rules %d, this build reads %d to %d", ErrMalformed, rules, legacyRules, VolatileRulesVersion)
	}
	m := &Manifest{Entities: map[Kind][]Entity{}}
	if rules != VolatileRulesVersion {
		m.Rules = rules
	}
	server, current, err := canonicalizeCurrent(orEmpty(d.Server), rules)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	m.Server, m.serverCurrent = server, current
	if raw := d.Identity; len(bytes.TrimSpace(raw)) > 0 && string(raw) != "null" {
		// The identity is re-canonicalized through its type, so a
		// hand-edited document cannot smuggle in fields the comparison
		// would never see.
		id, err := DecodeIdentity(raw)
		if err != nil {
			return nil, err
		}
		if m.Identity, err = canonicalIdentity(id); err != nil {
			return nil, err
		}
	}
	lists := d.lists()
	for _, k := range Kinds {
		for _, raw := range lists[k] {
			e, err := newEntity(k, raw, rules)
			if err != nil {
				return nil, err
			}
			m.Entities[k] = append(m.Entities[k], e)
		}
		sortEntities(m.Entities[k])
	}
	return m, nil
}

// ToolNames returns the keys of the tools of a document (as written by
// Document), sorted, as Parse would give them, without canonicalizing
// anything: the cross-server lint index reads every configured server's
// latest document for its tool names, and parsing 1,000 documents of 100
// tools whole took a quarter of a fresh `mcpdrift check` (issue 15).
func ToolNames(doc []byte) ([]string, error) {
	var d struct {
		VolatileRules int               `json:"volatile_rules"`
		Tools         []json.RawMessage `json:"tools"`
	}
	rest, err := segjson.Parse(doc, &d, segjson.DontCopyRawMessage)
	if err == nil && len(bytes.TrimSpace(rest)) > 0 {
		err = errors.New("data after the document")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	names := make([]string, 0, len(d.Tools))
	for _, raw := range d.Tools {
		// The key as newEntity reads it: the exact member name (the last
		// one wins), lone surrogates kept apart, a non-string is "". Only
		// the name's value is decoded, never the schema.
		var members map[string]json.RawMessage
		if _, err := segjson.Parse(raw, &members, segjson.DontCopyRawMessage); err != nil {
			return nil, fmt.Errorf("%w: tool: %w", ErrMalformed, err)
		}
		var name any
		if v, ok := members[keyField[KindTool]]; ok {
			if d.VolatileRules == 0 || d.VolatileRules >= 2 {
				v = protectSurrogates(v)
			}
			if err := decodeJSON(v, &name); err != nil {
				return nil, fmt.Errorf("%w: tool name: %w", ErrMalformed, err)
			}
		}
		s, _ := name.(string)
		names = append(names, s)
	}
	sort.Strings(names)
	return names, nil
}

// Under returns m canonicalized under an older volatile rules version (a
// baseline's Rules), so that comparing it with that baseline shows only
// what the server changed, never what a newer canonical form tells apart.
// It returns m itself when rules is 0 or m's own.
func Under(m *Manifest, rules int) (*Manifest, error) {
	if rules == 0 || rules == m.rules() {
		return m, nil
	}
	doc := m.Document()
	// Rewrite only the trailing version: the document is JCS, so the
	// field is always last.
	i := bytes.LastIndex(doc, []byte(`,"volatile_rules":`))
	if i < 0 {
		return nil, fmt.Errorf("%w: document without volatile_rules", ErrMalformed)
	}
	old := append(append([]byte{}, doc[:i]...), fmt.Sprintf(`,"volatile_rules":%d}`, rules)...)
	return Parse(old)
}

func orEmpty(b json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 || string(b) == "null" {
		return json.RawMessage("{}")
	}
	return b
}

// Clone returns a copy of m that shares no slices with it.
func (m *Manifest) Clone() *Manifest {
	c := &Manifest{Server: m.Server, Identity: m.Identity, Rules: m.Rules, serverCurrent: m.serverCurrent, stored: m.stored, Entities: make(map[Kind][]Entity, len(m.Entities))}
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

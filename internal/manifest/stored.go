package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"

	segjson "github.com/segmentio/encoding/json"
)

// captureKeyVersion changes when the canonical form a capture builds to
// changes without VolatileRulesVersion or FormatVersion changing, so that
// a key remembered by an older build never matches.
const captureKeyVersion = 1

// CaptureKey identifies a capture together with the rules this build
// canonicalizes it under: two captures with the same key build the same
// manifest. A store that remembers the key of the capture its latest
// snapshot was built from lets a new process skip canonicalizing an
// unchanged server (ParseStored), which is most of a steady-state check's
// work beyond listing.
func CaptureKey(c Capture) string {
	h := captureHash(c)
	return string(append([]byte{captureKeyVersion, FormatVersion, VolatileRulesVersion}, h[:]...))
}

// ParseStored reads a document this package wrote (Document) and a store
// kept under its id, without canonicalizing its entities again: they are
// canonical already, so each is only split out, keyed and fingerprinted.
// It verifies that the manifest writes back to the same id, so a document
// that is not the canonical form it claims to be is an error (the caller
// then builds from the capture instead). Parse is for documents from
// anywhere else.
func ParseStored(doc []byte, id string) (*Manifest, error) {
	d, err := readDocument(doc)
	if err != nil {
		return nil, err
	}
	if d.VolatileRules < legacyRules || d.VolatileRules > VolatileRulesVersion {
		return nil, fmt.Errorf("%w: stored document of volatile_rules %d", ErrMalformed, d.VolatileRules)
	}
	// Rules stays 0 as after Build: the canonical bytes are the current
	// rules' output, written under the oldest version that gives them.
	m := &Manifest{Entities: map[Kind][]Entity{}, stored: d.VolatileRules, Server: d.Server}
	if len(d.Server) == 0 {
		m.Server = json.RawMessage("{}")
	}
	if raw := d.Identity; len(bytes.TrimSpace(raw)) > 0 && string(raw) != "null" {
		m.Identity = raw
	}
	lists := d.lists()
	for _, k := range Kinds {
		es := make([]Entity, 0, len(lists[k]))
		for _, raw := range lists[k] {
			key, err := entityKey(k, raw)
			if err != nil {
				return nil, err
			}
			es = append(es, Entity{Kind: k, Key: key, JSON: raw, Fingerprint: Fingerprint(raw)})
		}
		if len(es) > 0 {
			m.Entities[k] = es
		}
	}
	if got := m.ID(); got != id {
		return nil, fmt.Errorf("%w: stored document %s reads back as %s", ErrMalformed, id, got)
	}
	return m, nil
}

// entityKey reads the identity field of one canonical entity.
func entityKey(k Kind, raw json.RawMessage) (string, error) {
	var obj struct {
		Name        json.RawMessage `json:"name"`
		URI         json.RawMessage `json:"uri"`
		URITemplate json.RawMessage `json:"uriTemplate"`
	}
	if _, err := segjson.Parse(raw, &obj, segjson.DontMatchCaseInsensitiveStructFields|segjson.DontCopyRawMessage); err != nil {
		return "", fmt.Errorf("%w: stored %s: %w", ErrMalformed, k, err)
	}
	v := obj.Name
	switch keyField[k] {
	case "uri":
		v = obj.URI
	case "uriTemplate":
		v = obj.URITemplate
	}
	var key string
	// A key that is not a string is "", as in newEntity.
	_ = segjson.Unmarshal(v, &key)
	return key, nil
}

package lint

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jobj is a decoded JSON object: its members in document order (sorted,
// for the canonical JSON lint reads). Strings decode to string, arrays to
// []any, objects to jobj; numbers, booleans and null decode to nil, since
// no rule reads them.
//
// This small decoder exists because lint reads every string of every
// entity on every snapshot: decoding into maps with encoding/json cost
// more than all the rules together. Strings without escapes are slices of
// the input, not copies.
type jobj []jkv

type jkv struct {
	k string
	v any
}

// get returns the value of member k.
func (o jobj) get(k string) (any, bool) {
	for _, kv := range o {
		if kv.k == k {
			return kv.v, true
		}
	}
	return nil, false
}

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 512

var errJSON = errors.New("invalid JSON")

// parseJSON decodes one JSON value.
func parseJSON(s string) (any, error) {
	p := jparser{s: s}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(s) {
		return nil, errJSON
	}
	return v, nil
}

type jparser struct {
	s string
	i int
}

func (p *jparser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jparser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errJSON
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errJSON
	}
	switch c := p.s[p.i]; {
	case c == '"':
		return p.str()
	case c == '{':
		p.i++
		var o jobj
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return o, nil
		}
		for {
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, errJSON
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, errJSON
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			o = append(o, jkv{k, v})
			p.space()
			if p.i >= len(p.s) {
				return nil, errJSON
			}
			if p.s[p.i] == '}' {
				p.i++
				return o, nil
			}
			if p.s[p.i] != ',' {
				return nil, errJSON
			}
			p.i++
		}
	case c == '[':
		p.i++
		a := []any{}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return a, nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			p.space()
			if p.i >= len(p.s) {
				return nil, errJSON
			}
			if p.s[p.i] == ']' {
				p.i++
				return a, nil
			}
			if p.s[p.i] != ',' {
				return nil, errJSON
			}
			p.i++
		}
	default:
		// A number or literal: skip it, checking only that it is one.
		j := p.i
		for j < len(p.s) && strings.IndexByte("+-.0123456789eEtrufalsn", p.s[j]) >= 0 {
			j++
		}
		if j == p.i {
			return nil, errJSON
		}
		p.i = j
		return nil, nil
	}
}

// str decodes the string starting at the quote at p.i.
func (p *jparser) str() (string, error) {
	start := p.i + 1
	j := start
	for j < len(p.s) {
		c := p.s[j]
		if c == '"' {
			p.i = j + 1
			return p.s[start:j], nil
		}
		if c == '\\' {
			break
		}
		j++
	}
	var b strings.Builder
	b.WriteString(p.s[start:j])
	for j < len(p.s) {
		c := p.s[j]
		switch {
		case c == '"':
			p.i = j + 1
			return b.String(), nil
		case c != '\\':
			b.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(p.s) {
			return "", errJSON
		}
		e := p.s[j+1]
		j += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(p.s, j)
			if !ok {
				return "", errJSON
			}
			j += 4
			if utf16.IsSurrogate(r) {
				// A pair decodes to one rune; a lone half, as in
				// encoding/json, to U+FFFD.
				if r2, ok := hex4(p.s, j+2); ok && j+1 < len(p.s) && p.s[j] == '\\' && p.s[j+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						b.WriteRune(d)
						j += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			return "", errJSON
		}
	}
	return "", errJSON
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

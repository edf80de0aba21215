package lint

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Minimum run lengths of the encoded-payload rule: longer than any hash a
// description would quote (a SHA-256 is 64 hex digits or 44 base64
// characters).
const (
	minBase64 = 80
	minHex    = 96
)

// payloads finds long base64 or hex runs in the raw text, decodes them, and
// raises the finding when the decoded text itself trips a rule.
func (c *checker) payloads(u *unit) []Finding {
	s := u.text
	if len(s) < minBase64 {
		return nil
	}
	ri := 0
	for i := 0; i < len(s); {
		if !isB64(s[i]) {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			ri++
			continue
		}
		j := i
		for j < len(s) && isB64(s[j]) {
			j++
		}
		run := s[i:j]
		start := ri
		ri += j - i
		i = j
		kind := payloadKind(run)
		if kind == "" {
			continue
		}
		decoded := decodePayload(run, kind)
		level := severity.Medium
		msg := itoa(len(run)) + "-character " + kind + " run"
		if decoded != "" {
			inner := c.decodedFindings(u, decoded)
			if inner != "" {
				level = severity.High
				msg += " decodes to text that trips " + inner + ": " + quote(decoded)
			} else {
				msg += " decodes to text: " + quote(decoded)
			}
		}
		return []Finding{c.finding(u, RuleEncodedPayload, level, msg, start, start+len(run))}
	}
	return nil
}

func isB64(b byte) bool {
	return isASCIILetter(b|0x20) || ('0' <= b && b <= '9') || b == '+' || b == '/' || b == '=' || b == '_' || b == '-'
}

// payloadKind says whether a run is a hex or base64 payload, or "" for
// runs that are identifiers, paths or too short.
func payloadKind(run string) string {
	run = strings.TrimRight(run, "=")
	var upper, lower, digit, slash, other int
	hexOnly := true
	for i := 0; i < len(run); i++ {
		b := run[i]
		switch {
		case 'A' <= b && b <= 'Z':
			upper++
			hexOnly = hexOnly && b <= 'F'
		case 'a' <= b && b <= 'z':
			lower++
			hexOnly = hexOnly && b <= 'f'
		case '0' <= b && b <= '9':
			digit++
		case b == '/':
			slash++
			hexOnly = false
		default:
			other++
			hexOnly = false
		}
	}
	if hexOnly && len(run) >= minHex && digit > 0 && (upper == 0 || lower == 0) {
		return "hex"
	}
	if len(run) < minBase64 || upper == 0 || lower == 0 || digit == 0 {
		return ""
	}
	// A path or a snake_case identifier is not base64: real base64 has few
	// separators and no long lower-case-only stretches.
	if slash*16 > len(run) || other*8 > len(run) {
		return ""
	}
	return "base64"
}

// decodePayload decodes a run and returns the text it holds when that is
// mostly printable, else "".
func decodePayload(run, kind string) string {
	var b []byte
	var err error
	if kind == "hex" {
		b, err = hex.DecodeString(run[:len(run)&^1])
	} else {
		trimmed := strings.TrimRight(run, "=")
		if len(trimmed)%4 == 1 {
			trimmed = trimmed[:len(trimmed)-1] // a partial quantum cannot decode
		}
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err = enc.DecodeString(trimmed); err == nil {
				break
			}
		}
	}
	if err != nil || !utf8.Valid(b) {
		return ""
	}
	printable := 0
	for _, r := range string(b) {
		if r == '\n' || r == '\t' || r == '\r' || (r >= 0x20 && r != 0x7f && r != utf8.RuneError) {
			printable++
		}
	}
	if printable*10 < utf8.RuneCount(b)*9 {
		return ""
	}
	return string(b)
}

// decodedFindings lints decoded payload text and names the rules of medium
// or higher it trips ("" when none).
func (c *checker) decodedFindings(u *unit, text string) string {
	inner := &unit{entity: u.entity, name: u.name, path: u.path, rawPath: u.rawPath, text: text, role: roleText, param: u.param}
	var rules []string
	for _, f := range append(c.phrases(inner), c.destinations(inner)...) {
		if f.Severity < severity.Medium {
			continue
		}
		dup := false
		for _, r := range rules {
			dup = dup || r == f.Rule
		}
		if !dup {
			rules = append(rules, f.Rule)
		}
	}
	return strings.Join(rules, ", ")
}

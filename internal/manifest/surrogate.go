package manifest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// A JSON string may escape a lone UTF-16 surrogate ("\udc00"), which a
// JavaScript client keeps as it is, but which Go's decoder turns into
// U+FFFD: two different lone surrogates would canonicalize to the same
// bytes. protectSurrogates rewrites each such escape, before decoding, as
// the noncharacter U+FFFE followed by its four hex digits (and a literal
// U+FFFE as U+FFFE "fffe", so the mapping stays one to one);
// restoreSurrogates turns the canonical output back into "\udc00" and
// U+FFFE. The canonical form is then still valid JSON, and
// canonicalizing it again gives the same bytes.

// surrogateMark is U+FFFE in UTF-8.
const surrogateMark = "\xef\xbf\xbe"

// protectSurrogates returns data with lone surrogate escapes and U+FFFE
// marked; data itself when there is nothing to mark.
func protectSurrogates(data []byte) []byte {
	if !bytes.Contains(data, []byte(`\u`)) && !bytes.Contains(data, []byte(surrogateMark)) {
		return data
	}
	var out []byte
	inString := false
	last := 0
	emit := func(i, skip int, hex string) {
		if out == nil {
			out = make([]byte, 0, len(data)+16)
		}
		out = append(out, data[last:i]...)
		out = append(out, surrogateMark...)
		out = append(out, hex...)
		last = i + skip
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case !inString:
			if c == '"' {
				inString = true
			}
		case c == '"':
			inString = false
		case c == '\\':
			cp, ok := hex4(data, i+2)
			if i+1 >= len(data) || data[i+1] != 'u' || !ok {
				i++ // any other escape: skip the escaped byte
				continue
			}
			switch {
			case cp >= 0xd800 && cp < 0xdc00:
				if lo, ok := hex4(data, i+8); ok && i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' && lo >= 0xdc00 && lo < 0xe000 {
					i += 11 // a valid pair
					continue
				}
				emit(i, 6, strings.ToLower(string(data[i+2:i+6])))
			case cp >= 0xdc00 && cp < 0xe000:
				emit(i, 6, strings.ToLower(string(data[i+2:i+6])))
			case cp == 0xfffe:
				emit(i, 6, "fffe")
			}
			i += 5
		case c == 0xef && bytes.HasPrefix(data[i:], []byte(surrogateMark)):
			emit(i, 3, "fffe")
			i += 2
		}
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(data[at:at+4]), 16, 32)
	return rune(v), err == nil
}

// restoreSurrogates turns every mark of protectSurrogates in canonical
// JSON back into an escape (a lone surrogate) or U+FFFE.
func restoreSurrogates(canon []byte) []byte {
	if !bytes.Contains(canon, []byte(surrogateMark)) {
		return canon
	}
	var out []byte
	for {
		i := bytes.Index(canon, []byte(surrogateMark))
		if i < 0 || i+len(surrogateMark)+4 > len(canon) {
			return append(out, canon...)
		}
		out = append(out, canon[:i]...)
		hex := canon[i+len(surrogateMark) : i+len(surrogateMark)+4]
		if string(hex) == "fffe" {
			// U+FFFE itself, written raw as JCS (and version 1) did.
			out = append(out, surrogateMark...)
		} else {
			out = append(out, `\u`...)
			out = append(out, hex...)
		}
		canon = canon[i+len(surrogateMark)+4:]
	}
}

// DecodeValue decodes canonical JSON (numbers as json.Number) for
// comparison and display: a lone surrogate becomes the text "<U+DC00>",
// the marker the escape package uses for invisible characters, so two
// different ones compare and show as different.
func DecodeValue(data []byte) (any, error) {
	var v any
	if err := decodeJSON(protectSurrogates(data), &v); err != nil {
		return nil, err
	}
	return unmark(v), nil
}

func unmark(v any) any {
	switch x := v.(type) {
	case string:
		return unmarkString(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, c := range x {
			out[unmarkString(k)] = unmark(c)
		}
		return out
	case []any:
		for i := range x {
			x[i] = unmark(x[i])
		}
		return x
	}
	return v
}

func unmarkString(s string) string {
	if !strings.Contains(s, surrogateMark) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, surrogateMark)
		if i < 0 || i+len(surrogateMark)+4 > len(s) {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		hex := s[i+len(surrogateMark) : i+len(surrogateMark)+4]
		if hex == "fffe" {
			b.WriteString("\ufffe")
		} else {
			b.WriteString("<U+" + strings.ToUpper(hex) + ">")
		}
		s = s[i+len(surrogateMark)+4:]
	}
}

// hasLoneSurrogate reports whether canonical JSON escapes a lone
// surrogate: the only escapes JCS writes are of control characters, "\\"
// and the quote, so any "\ud" is one. (A literal backslash before "ud" is
// written "\\ud", which an even run of backslashes tells apart.)
func hasLoneSurrogate(canon []byte) bool {
	for i := 0; ; {
		j := bytes.Index(canon[i:], []byte(`\ud`))
		if j < 0 {
			return false
		}
		j += i
		n := 0
		for k := j - 1; k >= 0 && canon[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return true
		}
		i = j + 3
	}
}

// A number outside the float64 range (1e400) is valid JSON, and a
// JavaScript client reads it (as Infinity), but RFC 8785 has no form for
// it. markBigNumbers replaces each such number, after decoding, with a
// marked string holding its exact decimal value normalized ("1e+400" for
// 1e400, 10e399 and 1.0e400); restoreBigNumbers writes it back as that
// number in the canonical output. Different values stay different, the
// same value spelled differently is one. The mark is never followed by
// "n" in a decoded string (protectSurrogates writes four hex digits after
// it), so no server string can pass for a number.

const bigNumberMark = surrogateMark + "n"

// markBigNumbers walks a decoded value; it reports whether it marked one.
func markBigNumbers(v any) (any, bool) {
	switch x := v.(type) {
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err == nil {
			return v, false
		}
		if d, ok := normalDecimal(string(x)); ok {
			return bigNumberMark + d, true
		}
	case map[string]any:
		found := false
		for k, c := range x {
			nc, f := markBigNumbers(c)
			x[k] = nc
			found = found || f
		}
		return x, found
	case []any:
		found := false
		for i := range x {
			var f bool
			x[i], f = markBigNumbers(x[i])
			found = found || f
		}
		return x, found
	}
	return v, false
}

// normalDecimal writes a JSON number as [-]d[.ddd]e[+-]N with no
// superfluous zeros: one spelling per decimal value.
func normalDecimal(s string) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exp := s, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.ParseInt(strings.TrimPrefix(s[i+1:], "+"), 10, 64)
		if err != nil {
			return "", false
		}
		mant, exp = s[:i], e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	exp -= int64(len(frac))
	// digits * 10^exp: drop leading and trailing zeros.
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", true
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	digits = trimmed
	// d.ddd e (exp + len-1)
	e := exp + int64(len(digits)-1)
	out := digits[:1]
	if len(digits) > 1 {
		out += "." + digits[1:]
	}
	sign := "+"
	if e < 0 {
		sign = "-"
		e = -e
	}
	out += "e" + sign + strconv.FormatInt(e, 10)
	if neg {
		out = "-" + out
	}
	return out, true
}

// restoreBigNumbers turns every marked string of markBigNumbers in
// canonical JSON back into its number.
func restoreBigNumbers(canon []byte) []byte {
	quoted := []byte(`"` + bigNumberMark)
	if !bytes.Contains(canon, quoted) {
		return canon
	}
	var out []byte
	for {
		i := bytes.Index(canon, quoted)
		if i < 0 {
			return append(out, canon...)
		}
		end := bytes.IndexByte(canon[i+len(quoted):], '"')
		if end < 0 {
			return append(out, canon...)
		}
		out = append(out, canon[:i]...)
		out = append(out, canon[i+len(quoted):i+len(quoted)+end]...)
		canon = canon[i+len(quoted)+end+1:]
	}
}

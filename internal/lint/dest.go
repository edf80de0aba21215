package lint

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

var (
	// exfilStrongRe are verbs that move data out whatever the object.
	exfilStrongRe = compile(`(?:exfiltrat\w*|leak(?:s|ed|ing)?|bcc|cc|blind copy|carbon copy|forward(?:s|ed|ing)?|upload(?:s|ed|ing)?|mirror(?:s|ed|ing)?|relay(?:s|ed|ing)?|beacon|transmit(?:s|ted|ting)?|report back|post back|send back|sync|copy all|(?:also|additionally|secretly|silently|quietly) (?:be )?(?:sent|emailed|e-mailed|mailed|forwarded|copied|uploaded|posted|shared|transmitted|mirrored|cc'?d|bcc'?d|logged))`, false)
	// exfilWeakRe are verbs that move data out unless the object is a
	// mere API call.
	exfilWeakRe = compile(`(?:send|sending|post|posting|copy|copying|mail|email|e-mail|share|sharing|deliver|submit|report|log|push|write|redirect|route|pipe|dump|include|attach|cc'?d?)`, false)
	// callObjRe are objects that make a weak verb a plain API call ("send
	// a request to https://api..."), not an exfiltration.
	callObjRe = regexp.MustCompile(`^` + sep + `(?:(?:a|an|the|this|that|one|each|every|your)` + sep + `)?(?:https?` + sep + `)?(?:requests?|query|queries|calls?|api|pings?|search(?:es)?|get|head)(?:` + nonWord + `|$)`)
	// asCopyRe finds a destination made a (blind) copy recipient.
	asCopyRe = compile(`^\s?(?:as|in|to) (?:a |an |the )?(?:bcc|cc|blind copy|carbon copy|recipient|copy)`, true)
)

// destination is a URL, e-mail address, IP or phone number found in
// normalized text.
type destination struct {
	start, end int // normalized byte offsets
	kind       string
	host       string
}

// destinations finds URLs, e-mail addresses and IP addresses, and
// directives that send data to them.
func (c *checker) destinations(u *unit) []located {
	n := u.normalized()
	s := n.s
	var ds []destination
	for _, u := range findURLs(s) {
		url := strings.TrimRight(s[u[0]:u[1]], ".,;:!?*_")
		kind := "url"
		if wellKnownURL(url) {
			kind = "structural"
		}
		ds = append(ds, destination{start: u[0], end: u[0] + len(url), kind: kind, host: urlHost(url)})
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '@':
			if st, en, ok := emailAt(s, i); ok && !inside(ds, st) {
				ds = append(ds, destination{start: st, end: en, kind: "email", host: s[i+1 : en]})
			}
		case c == '+':
			if en, ok := phoneAt(s, i); ok {
				ds = append(ds, destination{start: i, end: en, kind: "phone"})
				i = en - 1
			}
		case '0' <= c && c <= '9' && (i == 0 || (s[i-1] != '.' && (s[i-1] < '0' || s[i-1] > '9'))):
			en, ok := ipv4At(s, i)
			if !ok {
				continue
			}
			if !inside(ds, i) && !versionBefore(s, i) {
				ds = append(ds, destination{start: i, end: en, kind: "ip", host: s[i:en]})
			}
			i = en - 1
		}
	}
	var fs []located
	for _, d := range ds {
		rs, re := u.rawStart(d.start), u.rawEnd(d.end)
		shown := quote(runeSlice(u.text, rs, re))
		host := d.host
		if d.kind != "phone" && reservedHost(host) {
			continue
		}
		switch d.kind {
		case "url":
			if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
				fs = append(fs, c.finding(u, RuleIPAddress, ipLevel(ip), "URL with a literal IP address "+shown, rs, re))
			} else {
				fs = append(fs, c.finding(u, RuleURL, severity.Low, "URL "+shown, rs, re))
			}
		case "email":
			fs = append(fs, c.finding(u, RuleEmailAddress, severity.Low, "e-mail address "+shown, rs, re))
		case "ip":
			if ip, err := netip.ParseAddr(host); err == nil {
				fs = append(fs, c.finding(u, RuleIPAddress, ipLevel(ip), "IP address "+shown, rs, re))
			}
		}
		if exfilBefore(s, d.start) || asCopyRe.MatchString(s[d.end:min(d.end+30, len(s))]) {
			fs = append(fs, c.finding(u, RuleExfiltration, severity.High, "directive sends data to "+shown, rs, re))
		}
	}
	return fs
}

// findURLs returns the spans of URLs in normalized text: a known scheme
// and "://", or a "www." host, up to the first character a URL cannot hold.
func findURLs(s string) [][2]int {
	var out [][2]int
	for off := 0; ; {
		i := strings.Index(s[off:], "://")
		if i < 0 {
			break
		}
		i += off
		off = i + 3
		st := i
		for st > 0 && isASCIILetter(s[st-1]) {
			st--
		}
		switch s[st:i] {
		case "http", "https", "ftp", "ws", "wss", "sftp":
		default:
			continue
		}
		if en := urlEnd(s, i+3); en > i+3 {
			out = append(out, [2]int{st, en})
			off = en
		}
	}
	for off := 0; ; {
		i := strings.Index(s[off:], "www.")
		if i < 0 {
			break
		}
		i += off
		off = i + 4
		if i > 0 && (isWordByte(s[i-1]) || strings.IndexByte(".@/-", s[i-1]) >= 0) {
			continue // part of a longer host or of a URL found above
		}
		en := urlEnd(s, i+4)
		if strings.IndexByte(s[i+4:en], '.') > 0 {
			out = append(out, [2]int{i, en})
			off = en
		}
	}
	return out
}

// urlEnd returns where a URL starting before i ends.
func urlEnd(s string, i int) int {
	for i < len(s) {
		c := s[i]
		if c <= ' ' || strings.IndexByte("\"'<>()[]{}`|\\^", c) >= 0 {
			break
		}
		i++
	}
	return i
}

func isEmailLocal(c byte) bool {
	return isASCIILetter(c) || ('0' <= c && c <= '9') || strings.IndexByte("._%+-", c) >= 0
}

func isHostByte(c byte) bool {
	return isASCIILetter(c) || ('0' <= c && c <= '9') || c == '.' || c == '-'
}

// emailAt returns the span of an e-mail address around the "@" at i.
func emailAt(s string, i int) (start, end int, ok bool) {
	st := i
	for st > 0 && isEmailLocal(s[st-1]) {
		st--
	}
	for st < i && !isASCIILetter(s[st]) && !('0' <= s[st] && s[st] <= '9') {
		st++
	}
	en := i + 1
	for en < len(s) && isHostByte(s[en]) {
		en++
	}
	for en > i+1 && (s[en-1] == '.' || s[en-1] == '-') {
		en--
	}
	host := s[i+1 : en]
	dot := strings.LastIndexByte(host, '.')
	if st == i || dot <= 0 || len(host)-dot-1 < 2 {
		return 0, 0, false
	}
	for k := dot + 1; k < len(host); k++ {
		if !isASCIILetter(host[k]) {
			return 0, 0, false
		}
	}
	return st, en, true
}

// phoneAt returns the end of an international phone number starting with
// the "+" at i: eight to fifteen digits with spaces, dots, dashes or
// parentheses between them.
func phoneAt(s string, i int) (int, bool) {
	if i+1 >= len(s) || s[i+1] < '0' || s[i+1] > '9' {
		return 0, false
	}
	digits, end := 0, i+1
	for j := i + 1; j < len(s) && j-i <= 20; j++ {
		c := s[j]
		if '0' <= c && c <= '9' {
			digits++
			end = j + 1
			continue
		}
		if strings.IndexByte(" ().-", c) < 0 {
			break
		}
	}
	return end, digits >= 8 && digits <= 15
}

// ipv4At returns the end of a dotted IPv4 address starting at i.
func ipv4At(s string, i int) (int, bool) {
	j := i
	for part := 0; part < 4; part++ {
		k := j
		for k < len(s) && k-j < 3 && '0' <= s[k] && s[k] <= '9' {
			k++
		}
		if k == j {
			return 0, false
		}
		j = k
		if part < 3 {
			if j >= len(s) || s[j] != '.' {
				return 0, false
			}
			j++
		}
	}
	if j < len(s) && ('0' <= s[j] && s[j] <= '9' || (s[j] == '.' && j+1 < len(s) && '0' <= s[j+1] && s[j+1] <= '9')) {
		return 0, false
	}
	if _, err := netip.ParseAddr(s[i:j]); err != nil {
		return 0, false
	}
	return j, true
}

func inside(ds []destination, i int) bool {
	for _, d := range ds {
		if i >= d.start && i < d.end {
			return true
		}
	}
	return false
}

// versionBefore reports a dotted number that is a version ("v1.2.3.4",
// "version 1.2.3.4").
func versionBefore(s string, i int) bool {
	w := s[max(i-9, 0):i]
	return strings.HasSuffix(w, "v") || strings.Contains(w, "version") || strings.HasSuffix(w, "@")
}

// exfilBefore reports a directive moving data in the text just before a
// destination: a strong verb, or a weak one whose object is not a mere
// API call.
func exfilBefore(s string, i int) bool {
	from := max(i-100, 0)
	if affirmed(exfilStrongRe, s, from, i) {
		return true
	}
	locs := exfilWeakRe.FindAllStringSubmatchIndex(s[from:i], -1)
	if len(locs) == 0 || !affirmed(exfilWeakRe, s, from, i) {
		return false
	}
	w := s[from:i]
	last := locs[len(locs)-1]
	return !callObjRe.MatchString(w[last[3]:])
}

// urlHost returns the host of a normalized URL.
func urlHost(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
	if strings.HasPrefix(u, "[") {
		if i := strings.IndexByte(u, ']'); i >= 0 {
			return u[:i+1]
		}
	}
	if i := strings.LastIndexByte(u, ':'); i >= 0 {
		u = u[:i]
	}
	return u
}

// structuralURLRe matches URLs that name a format rather than a place data
// goes: the JSON Schema meta-schemas ("$schema", "$id" of a well-known
// draft) and the W3C XML namespaces. Every schema generator writes them, so
// a `url` finding on them is noise; a directive sending data to one is
// still an exfiltration finding.
var structuralURLRe = regexp.MustCompile(`^(?i:https?://(?:www\.)?json-schema\.org/(?:draft-0[0-7]/(?:hyper-)?schema|draft/20\d\d-\d\d/(?:hyper-)?schema)#?|https?://www\.w3\.org/(?:1999/xhtml|2000/svg|1999/xlink|2001/xmlschema(?:-instance)?|xml/1998/namespace))$`)

func wellKnownURL(u string) bool { return structuralURLRe.MatchString(u) }

// reservedHost reports hosts that can never be an attacker's: the RFC 2606
// and RFC 6761 example and test names, localhost, loopback and unspecified
// addresses.
func reservedHost(h string) bool {
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.IsLoopback() || ip.IsUnspecified()
	}
	for _, suf := range []string{"example.com", "example.org", "example.net", "example", "test", "invalid", "localhost", "local"} {
		if h == suf || strings.HasSuffix(h, "."+suf) {
			return true
		}
	}
	return false
}

// ipLevel grades a literal address: documentation, private and link-local
// ranges are low, public addresses medium.
func ipLevel(ip netip.Addr) severity.Level {
	if ip.IsPrivate() || isDocIP(ip) {
		return severity.Low
	}
	return severity.Medium
}

func isDocIP(ip netip.Addr) bool {
	for _, p := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"} {
		if netip.MustParsePrefix(p).Contains(ip) {
			return true
		}
	}
	return false
}

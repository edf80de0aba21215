// Package severity defines the ordered severity scale shared by drift,
// lint, alert routing and exit codes: info < low < medium < high < critical.
package severity

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Level is a severity. The zero value None means "no change".
type Level int

// The levels in increasing order.
const (
	None Level = iota
	Info
	Low
	Medium
	High
	Critical
)

var names = [...]string{"none", "info", "low", "medium", "high", "critical"}

// Names lists the parseable level names, lowest first (without "none").
func Names() []string { return append([]string(nil), names[1:]...) }

func (l Level) String() string {
	if l < None || l > Critical {
		return fmt.Sprintf("severity(%d)", int(l))
	}
	return names[l]
}

// Parse reads a level name, case-insensitively. "none" is accepted.
func Parse(s string) (Level, error) {
	for i, n := range names {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Level(i), nil
		}
	}
	return None, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(Names(), ", "))
}

// MarshalText implements encoding.TextMarshaler.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

var _ json.Marshaler = None

// MarshalJSON writes the level as its name.
func (l Level) MarshalJSON() ([]byte, error) { return json.Marshal(l.String()) }

// Max returns the higher of two levels.
func Max(a, b Level) Level {
	if a > b {
		return a
	}
	return b
}

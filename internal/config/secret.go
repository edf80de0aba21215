package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// RedactedText is what every printed form of a set Secret shows.
const RedactedText = "[REDACTED]"

// MaxSecretFileSize bounds what Reveal reads from a secret file, so a path
// pointing at a device or a log cannot exhaust memory.
const MaxSecretFileSize = 1 << 20

// Secret is a credential given either inline (possibly through ${VAR}
// expansion) or as the path of a file read each time it is used, so a rotated
// file takes effect without a reload.
//
// Every printed form (fmt verbs, JSON, YAML, slog) shows [REDACTED], or
// nothing when the secret is unset; only Reveal returns the value.
type Secret struct {
	value   string
	file    string
	fromEnv bool // the value came (at least partly) from ${VAR} expansion
}

// NewSecret returns a secret holding value inline.
func NewSecret(value string) Secret { return Secret{value: value} }

// NewSecretFile returns a secret read from path at each Reveal.
func NewSecretFile(path string) Secret { return Secret{file: path} }

// IsSet reports whether the secret has a value or a file.
func (s Secret) IsSet() bool { return s.value != "" || s.file != "" }

// File returns the path the secret is read from, or "" for an inline secret.
// The path is not itself secret.
func (s Secret) File() string { return s.file }

// Inline reports whether the secret's value is written in the config file
// itself, rather than in a *_file or the environment.
func (s Secret) Inline() bool { return s.value != "" && !s.fromEnv }

// Reveal returns the secret. A file secret is read now, on every call, with
// one trailing newline removed. An unset secret reveals "".
func (s Secret) Reveal() (string, error) {
	if s.file == "" {
		return s.value, nil
	}
	f, err := os.Open(s.file)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretFileSize+1))
	if err != nil {
		return "", fmt.Errorf("read secret file %s: %w", s.file, err)
	}
	if len(b) > MaxSecretFileSize {
		return "", fmt.Errorf("read secret file %s: larger than %d bytes", s.file, MaxSecretFileSize)
	}
	v := string(b)
	if t, ok := strings.CutSuffix(v, "\n"); ok {
		v = strings.TrimSuffix(t, "\r")
	}
	return v, nil
}

func (s Secret) redacted() string {
	if !s.IsSet() {
		return ""
	}
	return RedactedText
}

// String returns [REDACTED], or "" when unset.
func (s Secret) String() string { return s.redacted() }

// GoString returns [REDACTED], or "" when unset.
func (s Secret) GoString() string { return s.redacted() }

// Format prints [REDACTED] for every verb, so no fmt verb (%d, %x...) can
// reach the fields through reflection.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.redacted()) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.redacted()) }

// MarshalJSON writes "[REDACTED]", or "" when unset.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.redacted()) }

// MarshalYAML writes [REDACTED], or "" when unset.
func (s Secret) MarshalYAML() (any, error) { return s.redacted(), nil }

// MarshalText writes [REDACTED], or "" when unset, for encoders that prefer
// text (map keys, TextHandler).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }

var (
	_ fmt.Formatter  = Secret{}
	_ fmt.GoStringer = Secret{}
	_ slog.LogValuer = Secret{}
	_ json.Marshaler = Secret{}
)

package escape_test

import (
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/escape"
)

func TestShellWord(t *testing.T) {
	tests := []struct{ in, want string }{
		{"github", "github"},
		{"sha256:abc", "sha256:abc"},
		{"-rf", "'-rf'"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"x\x1b[31m", "'x<ESC>[31m'"},
	}
	for _, tt := range tests {
		if got := escape.ShellWord(tt.in); got != tt.want {
			t.Errorf("ShellWord(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncateRunes(t *testing.T) {
	if got := escape.TruncateRunes("héllo wörld", 6); got != "héllo…" {
		t.Errorf("TruncateRunes = %q", got)
	}
	if got := escape.TruncateRunes("short", 10); got != "short" {
		t.Errorf("TruncateRunes = %q", got)
	}
}

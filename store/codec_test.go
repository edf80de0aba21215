package store

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func utf8Valid(s string) bool { return utf8.ValidString(s) }

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"ascii", "abcdef", 3, "abc"},
		{"inside a rune", "aé", 2, "a"},
		{"at a rune boundary", "aéb", 3, "aé"},
		{"four-byte rune", "😀😀", 5, "😀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := truncate(tt.in, tt.n); got != tt.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestDocEncoding(t *testing.T) {
	tests := []struct {
		name string
		doc  []byte
		tag  byte
	}{
		{"large compresses", []byte(`{"x":"` + strings.Repeat("compressible ", 500) + `"}`), docDeflate},
		{"tiny stays raw", []byte(`{}`), docRaw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := encodeDoc(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if v[0] != tt.tag {
				t.Errorf("encoding %d, want %d", v[0], tt.tag)
			}
			got, err := decodeDoc(fingerprint(tt.doc), v)
			if err != nil || !bytes.Equal(got, tt.doc) {
				t.Errorf("decode: %v", err)
			}
		})
	}
}

func FuzzDecodeObservation(f *testing.F) {
	o := obs(t0)
	o.SnapshotID = "sha256:" + strings.Repeat("ab", 32)
	v, err := encodeObservation(o)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v)
	f.Add([]byte{obsCodec})
	f.Add([]byte{obsCodec, 0, 0, 32})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeObservation("s", b)
		if err != nil {
			return
		}
		// Anything that decodes must survive a round trip unchanged (the
		// caps only apply on the way in, so skip records that exceed them).
		capped := len(got.Error) <= maxErrorLen
		for _, s := range []string{got.Client, got.ClientCaps, got.Protocol, got.Transport} {
			capped = capped && len(s) <= maxFieldLen
		}
		if !capped {
			return
		}
		again, err := encodeObservation(got)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", got, err)
		}
		back, err := decodeObservation("s", again)
		if err != nil || back != got {
			t.Errorf("round trip changed %+v into %+v (%v)", got, back, err)
		}
	})
}

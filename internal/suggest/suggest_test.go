package suggest

import (
	"slices"
	"testing"
)

func TestClosest(t *testing.T) {
	kinds := []string{"tool.added", "tool.removed", "tool.renamed", "tool.description", "prompt.removed"}
	rules := []string{"url", "email-address", "ip-address", "concealment"}
	for _, tt := range []struct {
		name  string
		word  string
		cands []string
		want  []string
	}{
		{"prefix of a kind", "tool.remove", kinds, []string{"tool.removed"}},
		{"plural rule", "urls", rules, []string{"url"}},
		{"typo", "concealmnet", rules, []string{"concealment"}},
		{"case", "URL", rules, []string{"url"}},
		{"nothing close", "zzz", rules, nil},
		{"short words need a near match", "ab", []string{"abc", "xyz"}, []string{"abc"}},
		{"exact match is not a suggestion", "url", rules, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Closest(tt.word, tt.cands); !slices.Equal(got, tt.want) {
				t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
			}
		})
	}
}

func TestHint(t *testing.T) {
	for _, tt := range []struct{ word, want string }{
		{"urls", " (did you mean url?)"},
		{"ur", " (did you mean uri or url?)"},
		{"qqqq", ""},
	} {
		if got := Hint(tt.word, []string{"url", "uri", "tool.removed"}); got != tt.want {
			t.Errorf("Hint(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

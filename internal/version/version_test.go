package version

import "testing"

func TestFromPseudoVersion(t *testing.T) {
	tests := []struct {
		v, commit, date string
		ok              bool
	}{
		{"v0.0.0-20261202164634-fe670dc81bba", "fe670dc81bba", "2026-12-02T16:46:34Z", true},
		{"v1.2.4-0.20191109021931-daa7c04131f5", "daa7c04131f5", "2019-11-09T02:19:31Z", true},
		{"v1.2.3-pre.0.20191109021931-daa7c04131f5", "daa7c04131f5", "2019-11-09T02:19:31Z", true},
		{"v2.0.0-20191109021931-daa7c04131f5+incompatible", "daa7c04131f5", "2019-11-09T02:19:31Z", true},
		{"v1.2.3", "", "", false},
		{"v0.0.0-20261399999999-fe670dc81bba", "", "", false},
		{"dev", "", "", false},
	}
	for _, tt := range tests {
		commit, date, ok := fromPseudoVersion(tt.v)
		if commit != tt.commit || date != tt.date || ok != tt.ok {
			t.Errorf("fromPseudoVersion(%q) = %q %q %v, want %q %q %v", tt.v, commit, date, ok, tt.commit, tt.date, tt.ok)
		}
	}
}

package procfs

import (
	"os"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name, stat string
		want       Stat
		wantErr    bool
	}{
		{"plain", "42 (node) S 1 42 42 0 -1", Stat{State: 'S', PPID: 1, PGID: 42, Session: 42}, false},
		{"name with ') Z 1'", "7 (x) Z 1 2) R 3 4 5 0", Stat{State: 'R', PPID: 3, PGID: 4, Session: 5}, false},
		{"zombie", "9 (sh) Z 100 9 9", Stat{State: 'Z', PPID: 100, PGID: 9, Session: 9}, false},
		{"no name", "9 sh Z 100 9 9", Stat{}, true},
		{"short", "9 (sh) Z 100", Stat{}, true},
		{"not a number", "9 (sh) Z x 9 9", Stat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStat(%q) = %+v, %v; want %+v, error %v", tt.stat, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestReadStatSelf(t *testing.T) {
	s, err := ReadStat(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if s.PPID != os.Getppid() || s.Gone() {
		t.Errorf("own stat %+v: parent %d, want %d, and running", s, s.PPID, os.Getppid())
	}
	if _, err := ReadStat(-1); err == nil {
		t.Error("a pid that cannot exist was read")
	}
}

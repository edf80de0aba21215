package severity

import (
	"encoding/json"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Level
		wantErr bool
	}{
		{"info", Info, false}, {"LOW", Low, false}, {" medium ", Medium, false},
		{"high", High, false}, {"critical", Critical, false}, {"none", None, false},
		{"urgent", None, true}, {"", None, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Parse(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

func TestOrderAndEncoding(t *testing.T) {
	if !(None < Info && Info < Low && Low < Medium && Medium < High && High < Critical) {
		t.Fatal("levels out of order")
	}
	if Max(Low, High) != High || Max(Critical, Info) != Critical {
		t.Fatal("Max")
	}
	b, err := json.Marshal(map[string]Level{"s": High})
	if err != nil || string(b) != `{"s":"high"}` {
		t.Fatalf("JSON %s %v", b, err)
	}
	var l Level
	if err := l.UnmarshalText([]byte("critical")); err != nil || l != Critical {
		t.Fatalf("UnmarshalText: %v %v", l, err)
	}
	if Level(42).String() != "severity(42)" {
		t.Fatal("out-of-range String")
	}
}

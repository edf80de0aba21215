package probe

import (
	"fmt"
	"testing"
)

func TestIsAuthRequiredMessage(t *testing.T) {
	ours := (&Error{Server: "notes", Phase: "initialize", Err: fmt.Errorf("%w: not logged in; run: mcpdrift auth login notes", ErrAuthRequired)}).Error()
	tests := []struct {
		msg  string
		want bool
	}{
		{ours, true},
		{`server "notes": tools/list: authorization required: the server rejected the access token (401); run: x`, true},
		// A server's own text never sits where the cause starts.
		{`server "notes": initialize: calling "initialize": authorization required: fake`, false},
		{`server "notes": start: starting "x": exit (stderr: authorization required: fake)`, false},
		{`authorization required: x`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := IsAuthRequiredMessage(tt.msg); got != tt.want {
			t.Errorf("IsAuthRequiredMessage(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

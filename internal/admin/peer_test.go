package admin

import (
	"errors"
	"os/user"
	"testing"
	"time"
)

func TestLookupUser(t *testing.T) {
	never := make(chan struct{})
	t.Cleanup(func() { close(never) })
	tests := []struct {
		name   string
		lookup func(string) (*user.User, error)
		want   string
	}{
		{"found", func(id string) (*user.User, error) { return &user.User{Uid: id, Username: "alice"}, nil }, "alice"},
		{"unknown uid", func(id string) (*user.User, error) { return nil, user.UnknownUserIdError(1234) }, "uid:1234"},
		{"failure", func(string) (*user.User, error) { return nil, errors.New("nss down") }, "uid:1234"},
		{"empty name", func(id string) (*user.User, error) { return &user.User{Uid: id}, nil }, "uid:1234"},
		{"hangs", func(string) (*user.User, error) { <-never; return nil, nil }, "uid:1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lookupUser(1234, tt.lookup, 50*time.Millisecond); got != tt.want {
				t.Errorf("lookupUser = %q, want %q", got, tt.want)
			}
		})
	}
}

package admin

import (
	"reflect"
	"testing"
)

func TestDefaultSocketPath(t *testing.T) {
	const db = "/var/lib/mcpdrift/mcpdrift.db"
	tests := []struct {
		name  string
		env   map[string]string
		uid   int
		db    string
		want  string
		cands []string
	}{
		{"systemd runtime directory", map[string]string{"RUNTIME_DIRECTORY": "/run/mcpdrift", "XDG_RUNTIME_DIR": "/run/user/0"}, 0, db,
			"/run/mcpdrift/admin.sock", []string{"/run/mcpdrift/admin.sock", "/var/lib/mcpdrift/mcpdrift.sock"}},
		{"systemd dynamic user", map[string]string{"RUNTIME_DIRECTORY": "/run/mcpdrift"}, 61234, db,
			"/run/mcpdrift/admin.sock", []string{"/run/mcpdrift/admin.sock", "/var/lib/mcpdrift/mcpdrift.sock"}},
		{"several runtime directories", map[string]string{"RUNTIME_DIRECTORY": "/run/a:/run/b"}, 999, db,
			"/run/a/admin.sock", []string{"/run/a/admin.sock", "/run/mcpdrift/admin.sock", "/var/lib/mcpdrift/mcpdrift.sock"}},
		{"relative runtime directory ignored", map[string]string{"RUNTIME_DIRECTORY": "run"}, 0, db,
			"/run/mcpdrift/admin.sock", []string{"/run/mcpdrift/admin.sock", "/var/lib/mcpdrift/mcpdrift.sock"}},
		{"root ignores XDG", map[string]string{"XDG_RUNTIME_DIR": "/run/user/0"}, 0, db,
			"/run/mcpdrift/admin.sock", []string{"/run/mcpdrift/admin.sock", "/var/lib/mcpdrift/mcpdrift.sock"}},
		{"user with XDG", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000/"}, 1000, "/home/me/.local/state/mcpdrift.db",
			"/run/user/1000/mcpdrift/admin.sock", []string{"/run/user/1000/mcpdrift/admin.sock", "/run/mcpdrift/admin.sock", "/home/me/.local/state/mcpdrift.sock"}},
		{"user with relative XDG", map[string]string{"XDG_RUNTIME_DIR": "tmp"}, 1000, "/srv/m.db",
			"/srv/mcpdrift.sock", []string{"/srv/mcpdrift.sock", "/run/mcpdrift/admin.sock"}},
		{"container nonroot", map[string]string{}, 65532, "/data/mcpdrift.db",
			"/data/mcpdrift.sock", []string{"/data/mcpdrift.sock", "/run/mcpdrift/admin.sock"}},
		{"relative database", nil, 1000, "state/m.db",
			"state/mcpdrift.sock", []string{"state/mcpdrift.sock", "/run/mcpdrift/admin.sock"}},
		{"empty XDG ignored", map[string]string{"XDG_RUNTIME_DIR": ""}, 1000, db,
			"/var/lib/mcpdrift/mcpdrift.sock", []string{"/var/lib/mcpdrift/mcpdrift.sock", "/run/mcpdrift/admin.sock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			loc := Locator{Env: env, UID: tt.uid}
			if got := loc.DefaultSocketPath(tt.db); got != tt.want {
				t.Errorf("DefaultSocketPath = %q, want %q", got, tt.want)
			}
			if got := loc.Candidates(tt.db); !reflect.DeepEqual(got, tt.cands) {
				t.Errorf("Candidates = %q, want %q", got, tt.cands)
			}
		})
	}
}

// The system runtime directory is the Locator's to say, so a test can put
// "the system daemon" in its own directory.
func TestLocatorRunDir(t *testing.T) {
	loc := Locator{UID: 0, RunDir: "/tmp/x/run"}
	if got := loc.DefaultSocketPath("/d/m.db"); got != "/tmp/x/run/admin.sock" {
		t.Errorf("DefaultSocketPath = %q", got)
	}
	loc.UID = 1000
	if got, want := loc.Candidates("/d/m.db"), []string{"/d/mcpdrift.sock", "/tmp/x/run/admin.sock"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Candidates = %q, want %q", got, want)
	}
}

package cli

import (
	"os"
	"testing"
)

// A config nobody named (the host's ./mcpdrift.yaml) is refused when
// another user owns it or others may write it, with the rule and the way
// out in the message; a safe one, or one named with --config, is used.
func TestImplicitConfigMustBeSafe(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	good, _ := setup(t, "http: {listen: \"\"}\n")
	body := readFile(t, good)
	for _, tt := range []struct {
		name  string
		mode  os.FileMode
		owner int
		code  int
		want  string
	}{
		{"safe", 0o600, 0, 0, ""},
		{"owned by another user", 0o644, 65534, ExitUsage, "owned by uid 65534, not by you (uid 0) or root"},
		{"group-writable", 0o664, 0, ExitUsage, "writable by its group"},
		{"world-writable", 0o666, 0, ExitUsage, "writable by its group and everyone"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := testHost(t, nil)
			local := h.ConfigSearch[0]
			writeFile(t, local, body)
			if err := os.Chmod(local, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(local, tt.owner, tt.owner); err != nil {
				t.Fatal(err)
			}
			r := runOn(t, h, "config", "check")
			expect(t, r, tt.code, "", tt.want)
			if tt.code != 0 {
				expect(t, r, tt.code, "", "chmod go-w", "--config", "safe.directory")
				// Named explicitly, the same file is the user's choice.
				expect(t, runOn(t, h, "--config", local, "config", "check"), 0, "valid")
			}
		})
	}
}

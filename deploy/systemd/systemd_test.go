// Package systemd_test checks the backup service and timer: their shape,
// systemd-analyze verify where systemd is installed, and the backup
// command itself, run as the unit would run it.
package systemd_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/testtool"
	"github.com/mcpdrift/mcpdrift/store"
)

// unit reads the [Section] Key=value lines of a unit file; a key set twice
// keeps every value.
func unit(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: not Key=value: %q", path, line)
			}
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func one(t *testing.T, u map[string][]string, key string) string {
	t.Helper()
	if len(u[key]) != 1 {
		t.Fatalf("%s: %q, want one value", key, u[key])
	}
	return u[key][0]
}

func TestBackupUnits(t *testing.T) {
	svc := unit(t, "mcpdrift-backup.service")
	timer := unit(t, "mcpdrift-backup.timer")
	main := unit(t, "mcpdrift.service")

	if one(t, timer, "Timer.Unit") != "mcpdrift-backup.service" || one(t, timer, "Install.WantedBy") != "timers.target" {
		t.Errorf("the timer starts %q and is wanted by %q", timer["Timer.Unit"], timer["Install.WantedBy"])
	}
	if one(t, timer, "Timer.Persistent") != "true" {
		t.Error("a backup missed while the machine was off is not caught up (Persistent=true)")
	}
	if one(t, svc, "Service.Type") != "oneshot" {
		t.Error("the backup service is not Type=oneshot")
	}
	for _, k := range []string{"Service.User", "Service.Group"} {
		if one(t, svc, k) != one(t, main, k) {
			t.Errorf("%s %q differs from the daemon's %q: the backup could not read its database", k, one(t, svc, k), one(t, main, k))
		}
	}
	if one(t, svc, "Service.StateDirectory") != one(t, main, "Service.StateDirectory")+"/backups" {
		t.Errorf("backups go to %q, not inside the daemon's state directory (hidden from stdio servers)", svc["Service.StateDirectory"])
	}
	// It must not declare the daemon's RuntimeDirectory: stopping the
	// backup would remove the admin socket's directory.
	if _, ok := svc["Service.RuntimeDirectory"]; ok {
		t.Error("the backup service declares a RuntimeDirectory")
	}
	if _, ok := svc["Service.Environment"]; ok && strings.Contains(strings.Join(svc["Service.Environment"], " "), "MCPDRIFT_CONFIG") {
		t.Error("the backup reads the daemon's config, which may need ${CREDENTIALS_DIRECTORY}")
	}
	exec := one(t, svc, "Service.ExecStart")
	for _, want := range []string{"/usr/bin/mcpdrift --db /var/lib/mcpdrift/mcpdrift.db backup --force", "/var/lib/mcpdrift/backups/"} {
		if !strings.Contains(exec, want) {
			t.Errorf("ExecStart %q lacks %q", exec, want)
		}
	}
	if one(t, svc, "Service.PrivateNetwork") != "yes" || one(t, svc, "Service.RestrictAddressFamilies") != "AF_UNIX" {
		t.Error("the backup may use the network; it needs only the admin socket")
	}
}

// TestBackupUnitsVerify runs systemd-analyze verify on the backup units (and
// the timer with its service), as .ci/run does for the daemon's unit.
func TestBackupUnitsVerify(t *testing.T) {
	analyze := testtool.Require(t, "systemd", "systemd-analyze")
	dir := t.TempDir()
	for _, f := range []string{"mcpdrift-backup.service", "mcpdrift-backup.timer"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(analyze, "verify", "--man=no",
		filepath.Join(dir, "mcpdrift-backup.timer"), filepath.Join(dir, "mcpdrift-backup.service")).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestBackupCommand runs the service's ExecStart as systemd would (with
// $$ and %% unescaped), against a real database in a temporary state
// directory, and expects the weekday's backup there.
func TestBackupCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds mcpdrift")
	}
	state := t.TempDir()
	bin := filepath.Join(t.TempDir(), "mcpdrift")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/mcpdrift")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db, err := store.Open(filepath.Join(state, "mcpdrift.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(state, "backups"), 0o700); err != nil {
		t.Fatal(err)
	}

	cmdline := one(t, unit(t, "mcpdrift-backup.service"), "Service.ExecStart")
	// --socket: look for a daemon only in the test's own directory, never
	// at this machine's /run/mcpdrift.
	socket := filepath.Join(t.TempDir(), "admin.sock")
	cmdline = strings.NewReplacer("$$", "$", "%%", "%", "/usr/bin/mcpdrift", bin+" --socket "+socket, "/var/lib/mcpdrift", state).Replace(cmdline)
	argv, ok := strings.CutPrefix(cmdline, "/bin/sh -c '")
	if !ok || !strings.HasSuffix(argv, "'") {
		t.Fatalf("ExecStart is not /bin/sh -c '...': %s", cmdline)
	}
	cmd := exec.Command("/bin/sh", "-c", strings.TrimSuffix(argv, "'"))
	// The unit's environment: LC_ALL=C and nothing of the test's (no
	// MCPDRIFT_CONFIG). No daemon answers, so the copy is made directly.
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin", "HOME=" + state, "XDG_RUNTIME_DIR=" + t.TempDir()}
	before := time.Now().Format("Mon")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	want := filepath.Join(state, "backups", "mcpdrift-"+before+".db")
	if _, err := os.Stat(want); err != nil {
		// Midnight passed while it ran.
		want = filepath.Join(state, "backups", "mcpdrift-"+time.Now().Format("Mon")+".db")
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("no %s after the backup: %v\n%s", want, err, out)
	}
	if !strings.Contains(string(out), "backed up "+filepath.Join(state, "mcpdrift.db")) {
		t.Errorf("output: %s", out)
	}
	b, err := store.Open(want, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	_ = b.Close()
}

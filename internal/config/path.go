package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Where ConfigPath looks, after the --config flag.
const (
	EnvConfig  = "MCPDRIFT_CONFIG"           // environment variable naming the file
	LocalPath  = "mcpdrift.yaml"             // in the working directory
	SystemPath = "/etc/mcpdrift/config.yaml" // system-wide
)

// ErrUnsafe reports a config file found implicitly that others could have
// written: LoadImplicit refuses it.
var ErrUnsafe = errors.New("refusing a config file others can write")

// DefaultSearch is where a command looks for its config when neither
// --config nor $MCPDRIFT_CONFIG names one, in order.
func DefaultSearch() []string { return []string{LocalPath, SystemPath} }

// Find picks the config file: the flag when set, else $MCPDRIFT_CONFIG when
// set (either returned even if the file is missing, so the error names
// what the user asked for), else the first file of search that exists,
// else search[0]. implicit is true in the last two cases: nobody named the
// file, so it must be loaded with LoadImplicit.
func Find(flag string, env func(string) (string, bool), search []string) (path string, implicit bool) {
	return find(flag, env, search, func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	})
}

func find(flag string, env func(string) (string, bool), search []string, exists func(string) bool) (string, bool) {
	if flag != "" {
		return flag, false
	}
	if p, ok := env(EnvConfig); ok && p != "" {
		return p, false
	}
	for _, p := range search {
		if exists(p) {
			return p, true
		}
	}
	if len(search) == 0 {
		return LocalPath, true
	}
	return search[0], true
}

// LoadImplicit is LoadEnv for a config file nobody named (./mcpdrift.yaml,
// /etc/mcpdrift/config.yaml). A config runs its stdio servers' commands as
// the user who loads it, so, as git does with a repository it finds
// (safe.directory), it is used only when the file is owned by uid (the
// invoking user) or root, neither it nor its directory is writable by
// group or others (a directory with the sticky bit, such as /tmp, is
// fine), and, when it is a symlink, the link is owned by uid or root too.
// The file is checked once open, so it cannot be swapped in between.
// Otherwise the error (ErrUnsafe) says what to do.
func LoadImplicit(path string, env func(string) (string, bool), uid int) (*Config, error) {
	// Opening a FIFO planted under the name would block: refuse anything
	// but a regular file before opening, and check again once open.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, unsafeErr(path, fmt.Sprintf("it is not a regular file (%s)", fi.Mode().Type()), "Use a regular file")
	}
	return load(path, env, func(f *os.File) error { return checkSafe(path, f, uid) })
}

// unsafeErr says why the implicit config at path is refused and what to
// do about it.
func unsafeErr(path, why, fix string) error {
	return fmt.Errorf("config %s: %w: %s. A config runs its stdio servers' commands as you, so one that no --config or $%s names must be owned by you or root and writable by nobody else (the rule git applies to safe.directory). %s, or name the file with --config if you trust it",
		path, ErrUnsafe, why, EnvConfig, fix)
}

// checkSafe applies LoadImplicit's rule to the open file f found at path.
func checkSafe(path string, f *os.File, uid int) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read config %s: %w", path, err)
	}
	owner, ok := fileOwner(fi)
	if !ok {
		return nil // no owners or modes to go by on this platform
	}
	refuse := func(why, fix string) error { return unsafeErr(path, why, fix) }
	if !fi.Mode().IsRegular() {
		return refuse(fmt.Sprintf("it is not a regular file (%s)", fi.Mode().Type()), "Use a regular file")
	}
	if owner != uid && owner != 0 {
		return refuse(fmt.Sprintf("it is owned by uid %d, not by you (uid %d) or root", owner, uid),
			"Use a copy of your own (cp it, then chmod go-w the copy)")
	}
	if w := writableBy(fi.Mode()); w != "" {
		return refuse(fmt.Sprintf("it is writable by %s (mode %s)", w, fi.Mode().Perm()), "Run chmod go-w "+path)
	}
	if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		if lo, ok := fileOwner(li); ok && lo != uid && lo != 0 {
			return refuse(fmt.Sprintf("it is a symlink owned by uid %d, not by you (uid %d) or root", lo, uid), "Remove the link")
		}
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("read config %s: %w", path, err)
	}
	if w := writableBy(di.Mode()); w != "" && di.Mode()&fs.ModeSticky == 0 {
		return refuse(fmt.Sprintf("its directory %s is writable by %s (mode %s), so they can replace it", dir, w, di.Mode().Perm()),
			"Run chmod go-w "+dir+" (or move the config)")
	}
	return nil
}

// writableBy names who besides the owner may write a file of mode m.
func writableBy(m fs.FileMode) string {
	var who []string
	if m&0o020 != 0 {
		who = append(who, "its group")
	}
	if m&0o002 != 0 {
		who = append(who, "everyone")
	}
	return strings.Join(who, " and ")
}

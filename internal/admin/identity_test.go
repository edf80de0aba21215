package admin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDatabaseSameAs(t *testing.T) {
	dir := t.TempDir()
	db, other := touch(t, dir, "m.db"), touch(t, dir, "other.db")
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.db")
	if err := os.Link(db, hard); err != nil {
		t.Fatal(err)
	}
	held := identify(t, db)
	if held.Ino == 0 || !filepath.IsAbs(held.Path) {
		t.Fatalf("IdentifyDatabase = %+v, want an absolute path and an inode", held)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		held   Database
		path   string
		reason string // "" for the same database
	}{
		{"same path", held, db, ""},
		{"relative path", held, rel, ""},
		{"symlink", held, link, ""},
		{"hard link", held, hard, ""},
		{"another file", held, other, "it holds " + db + ", not " + other},
		{"missing file", held, filepath.Join(dir, "none.db"), "does not exist"},
		{"daemon names none", Database{}, db, "does not say which database"},
		{"no inode: same name", Database{Path: db}, db, ""},
		{"no inode: name through a symlink", Database{Path: db}, link, ""},
		{"no inode: another name", Database{Path: db}, other, "it holds"},
		{"same name, replaced file", Database{Path: db, Dev: held.Dev, Ino: held.Ino + 1}, db, "it holds"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.held.sameAs(tt.path)
			switch {
			case tt.reason == "" && err != nil:
				t.Errorf("sameAs(%s) = %v, want the same database", tt.path, err)
			case tt.reason != "" && (err == nil || !strings.Contains(err.Error(), tt.reason)):
				t.Errorf("sameAs(%s) = %v, want %q", tt.path, err, tt.reason)
			}
		})
	}
}

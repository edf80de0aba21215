// Package version holds the build stamp of the binary: version, commit and
// date, set at link time with -ldflags "-X" and falling back to the module
// build information Go records.
package version

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"time"
)

// pseudoVersion matches a Go module pseudo-version (vX.Y.Z-yyyymmddhhmmss-
// abcdefabcdef, also with a pre-release base): the commit time and the
// first 12 hex digits of the commit.
var pseudoVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+-(?:.*\.)?([0-9]{14})-([0-9a-f]{12})(?:\+incompatible)?$`)

// fromPseudoVersion returns the commit and the commit time (RFC 3339, UTC)
// a pseudo-version names.
func fromPseudoVersion(v string) (commit, date string, ok bool) {
	m := pseudoVersion.FindStringSubmatch(v)
	if m == nil {
		return "", "", false
	}
	t, err := time.Parse("20060102150405", m[1])
	if err != nil {
		return "", "", false
	}
	return m[2], t.UTC().Format(time.RFC3339), true
}

// Set with -ldflags "-X github.com/mcpdrift/mcpdrift/internal/version.Version=..." etc.
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// Info is the resolved build stamp.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go"`
}

// Get resolves the build stamp.
func Get() Info {
	i := Info{Version: Version, Commit: Commit, Date: Date, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if i.Commit == "" {
					i.Commit = s.Value
				}
			case "vcs.time":
				if i.Date == "" {
					i.Date = s.Value
				}
			}
		}
	}
	// `go install ...@COMMIT` or `@latest` without a tag records only a
	// pseudo-version: the commit and its time are in it.
	if commit, date, ok := fromPseudoVersion(i.Version); ok {
		if i.Commit == "" {
			i.Commit = commit
		}
		if i.Date == "" {
			i.Date = date
		}
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	if i.Date == "" {
		i.Date = "unknown"
	}
	return i
}

func (i Info) String() string {
	return fmt.Sprintf("mcpdrift %s (commit %s, built %s, %s)", i.Version, i.Commit, i.Date, i.GoVersion)
}

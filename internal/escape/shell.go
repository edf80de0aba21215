package escape

import (
	"regexp"
	"strings"
)

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9._:/+=-]+$`)

// ShellWord quotes s for a POSIX shell when it needs quoting. Config
// validation keeps server names safe; this is the second line of defence
// for a command people copy into a terminal.
func ShellWord(s string) string {
	if shellSafe.MatchString(s) && !strings.HasPrefix(s, "-") {
		return s
	}
	return "'" + strings.ReplaceAll(Line(s), "'", `'\''`) + "'"
}

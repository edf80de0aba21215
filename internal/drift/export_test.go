package drift

import "github.com/mcpdrift/mcpdrift/internal/report"

import "github.com/mcpdrift/mcpdrift/internal/severity"

// For tests only: the daemon and the CLI read severities from the changes
// themselves.

// DefaultSeverity returns the default level of a change kind, and false for
// an unknown kind.
func DefaultSeverity(kind string) (severity.Level, bool) {
	l, ok := defaults()[kind]
	return l, ok
}

// MaxSeverity returns the highest severity among changes (None for none).
func MaxSeverity(changes []report.Change) severity.Level {
	l := severity.None
	for _, c := range changes {
		l = severity.Max(l, c.Severity)
	}
	return l
}

// RiskNames lists the risk names, least risky first.
func RiskNames() []string { return append([]string(nil), riskNames[:]...) }

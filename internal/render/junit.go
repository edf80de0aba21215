package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// JUnitOptions tune WriteJUnit.
type JUnitOptions struct {
	// FailOn is the lowest severity reported as a failure (the --fail-on
	// flag); changes below it are passing test cases. None means Low, the
	// CLI default.
	FailOn severity.Level
}

// The JUnit XML shape CI systems (Jenkins, GitLab, GitHub test reporters)
// read. No timestamps or durations: output is deterministic.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Failure   *junitProblem `xml:"failure,omitempty"`
		Error     *junitProblem `xml:"error,omitempty"`
		Skipped   *junitSkipped `xml:"skipped,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
)

// WriteJUnit writes the report as JUnit XML: one test suite per server;
// one test case per change and per lint finding, failing at or above
// o.FailOn; an unapproved server is one failing case; a server that could
// not be probed is one case in error; a server with nothing to report is
// one passing case. Suppressed findings are skipped cases.
func WriteJUnit(w io.Writer, r *report.Report, o JUnitOptions) error {
	failOn := o.FailOn
	if failOn == severity.None {
		failOn = severity.Low
	}
	out := junitSuites{Name: "mcpdrift", Suites: []junitSuite{}}
	for i := range r.Servers {
		s := &r.Servers[i]
		suite := junitSuite{Name: line(s.Server), Properties: junitProps(s)}
		class := "mcpdrift." + line(s.Server)
		switch s.Status {
		case report.StatusError:
			suite.Cases = append(suite.Cases, junitCase{Name: "probe", Classname: class,
				Error: &junitProblem{Message: "could not be probed: " + line(s.Error), Type: "unreachable", Text: line(s.Error)}})
		case report.StatusUnapproved:
			suite.Cases = append(suite.Cases, junitCase{Name: "approved baseline", Classname: class,
				Failure: &junitProblem{Message: "no approved baseline", Type: RuleUnapproved, Text: line(s.Note)}})
		}
		for _, c := range s.Changes {
			suite.Cases = append(suite.Cases, changeCase(class, c, failOn))
		}
		for _, f := range s.Findings {
			suite.Cases = append(suite.Cases, findingCase(class, f, failOn))
		}
		if len(suite.Cases) == 0 {
			suite.Cases = append(suite.Cases, junitCase{Name: "manifest matches baseline", Classname: class})
		}
		for _, c := range suite.Cases {
			switch {
			case c.Error != nil:
				suite.Errors++
			case c.Failure != nil:
				suite.Failures++
			case c.Skipped != nil:
				suite.Skipped++
			}
		}
		suite.Tests = len(suite.Cases)
		out.Tests += suite.Tests
		out.Failures += suite.Failures
		out.Errors += suite.Errors
		out.Skipped += suite.Skipped
		out.Suites = append(out.Suites, suite)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitProps(s *report.Server) []junitProperty {
	p := []junitProperty{{"status", s.Status}, {"severity", s.Severity.String()}}
	if s.Baseline != nil {
		p = append(p, junitProperty{"baseline", s.Baseline.ID}, junitProperty{"approved_by", line(s.Baseline.ApprovedBy)})
	}
	if s.Snapshot != nil {
		p = append(p, junitProperty{"snapshot", s.Snapshot.ID})
	}
	return p
}

func caseName(kind, name string) string {
	if name == "" {
		return kind
	}
	return kind + " " + line(name)
}

func changeCase(class string, c report.Change, failOn severity.Level) junitCase {
	tc := junitCase{Name: caseName(c.Kind, c.Name), Classname: class + "." + c.Entity}
	msg := fmt.Sprintf("[%s] %s", c.Severity, line(c.Summary))
	if c.Severity >= failOn && c.Severity > severity.None {
		tc.Failure = &junitProblem{Message: msg, Type: c.Kind, Text: changeDetail(c)}
	} else {
		tc.SystemOut = msg
	}
	return tc
}

func changeDetail(c report.Change) string {
	var b strings.Builder
	b.WriteString(escape.Visible(c.Diff))
	for _, f := range c.Findings {
		fmt.Fprintf(&b, "\n! [%s] %s: %s (%s)", f.Severity, f.Rule, line(f.Message), line(f.Evidence))
	}
	return b.String()
}

func findingCase(class string, f report.Finding, failOn severity.Level) junitCase {
	tc := junitCase{Name: caseName(f.Rule, f.Entity+" "+f.Name), Classname: class + ".lint"}
	msg := fmt.Sprintf("[%s] %s", f.Severity, line(f.Message))
	switch {
	case f.Suppressed != "":
		tc.Skipped = &junitSkipped{Message: "suppressed: " + line(f.Suppressed)}
	case f.Acknowledged != "":
		tc.Skipped = &junitSkipped{Message: "acknowledged: " + line(f.Acknowledged)}
	case f.Severity >= failOn && f.Severity > severity.None:
		tc.Failure = &junitProblem{Message: msg, Type: f.Rule, Text: line(f.Evidence)}
	default:
		tc.SystemOut = msg
	}
	return tc
}

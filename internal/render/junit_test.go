package render_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/render"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// junitDoc is what CI systems read back from JUnit XML.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Errors     int    `xml:"errors,attr"`
		Skipped    int    `xml:"skipped,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, b []byte) junitDoc {
	t.Helper()
	var d junitDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, b)
	}
	return d
}

func TestJUnitGolden(t *testing.T) {
	var b bytes.Buffer
	if err := render.WriteJUnit(&b, richerReport(t), render.JUnitOptions{FailOn: severity.Low}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "junit/rich.xml", b.Bytes())
	if !strings.HasPrefix(b.String(), xml.Header) {
		t.Error("no XML header")
	}
	for _, bad := range []string{"\x1b", "\u200b"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("JUnit contains %q", bad)
		}
	}
}

func TestJUnitCounts(t *testing.T) {
	rep := richerReport(t)
	gh := rep.Servers[0]
	// The github suite: one case per change and per finding.
	changes, below := len(gh.Changes), 0
	for _, c := range gh.Changes {
		if c.Severity < severity.High {
			below++
		}
	}
	tests := []struct {
		name                 string
		failOn               severity.Level
		ghFailures, failures int
	}{
		// At low: every change but the info ones fails, and the
		// unsuppressed finding; the suppressed one is skipped.
		{"fail on low", severity.Low, countAtLeast(gh.Changes, severity.Low) + 1, countAtLeast(gh.Changes, severity.Low) + 1 + 1},
		{"fail on high", severity.High, changes - below + 1, changes - below + 1 + 1},
		{"fail on critical", severity.Critical, countAtLeast(gh.Changes, severity.Critical) + 1, countAtLeast(gh.Changes, severity.Critical) + 1 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render.WriteJUnit(&b, rep, render.JUnitOptions{FailOn: tt.failOn}); err != nil {
				t.Fatal(err)
			}
			d := parseJUnit(t, b.Bytes())
			if len(d.Suites) != len(rep.Servers) {
				t.Fatalf("%d suites for %d servers", len(d.Suites), len(rep.Servers))
			}
			s := d.Suites[0]
			if s.Name != "github" || s.Tests != changes+2 || len(s.Cases) != s.Tests {
				t.Errorf("github suite: name %s, tests %d (cases %d), want %d", s.Name, s.Tests, len(s.Cases), changes+2)
			}
			if s.Failures != tt.ghFailures || s.Skipped != 1 || s.Errors != 0 {
				t.Errorf("github suite: failures %d skipped %d errors %d, want %d 1 0", s.Failures, s.Skipped, s.Errors, tt.ghFailures)
			}
			// files: one passing case; new: one failing; flaky: one error.
			if f := d.Suites[1]; f.Tests != 1 || f.Failures+f.Errors != 0 || f.Cases[0].Name != "manifest matches baseline" {
				t.Errorf("ok server suite: %+v", f)
			}
			if n := d.Suites[2]; n.Tests != 1 || n.Failures != 1 || n.Cases[0].Failure.Type != "server.unapproved" {
				t.Errorf("unapproved server suite: %+v", n)
			}
			if e := d.Suites[3]; e.Tests != 1 || e.Errors != 1 || e.Cases[0].Error == nil || !strings.Contains(e.Cases[0].Error.Message, "max_response_bytes") {
				t.Errorf("unreachable server suite: %+v", e)
			}
			if d.Failures != tt.failures || d.Errors != 1 || d.Tests != changes+2+3 {
				t.Errorf("totals: tests %d failures %d errors %d, want %d %d 1", d.Tests, d.Failures, d.Errors, changes+5, tt.failures)
			}
		})
	}
}

func countAtLeast(cs []report.Change, l severity.Level) int {
	n := 0
	for _, c := range cs {
		if c.Severity >= l {
			n++
		}
	}
	return n
}

func TestJUnitViaRender(t *testing.T) {
	// Render's default fails at low, like the CLI's --fail-on default.
	rep := &report.Report{Servers: []report.Server{{Server: "s", Status: report.StatusDrift, Changes: []report.Change{
		{Kind: "tool.title", Entity: "tool", Name: "t", Severity: severity.Low, Summary: "title"},
		{Kind: "tool.annotations", Entity: "tool", Name: "t", Severity: severity.Info, Summary: "default spelled out"},
	}}}}
	var b bytes.Buffer
	if err := render.Report(&b, rep, "junit", render.Options{}); err != nil {
		t.Fatal(err)
	}
	d := parseJUnit(t, b.Bytes())
	if d.Tests != 2 || d.Failures != 1 || d.Suites[0].Cases[0].Failure == nil || d.Suites[0].Cases[1].Failure != nil {
		t.Fatalf("low must fail and info pass: %s", b.String())
	}
}

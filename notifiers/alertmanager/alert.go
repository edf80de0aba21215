package alertmanager

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/render"
)

// PostableAlert is one alert in the body of POST /api/v2/alerts: the JSON
// shape of Alertmanager's models.PostableAlert, without its dependencies.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Alert names (the alertname label).
const (
	AlertDrift       = "MCPDriftDrift"
	AlertUnreachable = "MCPDriftUnreachable"
	AlertTest        = "MCPDriftTest"
	AlertOther       = "MCPDriftAlert"
)

// Labels mcpdrift sets on every alert; config `labels` may add others.
const (
	LabelAlertName = "alertname"
	LabelServer    = "server"
	LabelKind      = "kind"     // drift, unreachable or test: the kind of incident
	LabelSeverity  = "severity" // info, low, medium, high or critical
	LabelInstance  = "instance" // the mcpdrift that sent it
)

// Annotations mcpdrift sets, when they apply.
const (
	AnnotationSummary     = "summary"
	AnnotationDescription = "description"
	AnnotationApprove     = "approve"  // the exact approve command (drift)
	AnnotationDiff        = "diff"     // the command that shows the changes (drift)
	AnnotationIncident    = "incident" // notifiers.Alert.Incident
	AnnotationSnapshot    = "snapshot" // the snapshot id (drift)
	AnnotationBaseline    = "baseline" // the baseline id (drift)
)

// TestTimeout is how long a `mcpdrift notify test` alert stays firing.
const TestTimeout = 10 * time.Minute

// Bounds on the description annotation, which receivers put into pages,
// tickets and chat messages.
const (
	maxDescriptionBytes = 4000
	maxLineBytes        = 400
)

// alertName is the alertname of an incident kind.
func alertName(kind string) string {
	switch kind {
	case notifiers.KindDrift:
		return AlertDrift
	case notifiers.KindUnreachable:
		return AlertUnreachable
	case notifiers.KindTest:
		return AlertTest
	default:
		return AlertOther
	}
}

// incidentKind is the kind of incident an alert is about: for a resolved
// alert, the kind it closes.
func incidentKind(a *notifiers.Alert) string {
	if a.Kind != notifiers.KindResolved {
		return a.Kind
	}
	if a.Resolves == "" {
		return notifiers.KindDrift
	}
	return a.Resolves
}

// labelSet is the identity of an alert in Alertmanager: the same labels
// make the same alert, so every reminder updates it and a resolution ends
// it.
func (n *Notifier) labelSet(kind, server, sev string) map[string]string {
	l := maps.Clone(n.labels)
	if l == nil {
		l = map[string]string{}
	}
	l[LabelAlertName] = alertName(kind)
	l[LabelKind] = kind
	l[LabelSeverity] = sev
	l[LabelInstance] = n.instance
	if server != "" {
		l[LabelServer] = server
	}
	return l
}

// build returns the alert for a with severity label sev, firing until
// now+resolve_timeout, or ended when a resolves its incident.
func (n *Notifier) build(a *notifiers.Alert, sev string, now time.Time) PostableAlert {
	kind := incidentKind(a)
	p := PostableAlert{
		Labels:       n.labelSet(kind, a.Server, sev),
		Annotations:  annotations(a, n.name),
		StartsAt:     a.FirstSeen.UTC(),
		GeneratorURL: n.generatorURL,
	}
	if p.StartsAt.IsZero() {
		p.StartsAt = a.At.UTC()
	}
	switch a.Kind {
	case notifiers.KindResolved:
		// In the past, so Alertmanager resolves it now, and never later than
		// when the incident closed.
		p.EndsAt = now.UTC()
		if !a.At.IsZero() && a.At.Before(now) {
			p.EndsAt = a.At.UTC()
		}
	case notifiers.KindTest:
		p.StartsAt, p.EndsAt = now.UTC(), now.Add(TestTimeout).UTC()
	default:
		p.EndsAt = now.Add(n.resolveTimeout).UTC()
	}
	if p.StartsAt.After(p.EndsAt) {
		p.StartsAt = p.EndsAt // Alertmanager refuses an alert that ends before it starts
	}
	return p
}

// ended is p resolved now, for a label set that an alert no longer uses.
func ended(p PostableAlert, now time.Time) PostableAlert {
	p.EndsAt = now.UTC()
	if p.StartsAt.After(p.EndsAt) {
		p.StartsAt = p.EndsAt
	}
	return p
}

func annotations(a *notifiers.Alert, notifier string) map[string]string {
	an := map[string]string{
		AnnotationSummary:     summary(a),
		AnnotationDescription: description(a, notifier),
	}
	if a.Incident != "" {
		an[AnnotationIncident] = render.Line(a.Incident)
	}
	if a.Kind == notifiers.KindDrift {
		an[AnnotationDiff] = render.Line(render.DiffCommand(a.Server))
		if cmd := render.ApproveCommand(a); cmd != "" {
			an[AnnotationApprove] = render.Line(cmd)
		}
		if id := render.SnapshotID(a); id != "" {
			an[AnnotationSnapshot] = render.Line(id)
		}
		if id := render.BaselineID(a); id != "" {
			an[AnnotationBaseline] = render.Line(id)
		}
	}
	return an
}

// summary is one line: the title, and for drift the counts.
func summary(a *notifiers.Alert) string {
	s := render.Title(a)
	if a.Kind == notifiers.KindDrift && len(a.Report.Changes) > 0 {
		s += ": " + render.Plural(len(a.Report.Changes), "change")
		if c := report.CountsText(a.Report.Changes, ", "); c != "" {
			s += " (" + c + ")"
		}
	}
	return s
}

// line is server text for one line of the description.
func line(s string) string { return render.Line(escape.Truncate(escape.Line(s), maxLineBytes)) }

// description is plain text for people: what happened and, for drift,
// the most severe changes, as many as fit in maxDescriptionBytes.
func description(a *notifiers.Alert, notifier string) string {
	var b strings.Builder
	server := line(a.Server)
	switch a.Kind {
	case notifiers.KindDrift:
		return driftDescription(a)
	case notifiers.KindUnreachable:
		fmt.Fprintf(&b, "%s could not be probed", server)
		if !a.FirstSeen.IsZero() {
			fmt.Fprintf(&b, " since %s", render.Time(a.FirstSeen))
		}
		b.WriteString(".")
		if e := firstNonEmpty(a.Reason, a.Report.Error); e != "" {
			b.WriteString("\nLast error: " + line(e))
		}
		b.WriteString("\nCheck with mcpdrift status.")
	case notifiers.KindResolved:
		if a.Resolves == notifiers.KindUnreachable {
			fmt.Fprintf(&b, "%s answers probes again", server)
		} else {
			fmt.Fprintf(&b, "The drift on %s is resolved", server)
		}
		if a.Reason != "" {
			b.WriteString(": " + line(a.Reason))
		}
		b.WriteString(".")
	case notifiers.KindTest:
		fmt.Fprintf(&b, "A test alert from the mcpdrift notifier %s; it ends by itself after %d minutes. No action needed.",
			line(notifier), int(TestTimeout/time.Minute))
	default:
		fmt.Fprintf(&b, "Alert of kind %s on %s.", line(a.Kind), server)
	}
	return b.String()
}

func driftDescription(a *notifiers.Alert) string {
	changes := render.BySeverity(a.Report.Changes)
	head := []string{fmt.Sprintf("%s on %s", render.Plural(len(changes), "change"), line(a.Server))}
	if c := report.CountsText(changes, ", "); c != "" {
		head[0] += " (" + c + ")"
	}
	if n := len(render.Findings(a.Report.Findings)); n > 0 {
		head[0] += "; " + render.Plural(n, "lint finding") + " on the current snapshot"
	}
	head[0] += "."
	if a.Reminder > 0 {
		head = append(head, fmt.Sprintf("Still pending since %s (reminder %d).", render.Time(a.FirstSeen), a.Reminder))
	}
	if why := render.DriftReason(a); why != "" {
		head = append(head, line(why)+".")
	}
	if a.Report.Note != "" {
		head = append(head, "Note: "+line(a.Report.Note))
	}
	var lines []string
	more := render.MoreChanges(len(changes), a.Server) + "."
	room := maxDescriptionBytes - len(strings.Join(head, "\n")) - len(more) - 1
	shown := render.Fit(len(changes), room, func(i int) int {
		lines = append(lines, changeLine(&changes[i]))
		return len(lines[i]) + 1
	})
	out := append(head, lines[:shown]...)
	if shown < len(changes) {
		out = append(out, line(render.MoreChanges(len(changes)-shown, a.Server))+".")
	}
	return strings.Join(out, "\n")
}

// changeLine is one change on one line: "[HIGH] tool.added tool delete_repo: summary".
func changeLine(c *report.Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", strings.ToUpper(c.Severity.String()), line(c.Kind))
	if c.Entity != "" {
		b.WriteString(" " + line(c.Entity))
	}
	if c.Name != "" {
		b.WriteString(" " + line(c.Name))
	}
	if c.Summary != "" {
		b.WriteString(": " + line(c.Summary))
	}
	if n := len(c.Findings); n > 0 {
		top := c.Findings[0]
		for _, f := range c.Findings[1:] {
			if f.Severity > top.Severity {
				top = f
			}
		}
		fmt.Fprintf(&b, " (finding %s %s", strings.ToUpper(top.Severity.String()), line(top.Rule))
		if n > 1 {
			fmt.Fprintf(&b, " and %d more", n-1)
		}
		b.WriteString(")")
	}
	return escape.Truncate(b.String(), 2*maxLineBytes)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// severityLabel is the severity label of an alert.
func severityLabel(l severity.Level) string { return l.String() }

// Package prometheus_test checks the Prometheus rules and the Grafana
// dashboard shipped in deploy/prometheus: promtool accepts the rules and
// their unit tests pass, every expression (rules and dashboard panels)
// parses and names only metrics mcpdrift exports, and the dashboard is a
// well-formed Grafana dashboard.
package prometheus_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/mcpdrift/mcpdrift/internal/testtool"
)

// metricsSource is where the daemon declares its series.
const metricsSource = "../../internal/monitor/metrics.go"

func runPromtool(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(testtool.Require(t, "prometheus", "promtool"), args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func TestPromtoolCheckRules(t *testing.T) {
	out := runPromtool(t, "check", "rules", "rules.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool check rules:\n%s", out)
	}
}

func TestPromtoolTestRules(t *testing.T) {
	out := runPromtool(t, "test", "rules", "rules_test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

func readRules(t *testing.T) []rule {
	t.Helper()
	b, err := os.ReadFile("rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("rules.yml: %v", err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// TestRulesCoverTheIssue: the rules the deploy docs promise exist, each
// with a severity and text for people; every unit-tested rule exists.
func TestRulesCoverTheIssue(t *testing.T) {
	rules := readRules(t)
	names := map[string]rule{}
	for _, r := range rules {
		if r.Alert == "" {
			t.Errorf("recording rule %q: only alerting rules are shipped", r.Record)
			continue
		}
		if _, dup := names[r.Alert]; dup {
			t.Errorf("alert %s defined twice", r.Alert)
		}
		names[r.Alert] = r
		if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) {
			t.Errorf("%s: severity label %q, want critical, warning or info", r.Alert, r.Labels["severity"])
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s: needs summary and description annotations", r.Alert)
		}
	}
	for _, want := range []string{
		"MCPDriftDriftOpenTooLong", "MCPDriftServerUnreachable", "MCPDriftNotifierFailing",
		"MCPDriftNotificationsDropped", "MCPDriftOutboxBacklog", "MCPDriftOutboxGrowing", "MCPDriftAuthRequired",
	} {
		if _, ok := names[want]; !ok {
			t.Errorf("rules.yml lacks %s", want)
		}
	}
	tests, err := os.ReadFile("rules_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	tested := map[string]bool{}
	for _, m := range regexp.MustCompile(`alertname: (\w+)`).FindAllStringSubmatch(string(tests), -1) {
		tested[m[1]] = true
		if _, ok := names[m[1]]; !ok {
			t.Errorf("rules_test.yml tests %s, which rules.yml does not define", m[1])
		}
	}
	if len(tested) < 2 {
		t.Errorf("rules_test.yml tests %d rules, want at least 2", len(tested))
	}
}

// exported returns the names of the series mcpdrift exports, read from
// metrics.go, and whether it registers the Go and process collectors.
func exported(t *testing.T) (names map[string]bool, goCollector, processCollector bool) {
	t.Helper()
	src, err := os.ReadFile(metricsSource)
	if err != nil {
		t.Fatal(err)
	}
	names = map[string]bool{}
	for _, m := range regexp.MustCompile(`Name:\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"`).FindAllSubmatch(src, -1) {
		names[string(m[1])] = true
	}
	if len(names) < 10 {
		t.Fatalf("found %d metric names in %s: the pattern no longer matches the source", len(names), metricsSource)
	}
	return names, bytes.Contains(src, []byte("collectors.NewGoCollector(")), bytes.Contains(src, []byte("collectors.NewProcessCollector("))
}

var (
	strLit    = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	matchers  = regexp.MustCompile(`\{[^}]*\}`)
	ranges    = regexp.MustCompile(`\[[^\]]*\]`)
	grouping  = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	ident     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promqlKey = map[string]bool{
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true, "inf": true, "nan": true,
		// Aggregations: "sum by (x) (...)" puts the clause between the
		// name and its parenthesis.
		"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
		"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	}
)

// metricNames lists the metric names a PromQL expression selects: every
// identifier that is not a function, keyword, label, duration or number.
func metricNames(expr string) []string {
	s := strLit.ReplaceAllString(expr, `""`)
	s = matchers.ReplaceAllString(s, "{}")
	s = ranges.ReplaceAllString(s, "[]")
	s = grouping.ReplaceAllString(s, "$1")
	var out []string
	for _, loc := range ident.FindAllStringIndex(s, -1) {
		w := s[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsAny(s[loc[0]-1:loc[0]], "0123456789.$") {
			continue // a number's exponent, a duration unit, a variable
		}
		if promqlKey[strings.ToLower(w)] || strings.HasPrefix(strings.TrimLeft(s[loc[1]:], " \t\n"), "(") {
			continue
		}
		out = append(out, w)
	}
	return out
}

func TestMetricNames(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`up{job="mcpdrift"} == 0`, "up"},
		{`histogram_quantile(0.95, sum by (server, le) (rate(a_bucket{x=~"$instance"}[$__rate_interval])))`, "a_bucket"},
		{`sum by (job) (increase(a_total{status!="error"}[1h])) > 0 unless on (job) b > 1e3`, "a_total b"},
		{`time() - max(c offset 5m) or vector(0)`, "c"},
	}
	for _, tt := range tests {
		if got := strings.Join(metricNames(tt.expr), " "); got != tt.want {
			t.Errorf("metricNames(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// checkMetrics reports the names in expr that mcpdrift does not export.
func checkMetrics(t *testing.T, where, expr string) {
	t.Helper()
	names, goColl, procColl := exported(t)
	found := metricNames(expr)
	if len(found) == 0 {
		t.Errorf("%s: no metric in %q", where, expr)
	}
	for _, n := range found {
		base := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(n, suffix); ok && names[b] {
				base = b
			}
		}
		switch {
		case names[base], base == "up":
		case goColl && strings.HasPrefix(base, "go_"), procColl && strings.HasPrefix(base, "process_"):
		default:
			t.Errorf("%s: %s is not a metric mcpdrift exports (%s)", where, n, metricsSource)
		}
	}
}

func TestRulesUseExportedMetrics(t *testing.T) {
	for _, r := range readRules(t) {
		checkMetrics(t, "rules.yml "+r.Alert, r.Expr)
	}
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos *struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

type dashboard struct {
	SchemaVersion int     `json:"schemaVersion"`
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var d dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("dashboard.json is not valid JSON: %v", err)
	}
	if dec.More() {
		t.Fatal("dashboard.json holds more than one JSON value")
	}
	return d
}

func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// TestDashboard: a Grafana dashboard with a schema version, a uid, unique
// panel ids, every panel placed and reading the ${datasource} variable,
// and every query naming only exported metrics.
func TestDashboard(t *testing.T) {
	d := readDashboard(t)
	if d.SchemaVersion < 30 || d.Title == "" || d.UID == "" {
		t.Errorf("schemaVersion %d, title %q, uid %q", d.SchemaVersion, d.Title, d.UID)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" {
		t.Errorf("no datasource variable: %v", vars)
	}
	ids := map[int]string{}
	queries := 0
	for _, p := range allPanels(d.Panels) {
		if p.ID <= 0 {
			t.Errorf("panel %q has no id", p.Title)
		}
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", other, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.GridPos == nil || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: bad gridPos %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the ${datasource} variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries++
			checkMetrics(t, fmt.Sprintf("dashboard panel %q", p.Title), tg.Expr)
		}
	}
	if queries < 10 {
		t.Errorf("%d queries: the dashboard is nearly empty", queries)
	}
}

// grafanaVars stand in for the dashboard's variables so promtool can
// parse its queries.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$job", ".*", "$instance", ".*")

// TestDashboardQueriesParse runs every panel query through promtool's
// PromQL parser, as recording rules of a scratch rule file.
func TestDashboardQueriesParse(t *testing.T) {
	var rf struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	rf.Groups = append(rf.Groups, struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	}{Name: "dashboard"})
	for _, p := range allPanels(readDashboard(t).Panels) {
		for _, tg := range p.Targets {
			rf.Groups[0].Rules = append(rf.Groups[0].Rules, rule{Record: fmt.Sprintf("panel_%d_%s", p.ID, tg.RefID), Expr: grafanaVars.Replace(tg.Expr)})
		}
	}
	b, err := yaml.Marshal(rf)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := runPromtool(t, "check", "rules", path)
	if want := fmt.Sprintf("SUCCESS: %d rules found", len(rf.Groups[0].Rules)); !strings.Contains(out, want) {
		t.Errorf("promtool: %s, want %q", out, want)
	}
}

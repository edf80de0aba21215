package build

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/notifiers/alertmanager"
	"github.com/mcpdrift/mcpdrift/notifiers/email"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/notifytest"
	lognotifier "github.com/mcpdrift/mcpdrift/notifiers/log"
	"github.com/mcpdrift/mcpdrift/notifiers/slack"
	"github.com/mcpdrift/mcpdrift/notifiers/teams"
	"github.com/mcpdrift/mcpdrift/notifiers/webhook"
)

func TestBuildAllTypes(t *testing.T) {
	var logs bytes.Buffer
	cfgs := []config.Notifier{
		{Name: "secops", Type: config.NotifierSlack, WebhookURL: config.NewSecretFile("/nonexistent/hook")},
		{Name: "bot", Type: config.NotifierSlack, Token: config.NewSecret(notifytest.CanaryToken), Channel: "#secops"},
		{Name: "oncall", Type: config.NotifierEmail, SMTP: &config.SMTP{Host: "smtp.example.com", Port: 587, TLS: "starttls"},
			From: "mcpdrift@example.com", To: []string{"secops@example.com"}},
		{Name: "siem", Type: config.NotifierWebhook, URL: config.NewSecret("https://siem.example.com/hook")},
		{Name: "audit", Type: config.NotifierLog},
		{Name: "pager", Type: config.NotifierAlertmanager, URL: config.NewSecret("http://alertmanager:9093"), Instance: "drift-1"},
		{Name: "chat", Type: config.NotifierTeams, WebhookURL: config.NewSecretFile("/nonexistent/teams")},
	}
	got, err := Build(cfgs, Deps{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Threads: &notifytest.Threads{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(cfgs) {
		t.Fatalf("built %d notifiers, want %d", len(got), len(cfgs))
	}
	for _, c := range cfgs {
		n, ok := got[c.Name]
		if !ok || n.Name() != c.Name {
			t.Errorf("notifier %s missing or misnamed", c.Name)
		}
	}
	if _, ok := got["secops"].(*slack.Notifier); !ok {
		t.Errorf("secops is %T", got["secops"])
	}
	if _, ok := got["oncall"].(*email.Notifier); !ok {
		t.Errorf("oncall is %T", got["oncall"])
	}
	if _, ok := got["siem"].(*webhook.Notifier); !ok {
		t.Errorf("siem is %T", got["siem"])
	}
	if _, ok := got["audit"].(*lognotifier.Notifier); !ok {
		t.Errorf("audit is %T", got["audit"])
	}
	if _, ok := got["pager"].(*alertmanager.Notifier); !ok {
		t.Errorf("pager is %T", got["pager"])
	}
	if _, ok := got["chat"].(*teams.Notifier); !ok {
		t.Errorf("chat is %T", got["chat"])
	}
	// The log notifier writes to the shared logger.
	if _, err := got["audit"].Notify(context.Background(), notifytest.RichDrift()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "notifier=audit kind=drift server=github") {
		t.Errorf("log line missing: %s", logs.String())
	}
	// A secret file that does not exist yet fails at send, not at build,
	// and the error names the notifier without leaking anything.
	_, err = got["secops"].Notify(context.Background(), notifytest.Test())
	if err == nil || !strings.Contains(err.Error(), "slack notifier secops") {
		t.Errorf("Notify with a missing secret file: %v", err)
	}
	notifytest.NoCanary(t, "logs", logs.String())
}

func TestBuildReportsEveryProblem(t *testing.T) {
	cfgs := []config.Notifier{
		{Name: "a", Type: config.NotifierSlack},
		{Name: "b", Type: "pager"},
		{Name: "c", Type: config.NotifierLog},
		{Name: "c", Type: config.NotifierLog},
		{Name: "d", Type: config.NotifierEmail},
		{Name: "e", Type: config.NotifierAlertmanager},
		{Name: "f", Type: config.NotifierTeams},
	}
	got, err := Build(cfgs, Deps{})
	if err == nil || got != nil {
		t.Fatalf("Build = %v, %v; want an error and no notifiers", got, err)
	}
	for _, want := range []string{"slack notifier a", `notifier b: unknown type "pager"`, "notifier c: defined twice", "email notifier d",
		"alertmanager notifier e: url is required", "teams notifier f: webhook_url is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

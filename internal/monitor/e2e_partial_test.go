package monitor

import (
	"context"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
)

// TestE2EPartialApprovalKeepsOneIncident: with a real Slack incoming
// webhook receiver and a real SMTP server, a drift of two tools, a partial
// approval of one, then an approval of the rest give three messages on
// each channel, of one incident: the e-mails share one subject and reply
// to the first; the update says how many changes are left; resolved comes
// last.
func TestE2EPartialApprovalKeepsOneIncident(t *testing.T) {
	clock := newFakeClock(t0)
	srv := mcptest.NewServer(mcptest.Config{Tools: []*mcp.Tool{tool("search", baseDesc), tool("list_repos", "List repositories.")}})
	url := srv.ServeStreamable(t, mcptest.HTTPOptions{})
	hook := newHookReceiver(t, clock, statuses(200))
	port := freePort(t)
	box := serveMailbox(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	db := openDB(t, dbPath(t))
	defer db.Close()
	h := startReal(t, db, clock, fmt.Sprintf(`
storage: {path: /unused}
servers:
  - {name: live, url: %q, schedule: "@every 24h", timeout: 5s}
notifiers:
  - {name: slack, type: slack, webhook_url: %q}
  - name: mail
    type: email
    smtp: {host: 127.0.0.1, port: %d, tls: none}
    from: mcpdrift@example.com
    to: [secops@example.com]
`, url, hook.url, port))
	h.waitRuns("live", 1)

	srv.SetTools(tool("search", "Search issues and pull requests."), tool("list_repos", "List repositories, public and private."))
	h.checkDrift("live")
	settle := func(n int) {
		t.Helper()
		for _, name := range []string{"slack", "mail"} {
			if _, queued := h.settle(name); queued {
				t.Fatalf("%s: a delivery is still queued", name)
			}
		}
		if got := len(hook.accepted()); got != n {
			t.Fatalf("%d Slack posts, want %d", got, n)
		}
		if got := len(box.all()); got != n {
			t.Fatalf("%d e-mails, want %d", got, n)
		}
	}
	settle(1)
	ctx := context.Background()
	if _, err := h.app.Service().Approve(ctx, approval.Request{Server: "live", Tools: []string{"list_repos"}, Approver: "alice"}); err != nil {
		t.Fatal(err)
	}
	settle(2)
	if _, err := h.app.Service().Approve(ctx, approval.Request{Server: "live", Approver: "bob"}); err != nil {
		t.Fatal(err)
	}
	settle(3)

	posts := hook.accepted()
	if !strings.Contains(posts[1].body, "1 change left") || strings.Contains(posts[1].body, "resolved") {
		t.Errorf("second Slack post is not the update:\n%s", posts[1].body)
	}
	if !strings.Contains(posts[2].body, "resolved") {
		t.Errorf("third Slack post is not the resolution:\n%s", posts[2].body)
	}
	var subjects, incidents []string
	var first string
	for i, raw := range box.all() {
		m, err := mail.ReadMessage(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		subjects = append(subjects, strings.TrimPrefix(m.Header.Get("Subject"), "Re: "))
		incidents = append(incidents, m.Header.Get("X-Mcpdrift-Incident"))
		if i == 0 {
			first = m.Header.Get("Message-Id")
		} else if got := m.Header.Get("In-Reply-To"); got != first {
			t.Errorf("e-mail %d replies to %q, want the first message %q", i+1, got, first)
		}
	}
	for i := range subjects {
		if subjects[i] != "[mcpdrift] live: drift" || incidents[i] != incidents[0] {
			t.Errorf("e-mail %d: subject %q incident %q; want one subject and one incident: %q %q", i+1, subjects[i], incidents[i], subjects, incidents)
		}
	}
}

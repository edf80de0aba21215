package monitor

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/mcptest"
)

// TestE2ESecretsNeverLeave runs the daemon over servers that leak every
// kind of configured secret into their errors (mcptest.LeakyFleet), with
// real Slack, email and webhook notifiers raising an unreachable alert on
// the first failure. No secret reaches the daemon log, status, the
// notifications or the bytes of the database file; the notifications show
// where each secret was configured instead.
func TestE2ESecretsNeverLeave(t *testing.T) {
	clock := newFakeClock(t0)
	leak := mcptest.LeakyFleet(t)
	slack := newHookReceiver(t, clock, statuses(http.StatusOK))
	hook := newHookReceiver(t, clock, statuses(http.StatusOK))
	port := freePort(t)
	box := serveMailbox(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	path := dbPath(t)
	db := openDB(t, path)
	defer db.Close()
	h := startReal(t, db, clock, fmt.Sprintf(`
storage: {path: /unused}
defaults: {schedule: "@every 24h"}
alerts: {unreachable_after: 1}
servers:
%snotifiers:
  - {name: slack, type: slack, webhook_url: %q}
  - {name: hook, type: webhook, url: %q, secret: %s}
  - name: mail
    type: email
    smtp: {host: 127.0.0.1, port: %d, tls: none}
    from: mcpdrift@example.com
    to: [secops@example.com]
`, leak.Servers, slack.url, hook.url, leak.NotifierSecret, port))
	h.waitRuns("leaky", 1)
	h.waitRuns("echo", 1)
	h.outboxEmpty()

	// Each channel got both unreachable alerts, and they carry the
	// servers' errors: redacted, yet saying where the secrets came from.
	shows := []string{"[REDACTED:env.API_KEY]", "[REDACTED:env.FILE_KEY]", "[REDACTED:servers.other.env.TOKEN]",
		"[REDACTED:notifiers.hook.secret]", "[REDACTED:headers.Authorization]", "[REDACTED:url.query]"}
	channels := map[string][]string{"slack": bodies(slack), "webhook": bodies(hook), "email": decodeMails(t, box.all())}
	for name, msgs := range channels {
		if len(msgs) != 2 {
			t.Fatalf("%s received %d messages, want the 2 unreachable alerts", name, len(msgs))
		}
		all := strings.Join(msgs, "\n")
		leak.Check(t, name, all)
		for _, s := range shows {
			if !strings.Contains(all, s) && !strings.Contains(all, strings.ReplaceAll(s, "_", `\_`)) {
				t.Errorf("%s does not show %s, so the error never reached it:\n%s", name, s, all)
			}
		}
	}
	status, err := h.app.Service().Status(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range status {
		if rs.Server != "other" && !strings.Contains(rs.Error, "[REDACTED:") {
			t.Errorf("status of %s shows no failure: %+v", rs.Server, rs)
		}
		leak.Check(t, "status of "+rs.Server, fmt.Sprintf("%+v", rs))
	}

	h.stop()
	leak.Check(t, "the daemon log", h.logs.String())
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "[REDACTED:env.API_KEY]") {
		t.Fatal("no failure record is in the file as plain bytes; this check would prove nothing")
	}
	leak.Check(t, "the database file", string(raw))
}

func bodies(r *hookReceiver) []string {
	var out []string
	for _, q := range r.accepted() {
		out = append(out, q.body)
	}
	return out
}

// decodeMails returns each message's headers and every text part,
// decoded from quoted-printable or base64, so that a secret cannot hide
// behind a soft line break or an encoding.
func decodeMails(t *testing.T, raw []string) []string {
	t.Helper()
	var out []string
	for _, r := range raw {
		m, err := mail.ReadMessage(strings.NewReader(r))
		if err != nil {
			t.Fatalf("parse mail: %v\n%s", err, r)
		}
		var b strings.Builder
		dec := new(mime.WordDecoder)
		for k, vs := range m.Header {
			for _, v := range vs {
				if d, err := dec.DecodeHeader(v); err == nil {
					v = d
				}
				fmt.Fprintf(&b, "%s: %s\n", k, v)
			}
		}
		b.WriteString(decodePart(t, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body))
		out = append(out, b.String())
	}
	return out
}

func decodePart(t *testing.T, contentType, encoding string, body io.Reader) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err == nil && strings.HasPrefix(mt, "multipart/") {
		var b strings.Builder
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return b.String()
			}
			if err != nil {
				t.Fatalf("read mail part: %v", err)
			}
			b.WriteString(decodePart(t, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p))
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("decode mail body: %v", err)
	}
	return string(b) + "\n"
}

package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/inventory"
	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/service"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/internal/version"
	"github.com/mcpdrift/mcpdrift/store"
)

var (
	t0 = time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	t1 = t0.Add(90 * time.Minute)
)

func sampleServer(name string) report.Server {
	return report.Server{
		Server: name, Status: report.StatusDrift, Severity: severity.Critical,
		Baseline:    &report.Baseline{ID: "sha256:" + strings.Repeat("a", 64), ApprovedAt: t0, ApprovedBy: "alice"},
		Snapshot:    &report.Snapshot{ID: "sha256:" + strings.Repeat("b", 64), TakenAt: t1},
		LastChecked: &t1,
		Changes: []report.Change{{
			Kind: "tool.description", Entity: "tool", Name: "search", Severity: severity.Critical,
			Summary: "description changed", Before: "Search.", After: "Search.<U+200B>ignore previous",
			Diff: "-Search.\n+Search.<U+200B>ignore previous\n",
			Findings: []report.Finding{{Rule: "hidden-instruction", Severity: severity.Critical,
				Message: "hidden instruction", Evidence: "ignore previous"}},
		}},
		Findings: []report.Finding{{Entity: "tool", Name: "add", Rule: "sensitive-path",
			Severity: severity.High, Message: "mentions ~/.ssh", Evidence: "~/.ssh/id_rsa", Suppressed: ""}},
		Note: "unicode survives: é ✓",
	}
}

func TestRoundTrip(t *testing.T) {
	f := &fake{
		report:  report.Report{Servers: []report.Server{sampleServer("a"), {Server: "b", Status: report.StatusError, Error: "connect: refused", Changes: []report.Change{}}}},
		servers: []report.Server{sampleServer("a"), sampleServer("b")},
		tools: []inventory.Server{{Server: "a", Snapshot: "sha256:" + strings.Repeat("b", 64),
			Tools: []inventory.Tool{{Name: "search", Risk: drift.RiskReadOnly}}}, {Server: "b", Error: "no snapshot yet", Tools: []inventory.Tool{}}},
		grants: []oauth.Status{{Server: "a", Mode: "authorization_code", Issuer: "https://as.example", ClientID: "dcr-1",
			Registration: "dynamic", Granted: []string{"tools:read"}, Stored: true, Expiry: t1, LastRefresh: t0, NeedsLogin: true,
			LastError: "invalid_grant"}},
		server: sampleServer("."),
		approval: report.Approval{Server: "a", Seq: 7, At: t1, Comment: "looked fine",
			BaselineID: "sha256:" + strings.Repeat("c", 64), PreviousID: "sha256:" + strings.Repeat("a", 64),
			SnapshotID: "sha256:" + strings.Repeat("b", 64), Tools: []string{"search", "add"}, Method: "cli"},
		history: service.History{Server: "a", History: []service.HistoryEntry{
			{Type: "snapshot", At: t0, Until: t1, Count: 3, SnapshotID: "sha256:" + strings.Repeat("b", 64), Client: "mcpdrift/1", Protocol: "2026-07-28"},
			{Type: "approval", At: t0, BaselineID: "sha256:" + strings.Repeat("a", 64), Approver: "alice", Method: "trust-on-first-use", Tools: []string{"x"}},
			{Type: "error", At: t0, Count: 1, Error: "dial tcp: refused"},
		}},
		doc: json.RawMessage(`{"server":{"name":"a"},"tools":[{"name":"search","description":"Search.\u200b"}]}`),
	}
	ts := serve(t, f, Options{Version: version.Info{Version: "v9.9.9", Commit: "abc", Date: "today", GoVersion: "go1.26"}})
	c := dial(t, ts.path)
	ctx := context.Background()

	t.Run("ping", func(t *testing.T) {
		p, err := c.Ping(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := Ping{Service: "mcpdrift", Version: version.Info{Version: "v9.9.9", Commit: "abc", Date: "today", GoVersion: "go1.26"},
			PID: os.Getpid(), Peer: Peer{UID: os.Getuid(), GID: os.Getgid(), PID: os.Getpid(), User: osUser(t)}}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("ping = %+v, want %+v", p, want)
		}
		if c.Daemon() != want {
			t.Errorf("Daemon() = %+v, want %+v", c.Daemon(), want)
		}
	})
	t.Run("check", func(t *testing.T) {
		got, err := c.Check(ctx, []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(f.checkServers, []string{"a", "b"}) {
			t.Errorf("servers arrived as %q", f.checkServers)
		}
		if !reflect.DeepEqual(got, f.report) {
			t.Errorf("report =\n%+v\nwant\n%+v", got, f.report)
		}
	})
	t.Run("check as other clients", func(t *testing.T) {
		if _, err := c.Check(ctx, []string{"a"}, "bare", "claude-code/1.0+roots"); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(f.checkAs, []string{"bare", "claude-code/1.0+roots"}) {
			t.Errorf("identities arrived as %q", f.checkAs)
		}
	})
	t.Run("inventory", func(t *testing.T) {
		got, err := c.Inventory(ctx, []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(f.statusServers, []string{"a", "b"}) || !reflect.DeepEqual(got, f.tools) {
			t.Errorf("servers arrived as %q; inventory %+v, want %+v", f.statusServers, got, f.tools)
		}
	})
	t.Run("auth status", func(t *testing.T) {
		got, err := c.AuthStatus(ctx, []string{"a"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(f.statusServers, []string{"a"}) || !reflect.DeepEqual(got, f.grants) {
			t.Errorf("servers arrived as %q; auth status %+v, want %+v", f.statusServers, got, f.grants)
		}
	})
	t.Run("check all", func(t *testing.T) {
		if _, err := c.Check(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if len(f.checkServers) != 0 {
			t.Errorf("servers arrived as %q, want none", f.checkServers)
		}
	})
	t.Run("status", func(t *testing.T) {
		got, err := c.Status(ctx, []string{"a", "b&c=d", "é"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(f.statusServers, []string{"a", "b&c=d", "é"}) {
			t.Errorf("servers arrived as %q", f.statusServers)
		}
		if !reflect.DeepEqual(got, f.servers) {
			t.Errorf("status = %+v, want %+v", got, f.servers)
		}
	})
	t.Run("diff", func(t *testing.T) {
		for _, name := range []string{"github", ".", "..", "a/b", "x?y#z"} {
			got, err := c.Diff(ctx, name)
			if err != nil {
				t.Fatalf("diff %q: %v", name, err)
			}
			if f.diffServer != name {
				t.Errorf("server %q arrived as %q", name, f.diffServer)
			}
			if !reflect.DeepEqual(got, f.server) {
				t.Errorf("diff = %+v, want %+v", got, f.server)
			}
		}
	})
	t.Run("approve", func(t *testing.T) {
		req := approval.Request{Server: "a", Snapshot: "3f2a9c41", Tools: []string{"search", "add"},
			Comment: "reviewed; \"quotes\" and\nnewlines", Approver: "mallory", Method: "lock-import"}
		got, err := c.Approve(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		want := req
		want.Approver, want.Method = osUser(t), service.MethodCLI
		if !reflect.DeepEqual(f.approveReq, want) {
			t.Errorf("request arrived as %+v, want %+v", f.approveReq, want)
		}
		wantA := f.approval
		wantA.Approver = osUser(t)
		if !reflect.DeepEqual(got, wantA) {
			t.Errorf("approval = %+v, want %+v", got, wantA)
		}
	})
	t.Run("history", func(t *testing.T) {
		got, err := c.History(ctx, "a", 25)
		if err != nil {
			t.Fatal(err)
		}
		if f.historyServer != "a" || f.historyLimit != 25 {
			t.Errorf("arrived as %q limit %d", f.historyServer, f.historyLimit)
		}
		if !reflect.DeepEqual(got, f.history) {
			t.Errorf("history = %+v, want %+v", got, f.history)
		}
	})
	t.Run("show", func(t *testing.T) {
		for _, req := range []service.ShowRequest{
			{Server: "a"},
			{Server: "a", Snapshot: "sha256:" + strings.Repeat("b", 64)},
			{Server: "a", Baseline: true},
			{Server: "a", Snapshot: "3f2a9c41", Baseline: true}, // the service refuses this, not the transport
		} {
			got, err := c.Show(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if f.showReq != req {
				t.Errorf("request arrived as %+v, want %+v", f.showReq, req)
			}
			if string(got) != string(f.doc) {
				t.Errorf("document = %s, want %s", got, f.doc)
			}
		}
	})
}

// An approval is recorded as the socket peer's OS user and with the
// daemon's own method, whatever the client claims, through the Client or
// by hand.
func TestApproverAndMethodAreTheDaemons(t *testing.T) {
	f := &fake{approval: report.Approval{Server: "a", Seq: 1, At: t0, BaselineID: "sha256:" + strings.Repeat("c", 64)}}
	ts := serve(t, f, Options{})
	want := osUser(t)
	if want == "mallory" {
		t.Fatal("test needs an OS user other than mallory")
	}

	a, err := dial(t, ts.path).Approve(context.Background(), approval.Request{Server: "a", Approver: "mallory"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Approver != want || f.approveReq.Approver != want {
		t.Errorf("approver = %q (service saw %q), want %q", a.Approver, f.approveReq.Approver, want)
	}

	for _, method := range []string{"lock-import", "trust-on-first-use", "cli"} {
		resp, err := rawClient(ts.path).Post("http://x"+pathApprove, "application/json",
			strings.NewReader(`{"server":"a","approver":"mallory","comment":"forged","method":"`+method+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("raw approve: %d %s", resp.StatusCode, body)
		}
		if f.approveReq.Approver != want || f.approveReq.Comment != "forged" || f.approveReq.Method != service.MethodCLI {
			t.Errorf("raw approve with method %q reached the service as %+v, want approver %q method %q",
				method, f.approveReq, want, service.MethodCLI)
		}
		if strings.Contains(string(body), "mallory") {
			t.Errorf("reply names the claimed approver: %s", body)
		}
	}
}

// TestImportLock: a lockfile far larger than other requests reaches the
// service whole, approved by the socket peer whatever the client claims,
// and the outcomes come back; a failure names what was done before it.
func TestImportLock(t *testing.T) {
	ap := report.Approval{Server: "a", Seq: 3, At: t0, BaselineID: "sha256:" + strings.Repeat("c", 64), Method: "lock-import"}
	f := &fake{imported: []lockfile.Imported{{Server: "a", Approval: ap}, {Server: "b", Unchanged: true}}}
	ts := serve(t, f, Options{})
	lock := []byte(`{"lockfile":1,"pad":"` + strings.Repeat("x", 2*DefaultMaxBodyBytes) + `"}`)
	req := service.ImportRequest{Lockfile: lock, Servers: []string{"a", "b"}, Approver: "mallory", Comment: "PR 42", AcceptEdits: true}
	got, err := dial(t, ts.path).ImportLock(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := osUser(t)
	if r := f.importReq; r.Approver != want || !bytes.Equal(r.Lockfile, lock) || strings.Join(r.Servers, ",") != "a,b" ||
		r.Comment != "PR 42" || !r.AcceptEdits {
		t.Errorf("service received approver %q, %d lockfile bytes, servers %v, comment %q, accept edits %v",
			r.Approver, len(r.Lockfile), r.Servers, r.Comment, r.AcceptEdits)
	}
	if len(got) != 2 || got[0].Approval.Seq != 3 || got[0].Approval.BaselineID != ap.BaselineID || !got[1].Unchanged {
		t.Errorf("outcomes = %+v", got)
	}

	f.err = fmt.Errorf("import \"b\": %w", store.ErrConflict)
	f.imported = f.imported[:1]
	if _, err := dial(t, ts.path).ImportLock(context.Background(), req); err == nil ||
		!strings.Contains(err.Error(), "done before the failure: a") {
		t.Errorf("partial failure: %v", err)
	}
}

// Errors keep their kind and message across the socket.
func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		kind     string
		status   int
		sentinel error
	}{
		{"usage", fmt.Errorf("%w: unknown server \"zz\" (configured: a, b)", service.ErrUsage), KindUsage, 400, service.ErrUsage},
		{"not found", fmt.Errorf("%w: server \"a\" has no snapshot yet: %w", service.ErrNotFound, store.ErrNotFound), KindNotFound, 404, service.ErrNotFound},
		{"conflict", fmt.Errorf("approve a: baseline is sha256:1, not sha256:2: %w", store.ErrConflict), KindConflict, 409, store.ErrConflict},
		{"forbidden", fmt.Errorf("%w: refusing to approve as bob (uid 1001): not in admin.operators (alice)", service.ErrForbidden), KindForbidden, 403, service.ErrForbidden},
		{"internal", errors.New("read baseline of a: disk on fire"), KindInternal, 500, nil},
	}
	f := &fake{}
	ts := serve(t, f, Options{})
	c := dial(t, ts.path)
	ctx := context.Background()
	calls := map[string]func() error{
		"check":   func() error { _, err := c.Check(ctx, []string{"a"}); return err },
		"status":  func() error { _, err := c.Status(ctx, nil); return err },
		"diff":    func() error { _, err := c.Diff(ctx, "a"); return err },
		"approve": func() error { _, err := c.Approve(ctx, approval.Request{Server: "a"}); return err },
		"history": func() error { _, err := c.History(ctx, "a", 0); return err },
		"show":    func() error { _, err := c.Show(ctx, service.ShowRequest{Server: "a"}); return err },
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.mu.Lock()
			f.err = tt.err
			f.mu.Unlock()
			for call, do := range calls {
				err := do()
				if err == nil {
					t.Fatalf("%s: no error", call)
				}
				if err.Error() != tt.err.Error() {
					t.Errorf("%s: message %q, want %q", call, err.Error(), tt.err.Error())
				}
				re := asRemote(t, err)
				if re.Kind != tt.kind || re.Status != tt.status {
					t.Errorf("%s: kind %s status %d, want %s %d", call, re.Kind, re.Status, tt.kind, tt.status)
				}
				for _, s := range []error{service.ErrUsage, service.ErrNotFound, store.ErrConflict, service.ErrForbidden} {
					if got, want := errors.Is(err, s), s == tt.sentinel; got != want { //nolint:errorlint // comparing two sentinels, not an error chain
						t.Errorf("%s: errors.Is(err, %v) = %v, want %v", call, s, got, want)
					}
				}
			}
		})
	}
}

// Requests the Client never sends are refused as usage errors, and the
// service is not called.
func TestBadRequests(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		want   string
	}{
		{"diff without server", "GET", pathDiff, "", 400, "missing server"},
		{"history bad limit", "GET", pathHistory + "?server=a&limit=-1", "", 400, `limit "-1"`},
		{"history limit not a number", "GET", pathHistory + "?server=a&limit=ten", "", 400, `limit "ten"`},
		{"show bad baseline", "GET", pathShow + "?server=a&baseline=maybe", "", 400, `baseline "maybe"`},
		{"unknown field", "POST", pathApprove, `{"server":"a","tool":["x"]}`, 400, `unknown field "tool"`},
		{"not json", "POST", pathCheck, `servers=a`, 400, "request body"},
		{"trailing data", "POST", pathCheck, `{"servers":["a"]} {"servers":["b"]}`, 400, "data after the JSON value"},
		{"body too large", "POST", pathCheck, `{"servers":["` + strings.Repeat("a", DefaultMaxBodyBytes) + `"]}`, 400, "larger than 1048576 bytes"},
		{"unknown endpoint", "GET", "/v2/everything", "", 404, "no endpoint GET /v2/everything"},
		{"wrong method", "DELETE", pathStatus, "", 404, "no endpoint DELETE /v1/status"},
	}
	f := &fake{}
	ts := serve(t, f, Options{})
	hc := rawClient(ts.path)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, "http://x"+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var eb errorBody
			if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
				t.Fatalf("reply is not an error body: %v", err)
			}
			if resp.StatusCode != tt.status || eb.Kind != KindUsage || !strings.Contains(eb.Error, tt.want) {
				t.Errorf("got %d %+v, want %d kind usage containing %q", resp.StatusCode, eb, tt.status, tt.want)
			}
		})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.approveReq.Server != "" || f.checkServers != nil || f.diffServer != "" {
		t.Errorf("the service was called: %+v", f)
	}
}

// A panicking handler answers 500 and the daemon keeps serving.
func TestPanicBecomes500(t *testing.T) {
	f := &fake{panicStatus: true, server: report.Server{Server: "a"}}
	ts := serve(t, f, Options{})
	c := dial(t, ts.path)
	_, err := c.Status(context.Background(), nil)
	if re := asRemote(t, err); re.Kind != KindInternal || re.Status != 500 {
		t.Errorf("panic answered %+v, want internal 500", re)
	}
	if _, err := c.Diff(context.Background(), "a"); err != nil {
		t.Errorf("after a panic: %v", err)
	}
	if !strings.Contains(ts.logs.String(), "fake status exploded") {
		t.Errorf("panic not logged:\n%s", ts.logs)
	}
}

// Each request is logged at debug with the peer and endpoint, never the
// body.
func TestRequestLog(t *testing.T) {
	const canary = "CANARY-7f3e-comment"
	f := &fake{approval: report.Approval{Server: "a", Seq: 1, At: t0}}
	ts := serve(t, f, Options{})
	if _, err := dial(t, ts.path).Approve(context.Background(), approval.Request{Server: "a", Comment: canary, Tools: []string{canary}}); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(ts.logs.String()), "\n") {
		if strings.Contains(line, canary) {
			t.Errorf("log line carries the request body: %s", line)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "admin request" && rec["endpoint"] == "POST /v1/approve" {
			found = true
			if rec["component"] != "admin" || rec["user"] != osUser(t) || rec["level"] != "DEBUG" ||
				rec["uid"] != float64(os.Getuid()) || rec["pid"] != float64(os.Getpid()) || rec["status"] != float64(200) {
				t.Errorf("request log line = %v", rec)
			}
		}
	}
	if !found {
		t.Errorf("no request log line for the approval:\n%s", ts.logs)
	}
}

// TestAuthLoginAndLogout: a grant auth login obtained reaches the service
// whole and a logout names its server, for an operator; anyone else is
// refused before the service is called, as for approve.
func TestAuthLoginAndLogout(t *testing.T) {
	grant := &oauth.Record{Server: "notes", Mode: "authorization_code", Issuer: "https://as.example", ClientID: "dcr-1",
		TokenURL: "https://as.example/token", Requested: []string{"tools:read"}, Granted: []string{"tools:read"}}
	f := &fake{}
	c := dial(t, serve(t, f, Options{}).path)
	if err := c.AuthLogin(context.Background(), grant); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.login, grant) {
		t.Errorf("the service got %+v, want %+v", f.login, grant)
	}
	if revoked, err := c.AuthLogout(context.Background(), "notes"); err != nil || !revoked || f.logoutServer != "notes" {
		t.Errorf("logout: revoked %v, %v, server %q", revoked, err, f.logoutServer)
	}

	f = &fake{}
	c = dial(t, serve(t, f, Options{Operators: func() []string { return []string{"someone-else"} }}).path)
	if err := c.AuthLogin(context.Background(), grant); !errors.Is(err, service.ErrForbidden) || f.login != nil {
		t.Errorf("login by a non-operator: %v (service called: %v)", err, f.login != nil)
	}
	if _, err := c.AuthLogout(context.Background(), "notes"); !errors.Is(err, service.ErrForbidden) || f.logoutServer != "" {
		t.Errorf("logout by a non-operator: %v (service called: %v)", err, f.logoutServer != "")
	}
}

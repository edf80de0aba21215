// Package service is the set of operations the CLI offers on a database:
// check, status, diff, approve, history, show. Local runs them on a store
// it holds; the admin package serves the same interface over the daemon's
// unix socket, so every command works whether or not a daemon holds the
// database. service decides nothing about output formats or exit codes.
package service

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/divergence"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/inventory"
	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/redact"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/suggest"
	"github.com/mcpdrift/mcpdrift/store"
)

// Service is what a CLI command calls.
type Service interface {
	// Check probes the named servers (all enabled ones when none) now,
	// and again as each client identity in as (see divergence.Parse).
	Check(ctx context.Context, servers []string, as ...string) (report.Report, error)
	Status(ctx context.Context, servers []string) ([]report.Server, error)
	// Inventory is each named server's tools from its latest snapshot,
	// with the lint findings on them, in one call.
	Inventory(ctx context.Context, servers []string) ([]inventory.Server, error)
	Diff(ctx context.Context, server string) (report.Server, error)
	Approve(ctx context.Context, req approval.Request) (report.Approval, error)
	History(ctx context.Context, server string, limit int) (History, error)
	Show(ctx context.Context, req ShowRequest) (json.RawMessage, error)
	ImportLock(ctx context.Context, req ImportRequest) ([]lockfile.Imported, error)
	// AuthStatus is each named server's stored OAuth grant (all servers
	// with an auth block when none), without its secrets.
	AuthStatus(ctx context.Context, servers []string) ([]oauth.Status, error)
	// AuthLogin stores a grant `mcpdrift auth login` obtained (the browser
	// flow runs beside the person, never in the daemon), sealed with the
	// key of whoever holds the database, as its server's only grant.
	AuthLogin(ctx context.Context, grant *oauth.Record) error
	// AuthLogout revokes a server's tokens where supported (RFC 7009) and
	// deletes its grant.
	AuthLogout(ctx context.Context, server string) (revoked bool, err error)
}

// ImportRequest makes the named servers' manifests in a lockfile their
// baselines (see lockfile.Import).
type ImportRequest struct {
	// Lockfile is the file's bytes, as read.
	Lockfile []byte
	// Servers are the lockfile servers to import; each must be configured.
	Servers     []string
	Approver    string
	Comment     string
	AcceptEdits bool
}

// Errors that carry meaning across the admin socket; the CLI maps them to
// exit codes.
var (
	// ErrUsage: the request names something that does not exist or
	// combines options that cannot go together.
	ErrUsage = errors.New("invalid request")
	// ErrNotFound: the thing asked for has no record yet.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the daemon refuses the caller (not an operator, or a
	// process started by one of its probes).
	ErrForbidden = errors.New("forbidden")
)

// MethodCLI is the method an approval made by an operator records, through
// the daemon's admin socket or with the database opened directly. The
// method is always the daemon's (or the local CLI's) to set, never the
// client's: trust-on-first-use and lock-import name other paths.
const MethodCLI = "cli"

// ShowRequest names a manifest: the latest snapshot, a given snapshot, or
// the baseline.
type ShowRequest struct {
	Server   string `json:"server"`
	Snapshot string `json:"snapshot,omitempty"`
	Baseline bool   `json:"baseline,omitempty"`
}

// History is a server's observations (identical consecutive ones folded)
// and approvals, newest first.
type History struct {
	Server  string         `json:"server"`
	History []HistoryEntry `json:"history"`
}

// HistoryEntry is a run of consecutive observations of the same snapshot
// (or the same error), or an approval.
type HistoryEntry struct {
	Type       string    `json:"type"` // snapshot, error, approval
	At         time.Time `json:"at"`
	Until      time.Time `json:"until,omitzero"`
	Count      int       `json:"count,omitempty"`
	SnapshotID string    `json:"snapshot,omitempty"`
	BaselineID string    `json:"baseline,omitempty"`
	PreviousID string    `json:"previous,omitempty"`
	Approver   string    `json:"approver,omitempty"`
	Method     string    `json:"method,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	Tools      []string  `json:"tools,omitempty"`
	Client     string    `json:"client,omitempty"`
	Protocol   string    `json:"protocol,omitempty"`
	Error      string    `json:"error,omitempty"`
	// ServerName and ServerVersion are the serverInfo the snapshot's
	// server reported (what changed, for a reader of the history), not
	// mcpdrift's own client identity (Client).
	ServerName    string `json:"server_name,omitempty"`
	ServerVersion string `json:"server_version,omitempty"`
}

// Local runs the operations on an open store.
type Local struct {
	Config *config.Config
	Store  *store.DB
	Engine *engine.Engine
}

// NewLocal returns the service over an open store, with an engine whose
// lint rules see the tools of every configured server and whose probes
// are bounded by the configured concurrency.
func NewLocal(cfg *config.Config, db *store.DB, logger *slog.Logger) *Local {
	eng := engine.New(db, logger)
	eng.Probe = withAuth(cfg, db, logger, eng.Probe)
	eng.Limit = engine.NewLimiter(cfg.Concurrency)
	names := make([]string, len(cfg.Servers))
	for i, s := range cfg.Servers {
		names[i] = s.Name
	}
	eng.Peers = engine.StorePeers(db, names)
	eng.Secrets = redact.NewLive(cfg.Redactor())
	return &Local{Config: cfg, Store: db, Engine: eng}
}

var _ Service = (*Local)(nil)

// Select returns the configured servers named (all enabled ones when none
// are named).
func Select(cfg *config.Config, names []string) ([]*config.Server, error) {
	if len(names) == 0 {
		var out []*config.Server
		for i := range cfg.Servers {
			if !cfg.Servers[i].Disabled {
				out = append(out, &cfg.Servers[i])
			}
		}
		return out, nil
	}
	var out []*config.Server
	var unknown []string
	for _, name := range names {
		s, ok := cfg.Server(name)
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q", name))
			continue
		}
		out = append(out, s)
	}
	if len(unknown) > 0 {
		known := make([]string, len(cfg.Servers))
		for i, s := range cfg.Servers {
			known[i] = s.Name
		}
		hint := ""
		if len(unknown) == 1 {
			hint = suggest.Hint(strings.Trim(unknown[0], `"`), known)
		}
		return nil, fmt.Errorf("%w: unknown server %s%s (configured: %s)", ErrUsage, strings.Join(unknown, ", "), hint, strings.Join(known, ", "))
	}
	return out, nil
}

func (l *Local) one(name string) (*config.Server, error) {
	ss, err := Select(l.Config, []string{name})
	if err != nil {
		return nil, err
	}
	return ss[0], nil
}

// Check probes the named servers now, and as each identity in as.
func (l *Local) Check(ctx context.Context, names []string, as ...string) (report.Report, error) {
	ss, err := Select(l.Config, names)
	if err != nil {
		return report.Report{}, err
	}
	ids, err := Identities(as)
	if err != nil {
		return report.Report{}, err
	}
	return l.Engine.Check(ctx, ss, engine.Options{As: ids}), nil
}

// Identities parses --as values; a bad one is a usage error.
func Identities(specs []string) ([]divergence.Identity, error) {
	ids := make([]divergence.Identity, 0, len(specs))
	for _, s := range specs {
		id, err := divergence.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%w: --as: %w", ErrUsage, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Inventory reads each named server's latest snapshot and its findings
// (with the cross-server rules and suppressions, as Status has them).
func (l *Local) Inventory(_ context.Context, names []string) ([]inventory.Server, error) {
	ss, err := Select(l.Config, names)
	if err != nil {
		return nil, err
	}
	out := make([]inventory.Server, len(ss))
	for i, s := range ss {
		out[i] = l.inventory(l.Engine.Status(s))
	}
	return out, nil
}

func (l *Local) inventory(row report.Server) inventory.Server {
	none := inventory.Server{Server: row.Server, Tools: []inventory.Tool{}}
	if row.Snapshot == nil {
		none.Error = cmp.Or(row.Error, row.Note, fmt.Sprintf("no snapshot yet: run 'mcpdrift check %s'", row.Server))
		return none
	}
	doc, err := l.Store.Manifest(row.Snapshot.ID)
	if err != nil {
		none.Error = fmt.Sprintf("read snapshot %s: %v", row.Snapshot.ID, err)
		return none
	}
	m, err := manifest.Parse(doc)
	if err != nil {
		none.Error = fmt.Sprintf("parse snapshot %s: %v", row.Snapshot.ID, err)
		return none
	}
	return inventory.Build(row.Server, row.Snapshot.ID, m, row.Findings)
}

// Status reports what was last seen of the named servers.
func (l *Local) Status(_ context.Context, names []string) ([]report.Server, error) {
	ss, err := Select(l.Config, names)
	if err != nil {
		return nil, err
	}
	out := make([]report.Server, len(ss))
	for i, s := range ss {
		out[i] = l.Engine.Status(s)
	}
	return out, nil
}

// Diff compares the latest snapshot with the baseline.
func (l *Local) Diff(_ context.Context, name string) (report.Server, error) {
	s, err := l.one(name)
	if err != nil {
		return report.Server{}, err
	}
	return l.Engine.Pending(s), nil
}

// Approve approves a snapshot, or some tools of it.
func (l *Local) Approve(_ context.Context, req approval.Request) (report.Approval, error) {
	if _, err := l.one(req.Server); err != nil {
		return report.Approval{}, err
	}
	if req.Method == "" {
		req.Method = MethodCLI
	}
	a, err := l.Engine.Approve(req)
	return a, classify(err)
}

// History lists observations and approvals.
func (l *Local) History(_ context.Context, name string, limit int) (History, error) {
	s, err := l.one(name)
	if err != nil {
		return History{}, err
	}
	obs, err := l.Store.Observations(s.Name, limit)
	if err != nil {
		return History{}, err
	}
	apps, err := l.Store.Approvals(s.Name)
	if err != nil {
		return History{}, err
	}
	h := History{Server: s.Name, History: entries(obs, apps)}
	infos := map[string][2]string{}
	for i := range h.History {
		e := &h.History[i]
		if e.Type != "snapshot" || e.SnapshotID == "" {
			continue
		}
		info, ok := infos[e.SnapshotID]
		if !ok {
			info = serverInfo(l.Store, e.SnapshotID)
			infos[e.SnapshotID] = info
		}
		e.ServerName, e.ServerVersion = info[0], info[1]
	}
	return h, nil
}

// serverInfo reads serverInfo.name and .version from a stored manifest;
// empty when the manifest cannot be read (history still lists the entry).
func serverInfo(db *store.DB, id string) [2]string {
	doc, err := db.Manifest(id)
	if err != nil {
		return [2]string{}
	}
	var m struct {
		Server struct {
			ServerInfo struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			} `json:"serverInfo"`
		} `json:"server"`
	}
	if json.Unmarshal(doc, &m) != nil {
		return [2]string{}
	}
	return [2]string{m.Server.ServerInfo.Name, m.Server.ServerInfo.Version}
}

// ImportLock imports the named servers of a lockfile as baselines.
func (l *Local) ImportLock(_ context.Context, req ImportRequest) ([]lockfile.Imported, error) {
	if len(req.Servers) == 0 {
		return nil, fmt.Errorf("%w: no server to import named", ErrUsage)
	}
	if _, err := Select(l.Config, req.Servers); err != nil {
		return nil, err
	}
	f, err := lockfile.Decode(req.Lockfile)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	servers := make([]lockfile.Server, 0, len(req.Servers))
	for _, name := range req.Servers {
		s, ok := f.Server(name)
		if !ok {
			return nil, fmt.Errorf("%w: %q is not in the lockfile", ErrUsage, name)
		}
		servers = append(servers, *s)
	}
	return lockfile.Import(l.Store, servers, lockfile.ImportOptions{
		Approver: req.Approver, Comment: req.Comment, AcceptEdits: req.AcceptEdits,
	})
}

// Show returns a canonical manifest document.
func (l *Local) Show(_ context.Context, req ShowRequest) (json.RawMessage, error) {
	s, err := l.one(req.Server)
	if err != nil {
		return nil, err
	}
	var id string
	switch {
	case req.Snapshot != "" && req.Baseline:
		return nil, fmt.Errorf("%w: --snapshot and --baseline are exclusive", ErrUsage)
	case req.Baseline:
		b, err := l.Store.Baseline(s.Name)
		if err != nil {
			return nil, classify(fmt.Errorf("server %q has no approved baseline yet (run 'mcpdrift check %s'): %w", s.Name, s.Name, err))
		}
		id = b.BaselineID
	case req.Snapshot != "":
		if id, err = l.Store.ResolveSnapshot(s.Name, req.Snapshot); err != nil {
			return nil, classify(err)
		}
	default:
		o, err := l.Store.LatestSnapshot(s.Name)
		if err != nil {
			return nil, classify(fmt.Errorf("server %q has no snapshot yet (run 'mcpdrift check %s'): %w", s.Name, s.Name, err))
		}
		id = o.SnapshotID
	}
	return l.Store.Manifest(id)
}

// classify marks store and engine errors with the service's sentinels.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, engine.ErrNoSnapshot):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, store.ErrAmbiguous), errors.Is(err, store.ErrInvalidRef),
		errors.Is(err, approval.ErrUnknownTool), errors.Is(err, engine.ErrNothingToApprove):
		return fmt.Errorf("%w: %w", ErrUsage, err)
	default:
		return err
	}
}

// entries merges observations and approvals (both newest first) into one
// newest-first list, folding runs of identical observations that no
// approval interrupts, so that the list stays strictly newest first: a run
// goes from its oldest observation (At) to its newest (Until), and is
// placed by Until. At equal times an observation comes before an approval.
func entries(obs []store.Observation, apps []report.Approval) []HistoryEntry {
	var out []HistoryEntry
	i, j := 0, 0
	for i < len(obs) || j < len(apps) {
		if j == len(apps) || (i < len(obs) && !apps[j].At.After(obs[i].TakenAt)) {
			o := obs[i]
			i++
			typ := "snapshot"
			if o.Error != "" {
				typ = "error"
			}
			if n := len(out); n > 0 && out[n-1].Type == typ && out[n-1].SnapshotID == o.SnapshotID && out[n-1].Error == o.Error {
				// obs is newest first: extend the run backwards in time.
				out[n-1].Count++
				out[n-1].At = o.TakenAt
				continue
			}
			out = append(out, HistoryEntry{Type: typ, At: o.TakenAt, Until: o.TakenAt, Count: 1,
				SnapshotID: o.SnapshotID, Client: o.Client, Protocol: o.Protocol, Error: o.Error})
			continue
		}
		ap := apps[j]
		j++
		out = append(out, HistoryEntry{Type: "approval", At: ap.At, SnapshotID: ap.SnapshotID,
			BaselineID: ap.BaselineID, PreviousID: ap.PreviousID, Approver: ap.Approver,
			Method: ap.Method, Comment: ap.Comment, Tools: ap.Tools})
	}
	return out
}

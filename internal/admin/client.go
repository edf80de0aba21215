package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/inventory"
	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/service"
)

// Client defaults.
const (
	// DefaultClientTimeout bounds a call whose context has no deadline.
	DefaultClientTimeout = time.Minute
	// DefaultClientCheckTimeout bounds Check when its context has none; a
	// check probes every server and can take minutes.
	DefaultClientCheckTimeout = 15 * time.Minute
	// DefaultMaxResponseBytes bounds a reply (a report or manifest).
	DefaultMaxResponseBytes = 64 << 20

	pingTimeout      = 2 * time.Second
	maxErrorBodySize = 64 << 10
)

// Client is a service.Service served by a daemon over its admin socket.
// Safe for concurrent use; set the exported fields before the first call.
type Client struct {
	// Timeout bounds each call whose context has no deadline.
	Timeout time.Duration
	// CheckTimeout bounds Check when its context has no deadline.
	CheckTimeout time.Duration
	// MaxResponseBytes bounds a reply's body.
	MaxResponseBytes int64

	path   string
	daemon Ping
	hc     *http.Client
}

var _ service.Service = (*Client)(nil)

// Dial connects to the daemon listening on the socket at path and pings it.
// It fails with ErrNoDaemon, within connectTimeout, when the socket file is
// absent or nothing listens on it: the caller should then open the database
// itself. A socket the caller may not use fails with an error matching
// fs.ErrPermission; a daemon that accepts but does not answer, with another
// error.
func Dial(ctx context.Context, path string) (*Client, error) {
	c := &Client{
		Timeout:          DefaultClientTimeout,
		CheckTimeout:     DefaultClientCheckTimeout,
		MaxResponseBytes: DefaultMaxResponseBytes,
		path:             path,
	}
	c.hc = &http.Client{
		Transport: &http.Transport{
			DialContext:            c.dial,
			DisableCompression:     true,
			MaxIdleConnsPerHost:    4,
			IdleConnTimeout:        30 * time.Second,
			MaxResponseHeaderBytes: maxHeaderBytes,
		},
		// The daemon never redirects; a reply that does is not its.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// Connect once first so that "no daemon" is told apart from "a daemon
	// that does not answer".
	conn, err := c.dial(ctx, "", "")
	if err != nil {
		return nil, err
	}
	_ = conn.Close()
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if c.daemon, err = c.Ping(pctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("admin socket %s: daemon is not answering: %w", path, err)
	}
	return c, nil
}

// dial connects to the socket, classifying connect failures.
func (c *Client) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	d := net.Dialer{Timeout: connectTimeout}
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err == nil {
		return conn, nil
	}
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOTSOCK):
		return nil, fmt.Errorf("admin socket %s: %w", c.path, ErrNoDaemon)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("admin socket %s: %w: ask for membership of the group that owns it, or run as the daemon's user", c.path, err)
	default:
		return nil, fmt.Errorf("admin socket %s: %w", c.path, err)
	}
}

// Path is the socket the client talks to.
func (c *Client) Path() string { return c.path }

// Daemon is what the daemon said about itself when dialled.
func (c *Client) Daemon() Ping { return c.daemon }

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Backup streams a consistent copy of the daemon's database into w and
// returns the bytes written. The caller must verify the copy.
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	u := url.URL{Scheme: "http", Host: "mcpdrift", Path: pathBackup}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("build backup request: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("admin GET %s: %w", pathBackup, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return 0, remoteError(resp)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("receive backup: %w", err)
	}
	return n, nil
}

// Ping asks the daemon who it is and who it takes the caller for.
func (c *Client) Ping(ctx context.Context) (Ping, error) {
	var p Ping
	err := c.do(ctx, c.Timeout, http.MethodGet, pathPing, nil, nil, &p)
	return p, err
}

// Check asks the daemon to probe the named servers (all when none) now,
// and again as each client identity in as.
func (c *Client) Check(ctx context.Context, servers []string, as ...string) (report.Report, error) {
	var rep report.Report
	err := c.do(ctx, c.CheckTimeout, http.MethodPost, pathCheck, nil, checkRequest{Servers: servers, As: as}, &rep)
	return rep, err
}

// Inventory asks the daemon for the named servers' tools (all when none)
// from their latest snapshots.
func (c *Client) Inventory(ctx context.Context, servers []string) ([]inventory.Server, error) {
	var resp inventoryResponse
	err := c.do(ctx, c.Timeout, http.MethodGet, pathInv, url.Values{"server": servers}, nil, &resp)
	return resp.Servers, err
}

// Status reports what the daemon last saw of the named servers.
func (c *Client) Status(ctx context.Context, servers []string) ([]report.Server, error) {
	var resp statusResponse
	err := c.do(ctx, c.Timeout, http.MethodGet, pathStatus, url.Values{"server": servers}, nil, &resp)
	return resp.Servers, err
}

// AuthStatus asks the daemon for the named servers' stored OAuth grants
// (all servers with an auth block when none), without their secrets.
func (c *Client) AuthStatus(ctx context.Context, servers []string) ([]oauth.Status, error) {
	var resp authStatusResponse
	err := c.do(ctx, c.Timeout, http.MethodGet, pathAuth, url.Values{"server": servers}, nil, &resp)
	return resp.Servers, err
}

// AuthLogin hands the daemon a grant auth login obtained, to seal with its
// key and store as the server's only grant.
func (c *Client) AuthLogin(ctx context.Context, grant *oauth.Record) error {
	return c.do(ctx, c.Timeout, http.MethodPost, pathLogin, nil, authLoginRequest{Grant: grant}, &struct{}{})
}

// AuthLogout asks the daemon to revoke a server's tokens and delete its
// grant.
func (c *Client) AuthLogout(ctx context.Context, server string) (bool, error) {
	var resp authLogoutResponse
	err := c.do(ctx, c.CheckTimeout, http.MethodPost, pathLogout, nil, authLogoutRequest{Server: server}, &resp)
	return resp.Revoked, err
}

// Diff compares a server's latest snapshot with its baseline.
func (c *Client) Diff(ctx context.Context, server string) (report.Server, error) {
	var s report.Server
	err := c.do(ctx, c.Timeout, http.MethodGet, pathDiff, url.Values{"server": {server}}, nil, &s)
	return s, err
}

// Approve asks the daemon to approve. req.Approver and req.Method are not
// sent: the daemon records the OS user it sees on the socket, and its own
// method.
func (c *Client) Approve(ctx context.Context, req approval.Request) (report.Approval, error) {
	var a report.Approval
	body := approveRequest{Server: req.Server, Snapshot: req.Snapshot, Tools: req.Tools, Comment: req.Comment}
	if err := c.do(ctx, c.Timeout, http.MethodPost, pathApprove, nil, body, &a); err != nil {
		return report.Approval{}, err
	}
	return a, nil
}

// ImportLock asks the daemon to import. req.Approver is not sent: the
// daemon records the OS user it sees on the socket.
func (c *Client) ImportLock(ctx context.Context, req service.ImportRequest) ([]lockfile.Imported, error) {
	if !json.Valid(req.Lockfile) {
		return nil, fmt.Errorf("%w: the lockfile is not JSON", service.ErrUsage)
	}
	var out []imported
	body := importRequest{Lockfile: req.Lockfile, Servers: req.Servers, Comment: req.Comment, AcceptEdits: req.AcceptEdits}
	if err := c.do(ctx, c.Timeout, http.MethodPost, pathImport, nil, body, &out); err != nil {
		return nil, err
	}
	res := make([]lockfile.Imported, len(out))
	for i, o := range out {
		res[i] = lockfile.Imported{Server: o.Server, Unchanged: o.Unchanged, Edited: o.Edited}
		if o.Approval != nil {
			res[i].Approval = *o.Approval
		}
	}
	return res, nil
}

// History lists a server's observations and approvals, newest first.
func (c *Client) History(ctx context.Context, server string, limit int) (service.History, error) {
	var h service.History
	q := url.Values{"server": {server}, "limit": {strconv.Itoa(limit)}}
	err := c.do(ctx, c.Timeout, http.MethodGet, pathHistory, q, nil, &h)
	return h, err
}

// Show returns a canonical manifest document as the daemon stored it.
func (c *Client) Show(ctx context.Context, req service.ShowRequest) (json.RawMessage, error) {
	q := url.Values{"server": {req.Server}}
	if req.Snapshot != "" {
		q.Set("snapshot", req.Snapshot)
	}
	if req.Baseline {
		q.Set("baseline", "true")
	}
	var raw json.RawMessage
	if err := c.do(ctx, c.Timeout, http.MethodGet, pathShow, q, nil, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// do sends one request and decodes its reply into out, or the daemon's
// error into a *RemoteError.
func (c *Client) do(ctx context.Context, timeout time.Duration, method, path string, q url.Values, in, out any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s request: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	u := url.URL{Scheme: "http", Host: "mcpdrift", Path: path, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("build %s request: %w", path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		// The dial errors already name the socket; keep ErrNoDaemon visible.
		return fmt.Errorf("admin %s %s: %w", method, path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return remoteError(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("admin %s %s: read reply: %w", method, path, err)
	}
	if int64(len(b)) > c.MaxResponseBytes {
		return fmt.Errorf("admin %s %s: reply larger than %d bytes", method, path, c.MaxResponseBytes)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("admin %s %s: decode reply: %w", method, path, err)
	}
	return nil
}

// unwrapURLError drops url.Error's "Get \"http://mcpdrift/...\":" prefix,
// which says nothing about a unix socket.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// remoteError turns a non-2xx reply into a *RemoteError.
func remoteError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodySize))
	var eb errorBody
	if err := json.Unmarshal(b, &eb); err == nil && eb.Error != "" {
		kind := eb.Kind
		if kind == "" {
			kind = kindOfStatus(resp.StatusCode)
		}
		return &RemoteError{Kind: kind, Message: eb.Error, Status: resp.StatusCode}
	}
	// Not an mcpdrift error body: say what came back, briefly and printable.
	excerpt := bytes.ToValidUTF8(bytes.TrimSpace(b), nil)
	if len(excerpt) > 200 {
		excerpt = excerpt[:200]
		for len(excerpt) > 0 && !utf8.Valid(excerpt) {
			excerpt = excerpt[:len(excerpt)-1]
		}
	}
	return &RemoteError{Kind: kindOfStatus(resp.StatusCode), Status: resp.StatusCode,
		Message: fmt.Sprintf("admin socket: HTTP %d: %q", resp.StatusCode, excerpt)}
}

// Ignored is an admin socket Connect found but did not use, and why.
type Ignored struct {
	Socket string
	// Daemon is what the daemon said about itself; zero when none answered.
	Daemon Ping
	// Reason says why it was not used.
	Reason error
}

// Connect finds the daemon that holds the database at dbPath: the one on
// the socket at explicit (--socket or admin.socket) when set, else the
// first of loc.Candidates that answers and holds it. A daemon that holds
// another database, does not answer, or may not be used is skipped and
// returned in ignored with the reason, for the caller to tell the
// operator. ErrNoDaemon means none holds the database: the caller opens it
// itself (and when that fails because it is locked, ignored says which
// daemon might hold it).
func Connect(ctx context.Context, explicit, dbPath string, loc Locator) (c *Client, ignored []Ignored, err error) {
	paths := loc.Candidates(dbPath)
	if explicit != "" {
		paths = []string{explicit}
	}
	for _, p := range paths {
		c, err := Dial(ctx, p)
		switch {
		case errors.Is(err, ErrNoDaemon):
			continue
		case err != nil:
			if ctx.Err() != nil {
				return nil, ignored, err
			}
			ignored = append(ignored, Ignored{Socket: p, Reason: err})
			continue
		}
		if err := c.daemon.Database.sameAs(dbPath); err != nil {
			c.Close()
			ignored = append(ignored, Ignored{Socket: p, Daemon: c.daemon, Reason: err})
			continue
		}
		return c, ignored, nil
	}
	return nil, ignored, fmt.Errorf("admin socket (looked at %s): %w", strings.Join(paths, ", "), ErrNoDaemon)
}

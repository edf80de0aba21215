package admin

import (
	"encoding/json"

	"github.com/mcpdrift/mcpdrift/internal/inventory"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/version"
)

// Endpoints. Server names travel in the query string, not the path: "."
// and ".." are valid server names and a path would be cleaned away.
const (
	pathPing    = "/v1/ping"
	pathStatus  = "/v1/status"      // GET ?server=a&server=b
	pathInv     = "/v1/inventory"   // GET ?server=a&server=b
	pathCheck   = "/v1/check"       // POST checkRequest
	pathDiff    = "/v1/diff"        // GET ?server=a
	pathApprove = "/v1/approve"     // POST approveRequest
	pathHistory = "/v1/history"     // GET ?server=a&limit=N
	pathShow    = "/v1/show"        // GET ?server=a&snapshot=ID | &baseline=true
	pathBackup  = "/v1/backup"      // GET: the whole database, streamed
	pathImport  = "/v1/lock/import" // POST importRequest
	pathAuth    = "/v1/auth/status" // GET ?server=a&server=b
	pathLogin   = "/v1/auth/login"  // POST authLoginRequest
	pathLogout  = "/v1/auth/logout" // POST authLogoutRequest
)

// errorBody is every non-2xx reply.
type errorBody struct {
	Error string `json:"error"`
	Kind  string `json:"kind"`
}

// Ping is the daemon's answer to a health check: who it is, and who it
// thinks is asking.
type Ping struct {
	Service string       `json:"service"` // always "mcpdrift"
	Version version.Info `json:"version"`
	PID     int          `json:"pid"`
	// Peer is the caller as the daemon identified it from the socket; it
	// is whom an approval from this connection would be recorded as.
	Peer Peer `json:"peer"`
	// Database is the database the daemon holds; a client uses the daemon
	// only when it is the one its own config names.
	Database Database `json:"database,omitzero"`
}

type checkRequest struct {
	Servers []string `json:"servers"`
	// As are client identities to probe each server as too (check --as).
	As []string `json:"as,omitempty"`
}

type inventoryResponse struct {
	Servers []inventory.Server `json:"servers"`
}

type statusResponse struct {
	Servers []report.Server `json:"servers"`
}

// approveRequest is the body of POST /v1/approve. Approver and Method are
// accepted so that a client which sends them is not refused, and are never
// used: the approver is the socket peer's OS user and the method the
// daemon's own (service.MethodCLI).
type approveRequest struct {
	Server   string   `json:"server"`
	Snapshot string   `json:"snapshot,omitempty"`
	Tools    []string `json:"tools,omitempty"`
	Comment  string   `json:"comment,omitempty"`
	Method   string   `json:"method,omitempty"`
	Approver string   `json:"approver,omitempty"`
}

// importRequest is the body of POST /v1/lock/import. As for an approval,
// the approver is the socket peer.
type importRequest struct {
	Lockfile    json.RawMessage `json:"lockfile"`
	Servers     []string        `json:"servers"`
	Comment     string          `json:"comment,omitempty"`
	AcceptEdits bool            `json:"accept_edits,omitempty"`
}

// imported is one server's outcome of an import.
type imported struct {
	Server    string           `json:"server"`
	Unchanged bool             `json:"unchanged,omitempty"`
	Edited    bool             `json:"edited,omitempty"`
	Approval  *report.Approval `json:"approval,omitempty"`
}

type authStatusResponse struct {
	Servers []oauth.Status `json:"servers"`
}

// authLoginRequest carries a grant in clear over the socket (an operator's
// CLI to the daemon, which seals it): never logged.
type authLoginRequest struct {
	Grant *oauth.Record `json:"grant"`
}

type authLogoutRequest struct {
	Server string `json:"server"`
}

type authLogoutResponse struct {
	Revoked bool `json:"revoked"`
}

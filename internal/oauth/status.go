package oauth

import (
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
)

// Status is what `mcpdrift auth status` shows of one server's grant. It
// holds no token, secret or code, so it may travel over the daemon's admin
// socket and be printed.
type Status struct {
	Server string `json:"server"`
	// Mode is the configured mode, or the stored grant's.
	Mode         string   `json:"mode"`
	Issuer       string   `json:"issuer,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	Registration string   `json:"registration,omitempty"`
	Granted      []string `json:"granted_scopes,omitempty"`
	// Stored is set when a grant is stored; the fields above and below
	// are its.
	Stored      bool      `json:"stored"`
	Expiry      time.Time `json:"expiry,omitzero"`
	LastRefresh time.Time `json:"last_refresh,omitzero"`
	// NeedsLogin: the authorization server refused a refresh; only a new
	// login helps.
	NeedsLogin bool   `json:"needs_login,omitempty"`
	LastError  string `json:"last_error,omitempty"`
	// Error is why the stored grant could not be read (another key?).
	Error string `json:"error,omitempty"`
}

// StatusOf returns the status of s's stored grant.
func (v *Vault) StatusOf(s *config.Server) Status {
	st := Status{Server: s.Name, Mode: s.Auth.Mode}
	rec, err := v.Load(s.Name)
	switch {
	case err != nil:
		st.Error = err.Error()
	case rec != nil:
		st.Stored = true
		st.Mode, st.Issuer, st.ClientID, st.Registration = rec.Mode, rec.Issuer, rec.ClientID, rec.Registration
		st.Granted, st.LastRefresh, st.NeedsLogin, st.LastError = rec.Granted, rec.LastRefresh, rec.NeedsLogin, rec.LastError
		if rec.Token != nil {
			st.Expiry = rec.Token.Expiry
		}
	}
	return st
}

package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// KeySize is the size of the sealing key: AES-256.
const KeySize = 32

// ErrNoKey reports a configuration without auth.key_file: grants are never
// stored unencrypted, so none is stored at all.
var ErrNoKey = errors.New("no auth.key_file configured: OAuth grants are stored only encrypted")

// LoadKey reads the sealing key: 32 raw bytes, or their standard base64
// (what `openssl rand -base64 32` prints), with surrounding white space
// ignored. The file is read at every use, so a rotated key file (see
// docs/auth.md) takes effect without a restart.
func LoadKey(path string) ([]byte, error) {
	if path == "" {
		return nil, ErrNoKey
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth.key_file: %w", err)
	}
	if len(b) == KeySize {
		return b, nil
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != KeySize {
		return nil, fmt.Errorf("auth.key_file %s: want %d raw bytes or their base64 (openssl rand -base64 32)", path, KeySize)
	}
	return k, nil
}

// Record is one stored grant: everything needed to refresh it headless,
// and what auth status shows. It is only ever stored sealed.
type Record struct {
	Server   string `json:"server"`
	Mode     string `json:"mode"`
	Issuer   string `json:"issuer"`
	Resource string `json:"resource,omitempty"`
	// Registration is how the client was registered: metadata_document,
	// preregistered, dynamic or (client credentials) preregistered.
	Registration  string           `json:"registration,omitempty"`
	ClientID      string           `json:"client_id"`
	ClientSecret  string           `json:"client_secret,omitempty"` // from dynamic registration only
	AuthURL       string           `json:"auth_url,omitempty"`
	TokenURL      string           `json:"token_url"`
	RevocationURL string           `json:"revocation_url,omitempty"`
	AuthStyle     oauth2.AuthStyle `json:"auth_style,omitempty"`
	Token         *oauth2.Token    `json:"token,omitempty"`
	Requested     []string         `json:"requested_scopes"`
	Granted       []string         `json:"granted_scopes"`
	LoggedIn      time.Time        `json:"logged_in,omitzero"`
	LastRefresh   time.Time        `json:"last_refresh,omitzero"`
	// NeedsLogin is set when the authorization server refused a refresh:
	// the daemon does not try again until a new login replaces the record.
	NeedsLogin bool      `json:"needs_login,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	Updated    time.Time `json:"updated"`
}

// Store is where sealed records live (store.DB).
type Store interface {
	PutAuth(server, issuer string, sealed []byte) error
	Auth(server string) (map[string][]byte, error)
	DeleteAuth(server string) error
}

// Vault seals records with AES-256-GCM before they reach the Store. The
// server and issuer are the additional data, so a record moved to another
// key does not open.
type Vault struct {
	Store   Store
	KeyFile string
}

func (v *Vault) aead() (cipher.AEAD, error) {
	key, err := LoadKey(v.KeyFile)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func additional(server, issuer string) []byte { return []byte(server + "\x00" + issuer) }

// Save seals and stores r.
func (v *Vault) Save(r *Record) error {
	g, err := v.aead()
	if err != nil {
		return err
	}
	r.Updated = time.Now().UTC()
	// Sealed below: the client secret and tokens never reach the store in clear.
	plain, err := json.Marshal(r) //nolint:gosec // G117: sealed with AES-GCM before it is stored
	if err != nil {
		return fmt.Errorf("encode grant of %s: %w", r.Server, err)
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	sealed := g.Seal(nonce, nonce, plain, additional(r.Server, r.Issuer))
	return v.Store.PutAuth(r.Server, r.Issuer, sealed)
}

// Replace stores r as its server's only grant: a new login supersedes
// the grants of other authorization servers and any that no longer open
// (a lost key), so status shows one truth.
func (v *Vault) Replace(r *Record) error {
	if err := v.Save(r); err != nil {
		return err
	}
	if all, err := v.LoadAll(r.Server); err == nil && len(all) <= 1 {
		return nil
	}
	if err := v.Store.DeleteAuth(r.Server); err != nil {
		return err
	}
	return v.Save(r)
}

// Load returns the newest grant stored for server, or nil.
func (v *Vault) Load(server string) (*Record, error) {
	all, err := v.LoadAll(server)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return all[0], nil
}

// LoadAll returns every grant stored for server, newest first.
func (v *Vault) LoadAll(server string) ([]*Record, error) {
	sealed, err := v.Store.Auth(server)
	if err != nil || len(sealed) == 0 {
		return nil, err
	}
	g, err := v.aead()
	if err != nil {
		return nil, err
	}
	var out []*Record
	for issuer, b := range sealed {
		if len(b) < g.NonceSize() {
			return nil, fmt.Errorf("grant of %s from %s is damaged", server, issuer)
		}
		plain, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], additional(server, issuer))
		if err != nil {
			return nil, fmt.Errorf("grant of %s from %s does not open with auth.key_file (another key?): %w", server, issuer, err)
		}
		var r Record
		if err := json.Unmarshal(plain, &r); err != nil {
			return nil, fmt.Errorf("grant of %s from %s: %w", server, issuer, err)
		}
		out = append(out, &r)
	}
	slices.SortFunc(out, func(a, b *Record) int { return b.Updated.Compare(a.Updated) })
	return out, nil
}

// Rekey re-seals every grant of the servers named with the key in
// newKeyFile: the rotation step of docs/auth.md.
func (v *Vault) Rekey(servers []string, newKeyFile string) (int, error) {
	next := &Vault{Store: v.Store, KeyFile: newKeyFile}
	if _, err := next.aead(); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range servers {
		recs, err := v.LoadAll(s)
		if err != nil {
			return n, err
		}
		for _, r := range recs {
			if err := next.Save(r); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// MemoryStore is a Store that keeps sealed grants in memory only, for
// checks without a database (check --lock in CI): client credentials work,
// and nothing outlives the process.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]map[string][]byte
}

// PutAuth implements Store.
func (s *MemoryStore) PutAuth(server, issuer string, sealed []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]map[string][]byte{}
	}
	if s.m[server] == nil {
		s.m[server] = map[string][]byte{}
	}
	s.m[server][issuer] = append([]byte(nil), sealed...)
	return nil
}

// Auth implements Store.
func (s *MemoryStore) Auth(server string) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range s.m[server] {
		out[k] = append([]byte(nil), v...)
	}
	return out, nil
}

// DeleteAuth implements Store.
func (s *MemoryStore) DeleteAuth(server string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, server)
	return nil
}

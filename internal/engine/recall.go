package engine

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// recaller is a store that remembers which capture its latest snapshot of
// a server was built from (store.DB).
type recaller interface {
	Recall(server, capture string) (doc []byte, id string, err error)
}

// recall returns the stored manifest of a capture identical to the one
// the server's latest snapshot was built from, read without
// canonicalizing it again, or nil. It is asked before the in-memory cache:
// a new `mcpdrift check` has none, and a daemon keeps none of a server
// that does not change. Canonicalizing every unchanged server again was
// most of what a steady-state check did beyond listing (issue 15).
func (e *Engine) recall(server, key string) *manifest.Manifest {
	r, ok := e.Store.(recaller)
	if !ok {
		return nil
	}
	doc, id, err := r.Recall(server, key)
	if err != nil {
		return nil
	}
	m, err := manifest.ParseStored(doc, id)
	if err != nil {
		// Built again from the capture below; the stored document is
		// what needs a look.
		e.Logger.Warn("stored snapshot does not read back; building it again", slog.String("server", server), slog.String("snapshot", id), slog.String("error", err.Error()))
		return nil
	}
	return m
}

// lintMemo is a store that keeps each server's last lint result (store.DB).
type lintMemo interface {
	LintResult(server, key string) ([]byte, error)
	PutLintResult(server, key string, result []byte) error
}

// storedFindings returns the findings a process stored for the server
// under key (lintKey) and this build of mcpdrift: a new `mcpdrift check`
// of an unchanged server in an unchanged context lints nothing.
func (e *Engine) storedFindings(server string, key [32]byte) ([]report.Finding, bool) {
	st, ok := e.Store.(lintMemo)
	if !ok {
		return nil, false
	}
	b, err := st.LintResult(server, storedLintKey(key))
	if err != nil {
		return nil, false
	}
	var fs []report.Finding
	if err := json.Unmarshal(b, &fs); err != nil {
		return nil, false
	}
	return fs, true
}

// storeFindings keeps the findings for storedFindings; a failure only
// costs the next process a lint.
func (e *Engine) storeFindings(server string, key [32]byte, fs []report.Finding) {
	st, ok := e.Store.(lintMemo)
	if !ok {
		return
	}
	b, err := json.Marshal(fs)
	if err == nil {
		err = st.PutLintResult(server, storedLintKey(key), b)
	}
	if err != nil {
		e.Logger.Debug("lint result not kept", slog.String("server", server), slog.String("error", err.Error()))
	}
}

// storedLintKey is key for this build: the rules are code, so a result
// computed by another build of mcpdrift is never reused.
func storedLintKey(key [32]byte) string {
	v := buildID()
	return string(v[:]) + string(key[:])
}

// buildID identifies the running executable by its content, or is random
// (nothing stored is reused) when it cannot be read.
var buildID = sync.OnceValue(func() [32]byte {
	var id [32]byte
	path, err := os.Executable()
	if err == nil {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			defer f.Close()
			h := sha256.New()
			if _, err = io.Copy(h, f); err == nil {
				h.Sum(id[:0])
				return id
			}
		}
	}
	_, _ = rand.Read(id[:])
	return id
})

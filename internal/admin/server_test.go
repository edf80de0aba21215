package admin

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/report"
)

// A client that stalls mid-request, and a long check, hold up nobody else.
func TestSlowClientBlocksNobody(t *testing.T) {
	started := make(chan struct{})
	f := &fake{checkStarted: started, servers: []report.Server{{Server: "a"}}}
	ts := serve(t, f, Options{})
	c := dial(t, ts.path)

	stalled, err := net.Dial("unix", ts.path)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if _, err := stalled.Write([]byte("POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")); err != nil {
		t.Fatal(err)
	}

	checkCtx, cancelCheck := context.WithCancel(context.Background())
	checkErr := make(chan error, 1)
	go func() { _, err := c.Check(checkCtx, []string{"a"}); checkErr <- err }()
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	got, err := c.Status(ctx, nil)
	if err != nil || len(got) != 1 || got[0].Server != "a" {
		t.Fatalf("status while others stall: %v %v", got, err)
	}

	// The client giving up cancels the check in the daemon.
	cancelCheck()
	select {
	case err := <-checkErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled check returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled check did not return")
	}
}

// Cancelling Serve's context cancels in-flight requests, answers them,
// and removes the socket.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	f := &fake{checkStarted: started}
	ts := serve(t, f, Options{ShutdownTimeout: 3 * time.Second})
	c := dial(t, ts.path)

	checkErr := make(chan error, 1)
	go func() { _, err := c.Check(context.Background(), nil); checkErr <- err }()
	<-started

	start := time.Now()
	if err := ts.stop(t); err != nil {
		t.Fatalf("Serve returned %v after cancel", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutdown took %s", took)
	}
	select {
	case err := <-checkErr:
		re := asRemote(t, err)
		if re.Kind != KindInternal || re.Message != context.Canceled.Error() {
			t.Errorf("in-flight check answered %+v, want the service's context error", re)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight check got no answer")
	}
	if _, err := os.Lstat(ts.path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket left after shutdown: %v", err)
	}
}

package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/syncbuf"
	"github.com/mcpdrift/mcpdrift/internal/testtool"
)

// amConfig routes every alert to a receiver that sends nothing, and holds
// the inhibit rule docs/notifiers.md suggests: an unreachable server's
// drift alert waits for the server to answer.
const amConfig = `route:
  receiver: blackhole
  group_by: [alertname, server]
receivers:
  - name: blackhole
inhibit_rules:
  - source_matchers: [alertname="MCPDriftUnreachable"]
    target_matchers: [alertname="MCPDriftDrift"]
    equal: [server, instance]
`

// gettable is an alert as GET /api/v2/alerts returns it (models.GettableAlert).
type gettable struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Fingerprint string            `json:"fingerprint"`
	Status      struct {
		State       string   `json:"state"`
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// realAM is an Alertmanager process started for one test.
type realAM struct {
	url string
}

// startAlertmanager runs Alertmanager on a free loopback port with its
// storage in a temp dir and clustering off (no other port), and waits for
// /-/ready. It is killed when the test ends.
func startAlertmanager(t *testing.T) *realAM {
	t.Helper()
	bin := testtool.Require(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(amConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	// The port is free when chosen but may be taken before Alertmanager
	// binds it: try again with another.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		am, err := tryStart(t, bin, dir, cfg)
		if err == nil {
			return am
		}
		lastErr = err
	}
	t.Fatal(lastErr)
	return nil
}

func tryStart(t *testing.T, bin, dir, cfg string) (*realAM, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()

	var logs syncbuf.Buffer
	cmd := exec.Command(bin,
		"--config.file="+cfg,
		"--storage.path="+filepath.Join(dir, "data-"+strconv.Itoa(int(time.Now().UnixNano()))),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
		"--log.level=warn",
	)
	cmd.Dir, cmd.Env = dir, []string{}
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	am := &realAM{url: "http://" + addr}
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			exited <- err // for stop
			return nil, fmt.Errorf("alertmanager exited before it was ready (%w):\n%s", err, logs.String())
		case <-deadline:
			stop()
			return nil, fmt.Errorf("alertmanager not ready after 30s:\n%s", logs.String())
		case <-tick.C:
		}
		if resp, err := http.Get(am.url + "/-/ready"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(func() {
					stop()
					if t.Failed() {
						t.Logf("alertmanager log:\n%s", logs.String())
					}
				})
				return am, nil
			}
		}
	}
}

// alerts returns the alerts Alertmanager holds that are not resolved
// (active, silenced and inhibited alike: the API's default filter).
func (am *realAM) alerts(t *testing.T) []gettable {
	t.Helper()
	resp, err := http.Get(am.url + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []gettable
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET /api/v2/alerts: %v", err)
	}
	return out
}

// waitFor polls the alerts until cond holds, for up to 15 seconds.
func (am *realAM) waitFor(t *testing.T, what string, cond func([]gettable) bool) []gettable {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		got := am.alerts(t)
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager never showed %s; it holds:\n%s", what, dump(got))
		}
		<-tick.C
	}
}

func dump(as []gettable) string {
	b, _ := json.MarshalIndent(as, "", "  ")
	return string(b)
}

// silence silences alerts whose label name equals value for an hour and
// returns the silence id.
func (am *realAM) silence(t *testing.T, name, value string) string {
	t.Helper()
	now := time.Now().UTC()
	body, _ := json.Marshal(map[string]any{
		"matchers":  []map[string]any{{"name": name, "value": value, "isRegex": false, "isEqual": true}},
		"startsAt":  now,
		"endsAt":    now.Add(time.Hour),
		"createdBy": "mcpdrift test",
		"comment":   "maintenance",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, am.url+"/api/v2/silences", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.SilenceID == "" {
		t.Fatalf("POST /api/v2/silences: HTTP %d, %+v, %v", resp.StatusCode, out, err)
	}
	return out.SilenceID
}

// find returns the alerts with all of the labels given.
func find(as []gettable, labels map[string]string) []gettable {
	var out []gettable
next:
	for _, a := range as {
		for k, v := range labels {
			if a.Labels[k] != v {
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

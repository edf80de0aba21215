package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/escape"
)

// ExitUnhealthy is healthcheck's failure status. Docker and Kubernetes exec
// probes read 1 as unhealthy; Docker reserves 2, so healthcheck never uses
// ExitUsage for its own failures.
const ExitUnhealthy = 1

// DefaultHealthTimeout bounds the whole health request. Docker's and
// Kubernetes' own probe timeouts should be a little longer.
const DefaultHealthTimeout = 2 * time.Second

// healthPath is the daemon's liveness endpoint.
const healthPath = "/healthz"

type healthcheckOptions struct {
	url     string
	timeout time.Duration
}

func newHealthcheckCommand(a *app) *cobra.Command {
	o := healthcheckOptions{timeout: DefaultHealthTimeout}
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the running daemon answers GET /healthz with 200, 1 otherwise",
		Long: `Ask the running daemon whether it is healthy: GET /healthz on its HTTP
listener (http.listen from the config; a wildcard address such as 0.0.0.0
or [::] is asked on 127.0.0.1). Exit status 0 when it answers 200 within
--timeout, 1 otherwise with a one-line reason.

For container HEALTHCHECKs on images without curl. With --url no config
file is read, so it works in a distroless image with nothing but the binary.

When http.web_config_file protects the listener, give what it asks for in
--url: https:// for TLS (the certificate must be valid for the URL's host;
SSL_CERT_FILE names a private CA), and user:password@ for basic auth. The
password is never printed.`,
		Example: `  mcpdrift healthcheck
  mcpdrift healthcheck --url http://127.0.0.1:9464/healthz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target, err := a.healthURL(o.url)
			if err != nil {
				return &ExitError{Code: ExitUnhealthy, Err: fmt.Errorf("unhealthy: %w", err)}
			}
			status, err := probeHealth(cmd.Context(), target, o.timeout)
			if err != nil {
				return &ExitError{Code: ExitUnhealthy, Err: fmt.Errorf("unhealthy: %w", err)}
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "healthy: GET %s: %s\n", shownURL(target), status)
			return err
		},
	}
	cmd.Flags().StringVar(&o.url, "url", "", "health URL to ask (default http://<http.listen>/healthz from the config)")
	cmd.Flags().DurationVar(&o.timeout, "timeout", DefaultHealthTimeout, "give up after this long")
	return cmd
}

// healthURL is --url when given (a URL without a path gets /healthz), else
// derived from the config's http.listen.
func (a *app) healthURL(flag string) (string, error) {
	if flag != "" {
		u, err := url.Parse(flag)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("--url %q: want an http:// or https:// URL", shownURL(flag))
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = healthPath
		}
		return u.String(), nil
	}
	cfg, err := a.loadConfig()
	if err != nil {
		var ee *ExitError
		if errors.As(err, &ee) && ee.Err != nil {
			err = ee.Err
		}
		// A config error can span lines; healthcheck reports one.
		first, _, _ := strings.Cut(err.Error(), "\n")
		return "", fmt.Errorf("%s (or pass --url)", first)
	}
	if cfg.HTTP.Listen == "" {
		return "", errors.New("http.listen is empty in the config, so the daemon serves no /healthz; set it or pass --url")
	}
	return listenURL(cfg.HTTP.Listen)
}

// listenURL turns a listen address into the URL a local client asks. A
// wildcard host is asked on IPv4 loopback: a [::] listener accepts IPv4 too
// on Linux, and loopback never leaves the host (or the container).
func listenURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("http.listen %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: healthPath}).String(), nil
}

// shownURL is target as output may show it: without its password.
func shownURL(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target // healthURL parsed it already
	}
	return u.Redacted()
}

// probeHealth GETs target (its user:password@, if any, as basic auth) and
// returns its status line when it is 200.
func probeHealth(ctx context.Context, target string, timeout time.Duration) (string, error) {
	if timeout <= 0 {
		timeout = DefaultHealthTimeout
	}
	shown := shownURL(target)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", shown, err)
	}
	req.Header.Set("User-Agent", "mcpdrift-healthcheck")
	client := &http.Client{
		// Never through $HTTP_PROXY: Go skips it for loopback only, and a
		// --url naming a pod or host address must reach the daemon itself,
		// not a proxy whose answer would hide a dead one.
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		// A redirect is not the daemon's answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("GET %s: no answer within %s", shown, timeout)
		}
		return "", fmt.Errorf("GET %s: %w", shown, unwrapURLError(err))
	}
	defer resp.Body.Close()
	// The first line of the body says why, when the daemon says anything.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		reason := resp.Status
		if line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n"); line != "" {
			reason += ": " + escape.Truncate(escape.Line(line), 200)
		}
		return "", fmt.Errorf("GET %s: %s", shown, reason)
	}
	return resp.Status, nil
}

// unwrapURLError drops *url.Error's own "Get \"URL\":" prefix, which would
// repeat the URL the message already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

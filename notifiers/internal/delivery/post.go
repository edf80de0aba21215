package delivery

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/version"
)

// Post sends a JSON body to url and classifies the outcome with Status and
// Transport. header is added to the request (credentials among them);
// Content-Type and User-Agent are set here. what names the destination in
// errors, which are scrubbed of every secret listed. The request goes
// through Client(base): no redirects.
func Post(ctx context.Context, base *http.Client, url string, header http.Header, body []byte,
	what string, secrets []string, now time.Time) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, Scrub(fmt.Errorf("%s: bad url: %w", what, NoURL(err)), secrets)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mcpdrift/"+version.Get().Version)

	client, rec := Client(base)
	resp, err := client.Do(req)
	if err != nil {
		return Transport(err), Scrub(fmt.Errorf("%s: %w", what, NoURL(err)), secrets)
	}
	// Read what the answer says (the Recorder keeps its start for the
	// error) so the connection is reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	retry, err = Status(what, rec.Last(), now)
	return retry, Scrub(err, secrets)
}

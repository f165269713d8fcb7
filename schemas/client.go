package schemas

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ContentType is the media type of Confluent schema registry requests and
// responses.
const ContentType = "application/vnd.schemaregistry.v1+json"

// DefaultTimeout bounds each registry request of a Client made with a nil
// *http.Client.
const DefaultTimeout = 10 * time.Second

// maxResponse bounds how much of a registry response the client reads.
const maxResponse = 16 << 20

// Client talks to a Confluent-compatible schema registry over REST. Schemas
// are immutable once registered, so it caches them by id for the life of the
// process, and concurrent lookups of one id share a single request. A Client
// is safe for concurrent use.
type Client struct {
	base       string
	user, pass string
	hc         *http.Client

	byID   sync.Map // int32 → string
	flight flight
}

// NewClient returns a client for the registry at baseURL (for example
// http://localhost:8081). User information in the URL is sent as HTTP basic
// auth. A nil hc means an http.Client with DefaultTimeout.
func NewClient(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), hc: hc}
	if u, err := url.Parse(c.base); err == nil && u.User != nil {
		c.user = u.User.Username()
		c.pass, _ = u.User.Password()
		u.User = nil
		c.base = u.String()
	}
	return c
}

// do sends one request and decodes a 2xx JSON answer into out. Transport
// failures wrap ErrRegistryUnavailable; non-2xx answers are *APIError.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("schema registry request: %w", err)
	}
	req.Header.Set("Accept", ContentType+", application/json")
	if in != nil {
		req.Header.Set("Content-Type", ContentType)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrRegistryUnavailable, method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%w: reading %s %s: %w", ErrRegistryUnavailable, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		apiErr := &APIError{StatusCode: resp.StatusCode}
		if json.Unmarshal(raw, apiErr) != nil || apiErr.Message == "" {
			apiErr.Message = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
		}
		apiErr.StatusCode = resp.StatusCode
		return fmt.Errorf("%s %s: %w", method, path, apiErr)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		// A 2xx answer we cannot read is a registry (or proxy) fault, not
		// a fault of the record that asked.
		return fmt.Errorf("%w: %s %s: bad response: %w", ErrRegistryUnavailable, method, path, err)
	}
	return nil
}

func subjectPath(subject string) string {
	return "/subjects/" + url.PathEscape(subject)
}

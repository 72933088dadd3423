// Package kitrender asks the render function to turn kits' Markdown into safe HTML.
//
// The Markdown libraries (goldmark, bluemonday and its CSS tables) build tables and
// regular expressions when a process starts: about 5 ms, which had doubled the web
// function's cold start. So they live in a function of their own (functions/render),
// and the web function calls it when a revision is saved, through Lambda's Invoke API.
// The call is signed with the SDK's SigV4 signer rather than made with the SDK's
// Lambda client, whose own initialisation costs another 1.4 ms at every cold start
// of the web function. Nothing here imports the Markdown libraries.
package kitrender

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Request is what the render function is given: Markdown texts, in order.
type Request struct {
	Markdown []string `json:"markdown"`
}

// Response is what it answers: for each text, in order, a safe HTML fragment and the
// accessibility errors found in it.
type Response struct {
	HTML     []string   `json:"html"`
	Problems [][]string `json:"problems"`
}

// MaxPayload is the most one call sends: Lambda refuses a synchronous request over
// 6 MB, and JSON can double a text's size.
const MaxPayload = 5 << 20

// Client calls the render function.
type Client struct {
	Function string     // the function's name or ARN
	Config   aws.Config // its region and credentials sign the call
	Endpoint string     // Lambda's address; "" is the region's (https://lambda.<region>.amazonaws.com)
	HTTP     *http.Client
}

// New returns a Client of the function named, in cfg's region.
func New(cfg aws.Config, function string) *Client {
	return &Client{Function: function, Config: cfg, HTTP: &http.Client{Timeout: 20 * time.Second}}
}

// tries is how many times a call is made when Lambda throttles it or fails.
const tries = 3

// RenderMarkdown returns each text as safe HTML. Texts are sent in as many calls as
// keep each under MaxPayload.
func (c *Client) RenderMarkdown(ctx context.Context, texts []string) ([]pg.RenderedText, error) {
	var out []pg.RenderedText
	for start := 0; start < len(texts); {
		end, size := start, 0
		for end < len(texts) && (end == start || size+len(texts[end])*2 < MaxPayload) {
			size += len(texts[end]) * 2
			end++
		}
		html, err := c.call(ctx, texts[start:end])
		if err != nil {
			return nil, err
		}
		out = append(out, html...)
		start = end
	}
	return out, nil
}

// call makes one Invoke, again after a short pause when Lambda throttles or fails.
func (c *Client) call(ctx context.Context, texts []string) ([]pg.RenderedText, error) {
	body, err := json.Marshal(Request{Markdown: texts})
	if err != nil {
		return nil, fmt.Errorf("encode render request: %w", err)
	}
	for attempt := 1; ; attempt++ {
		res, retry, err := c.invoke(ctx, body)
		if err == nil && (len(res.HTML) != len(texts) || len(res.Problems) != len(texts)) {
			err = fmt.Errorf("render function answered %d texts for %d", len(res.HTML), len(texts))
		}
		if err == nil {
			out := make([]pg.RenderedText, len(texts))
			for i := range out {
				out[i] = pg.RenderedText{HTML: res.HTML[i], Problems: res.Problems[i]}
			}
			return out, nil
		}
		if !retry || attempt == tries {
			return nil, err
		}
		pause := time.Duration(50+rand.N(50)) * time.Millisecond << attempt
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// invoke sends one signed Invoke request; retry says whether another may succeed.
func (c *Client) invoke(ctx context.Context, body []byte) (res Response, retry bool, err error) {
	endpoint := c.Endpoint
	if endpoint == "" {
		endpoint = "https://lambda." + c.Config.Region + ".amazonaws.com"
	}
	u := endpoint + "/2015-03-31/functions/" + url.PathEscape(c.Function) + "/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return res, false, fmt.Errorf("render request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	if c.Config.Credentials == nil {
		return res, false, errors.New("render request: no credentials")
	}
	creds, err := c.Config.Credentials.Retrieve(ctx)
	if err != nil {
		return res, true, fmt.Errorf("render request: credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lambda", c.Config.Region, time.Now()); err != nil {
		return res, false, fmt.Errorf("sign render request: %w", err)
	}
	hr, err := c.HTTP.Do(req)
	if err != nil {
		return res, ctx.Err() == nil, fmt.Errorf("render function: %w", err)
	}
	defer hr.Body.Close()
	payload, err := io.ReadAll(io.LimitReader(hr.Body, 2*MaxPayload))
	if err != nil {
		return res, true, fmt.Errorf("render function: read answer: %w", err)
	}
	switch {
	case hr.StatusCode == http.StatusTooManyRequests || hr.StatusCode >= 500:
		return res, true, fmt.Errorf("render function: %s: %.200s", hr.Status, payload)
	case hr.StatusCode != http.StatusOK:
		return res, false, fmt.Errorf("render function: %s: %.200s", hr.Status, payload)
	case hr.Header.Get("X-Amz-Function-Error") != "":
		// The function ran and failed (for example it ran out of time or memory).
		return res, true, fmt.Errorf("render function failed (%s): %.200s", hr.Header.Get("X-Amz-Function-Error"), payload)
	}
	if err := json.Unmarshal(payload, &res); err != nil {
		return res, false, fmt.Errorf("render function: decode answer: %w", err)
	}
	return res, false, nil
}

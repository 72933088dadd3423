package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Email is a message as the SES stand-in recorded it.
type Email struct {
	MessageID   string   `json:"messageId"`
	From        string   `json:"from"`
	ReplyTo     []string `json:"replyTo"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		Text string `json:"text"`
		HTML string `json:"html"`
	} `json:"body"`
	Headers []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
	At int64 `json:"at"` // when the stand-in received it, in Unix seconds
}

// Header returns the value of a header, or "".
func (e Email) Header(name string) string {
	for _, h := range e.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// SentTo reports whether the email was addressed to addr.
func (e Email) SentTo(addr string) bool {
	for _, to := range e.Destination.To {
		if strings.EqualFold(to, addr) {
			return true
		}
	}
	return false
}

// SentMail returns every email the SES stand-in holds, oldest first. store is its
// JSON store (http://127.0.0.1:8005/store).
func SentMail(ctx context.Context, store string) ([]Email, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, store, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("read sent mail: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read sent mail: status %d", resp.StatusCode)
	}
	var body struct {
		Emails []Email `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("read sent mail: %w", err)
	}
	return body.Emails, nil
}

// Command feedback injects an SES event into make dev's feedback handler, as SES would
// publish it: about an email sent since make dev started, by its SES message ID (the
// sent mail page shows it), or a whole event from a file.
//
//	go run ./internal/cmd/feedback -id <SES message ID> -type Bounce
//	go run ./internal/cmd/feedback -file events/feedback-bounce-eventbridge.json
//
// Types: Send, Delivery, DeliveryDelay, Bounce (permanent), Bounce/<subtype> (permanent,
// e.g. Bounce/OnAccountSuppressionList), TransientBounce, Complaint, Reject.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8007", "make dev's feedback endpoint")
	id := flag.String("id", "", "the SES message ID of the email the event is about")
	typ := flag.String("type", "Delivery", "the event type")
	file := flag.String("file", "", "a file holding a whole SES event (EventBridge, SNS or bare record), instead of -id")
	flag.Parse()
	if err := run(*addr, *id, *typ, *file); err != nil {
		fmt.Fprintln(os.Stderr, "make feedback:", err)
		os.Exit(1)
	}
}

func run(addr, id, typ, file string) error {
	target := "http://" + addr + "/feedback"
	var body []byte
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		body = b
	case id != "":
		target += "?" + url.Values{"id": {id}, "type": {typ}}.Encode()
	default:
		return fmt.Errorf("give ID=<SES message ID> (and TYPE=…), or FILE=<an event>")
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Post(target, "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("is make dev running? %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", bytes.TrimSpace(answer))
	}
	fmt.Print(string(answer))
	return nil
}

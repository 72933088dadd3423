// Command sendmail sends a file as an email to the local SMTP listener that `make dev`
// runs, as a sender's mail server would send it to SES receiving:
//
//	make mail FILE=events/mail/join-request.eml
//	go run ./internal/cmd/sendmail -to admin@peergroups.example.org events/mail/join-request.eml
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/mail"
	"net/smtp"
	"os"
)

func main() {
	addr := flag.String("smtp", "127.0.0.1:2525", "the local SMTP listener")
	to := flag.String("to", "admin@peergroups.example.org", "the envelope recipient")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: sendmail [-smtp host:port] [-to address] FILE")
		os.Exit(2)
	}
	raw, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "sendmail:", err)
		os.Exit(1)
	}
	from := "someone@example.org"
	if m, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		if a, err := mail.ParseAddress(m.Header.Get("From")); err == nil {
			from = a.Address
		}
	}
	if err := smtp.SendMail(*addr, nil, from, []string{*to}, raw); err != nil {
		fmt.Fprintln(os.Stderr, "sendmail:", err)
		os.Exit(1)
	}
	fmt.Printf("sent %s from %s to %s through %s\n", flag.Arg(0), from, *to, *addr)
}

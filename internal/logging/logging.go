// Package logging makes the functions' logger: Lambda's structured logs (JSON in AWS,
// with the request ID and the function's ARN on every line), in which every email
// address, in a message, an attribute or an error's text, is replaced by a keyed
// pseudonym. The same person has the same pseudonym in every line, so that an operator
// can follow them through the logs without the logs holding their address.
package logging

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Lambda returns the functions' logger: lambdacontext's handler (AWS_LAMBDA_LOG_FORMAT
// and AWS_LAMBDA_LOG_LEVEL, the request ID from each call's context), with the
// function's ARN, behind Redact.
func Lambda(pseudonym func(...string) string) *slog.Logger {
	return slog.New(Redact(lambdacontext.NewLogHandler(lambdacontext.WithFunctionARN()), pseudonym))
}

// Redact returns a handler that passes every record on to h with each email address
// replaced by "person:" and the first 12 characters of its pseudonym (of the address
// in lower case).
func Redact(h slog.Handler, pseudonym func(...string) string) slog.Handler {
	return &redacting{h: h, pseudonym: pseudonym}
}

// PersonPrefix starts what stands for an email address in a log line.
const PersonPrefix = "person:"

type redacting struct {
	h         slog.Handler
	pseudonym func(...string) string
}

func (r *redacting) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

func (r *redacting) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, r.text(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(r.attr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r *redacting) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = r.attr(a)
	}
	return &redacting{h: r.h.WithAttrs(clean), pseudonym: r.pseudonym}
}

func (r *redacting) WithGroup(name string) slog.Handler {
	return &redacting{h: r.h.WithGroup(name), pseudonym: r.pseudonym}
}

func (r *redacting) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.text(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = r.attr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		var text string
		switch x := v.Any().(type) {
		case error:
			text = x.Error()
		default:
			text = fmt.Sprint(x)
		}
		if strings.Contains(text, "@") {
			return slog.String(a.Key, r.text(text))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (r *redacting) text(s string) string {
	return pg.ReplaceAddresses(s, func(addr string) string {
		p := r.pseudonym("log", strings.ToLower(addr))
		return PersonPrefix + p[:min(12, len(p))]
	})
}

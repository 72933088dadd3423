// Package peergroups holds the domain of the service: people, groups, memberships and
// the rules for joining and leaving. Each capability is one service with a small store
// interface of its own: Memberships, Access, Network, Register, Proposals (with
// Invitations), Rounds (with RSVPs). It imports no AWS package and no net/http, and
// parses no forms; the adapters (dynamo, ses, web) translate between this package and
// the outside.
package peergroups

import (
	"errors"
	"fmt"
)

// Kind is the small set of error kinds the web layer maps to status codes and words.
type Kind int

const (
	KindInternal    Kind = iota // a fault of ours: logged, never shown in detail
	KindInvalid                 // the input is wrong: say what to fix
	KindNotFound                // the thing does not exist
	KindConflict                // the state changed under us (a link used twice, say)
	KindForbidden               // the caller may not do this
	KindUnavailable             // a dependency failed: try again later
	KindTooMany                 // a rate limit was reached
	KindGone                    // a link that has expired or been used
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not found"
	case KindConflict:
		return "conflict"
	case KindForbidden:
		return "forbidden"
	case KindUnavailable:
		return "unavailable"
	case KindTooMany:
		return "too many requests"
	case KindGone:
		return "gone"
	default:
		return "internal"
	}
}

// Error is the one error type of the domain. Message is safe to show to a person;
// Err carries the cause for the logs.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Message != "":
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Err)
	case e.Err != nil:
		return fmt.Sprintf("%s: %v", e.Kind, e.Err)
	default:
		return fmt.Sprintf("%s: %s", e.Kind, e.Message)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is match sentinel errors by identity only.
func (e *Error) Is(target error) bool { return e == target }

// Errorf returns an error of the given kind with a message for people.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns err as an error of the given kind, with a message for people.
func Wrap(kind Kind, err error, message string) error {
	return &Error{Kind: kind, Message: message, Err: err}
}

// KindOf returns the kind of the first *Error in err's chain, or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// MessageOf returns the people-facing message of err, or "" when there is none.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

// ErrContended is returned by a store when a write was cancelled because other writes
// to the same items were in flight (DynamoDB's TransactionConflict): trying it again a
// little later is right, and nothing was written.
var ErrContended = &Error{Kind: KindUnavailable, Message: "The service is busy just now. Try again in a moment."}

// The ways a link in an email can fail. The web layer shows a page for each.
var (
	ErrLinkInvalid  = &Error{Kind: KindNotFound, Message: "This link is not valid. Check that you copied the whole link from the email."}
	ErrLinkExpired  = &Error{Kind: KindGone, Message: "This link has expired."}
	ErrLinkUsed     = &Error{Kind: KindGone, Message: "This link has already been used."}
	ErrLinkReplaced = &Error{Kind: KindGone, Message: "This link has been replaced by a newer one. Use the link in the most recent email we sent you."}
)

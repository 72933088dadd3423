package peergroups

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peergroups/peergroups/internal/links"
)

// OutboxItem is work that follows a change: an email to send, or the invitations of an
// approved proposal to write. It is stored in the same transaction as the change (or
// alone, when the change is only a request for a link), and the outbox function,
// triggered by the table's stream, does it once. So no web request waits on the mail
// service, a crash after the commit loses nothing, and whether an address is known
// changes nothing a caller can time.
type OutboxItem struct {
	ID string
	At time.Time // when it was made
	// Message is the email to send, or nil.
	Message *Message
	// Invite is the ID of an approved proposal whose interested people are to be
	// invited to its group, or "".
	Invite string
}

// Outbox stores outbox items on their own (when no other change goes with them).
type Outbox interface {
	Enqueue(ctx context.Context, items ...OutboxItem) error
}

// ErrRejected is returned by a mailer when the mail service refused a message for
// good (a malformed address, a rejected message): sending it again would not help.
var ErrRejected = errors.New("the mail service rejected the message")

// OutboxTTL is how long an outbox item is kept, sent or not. It outlives the stream's
// 24-hour retention, so that a record delivered again always finds its item.
const OutboxTTL = 7 * 24 * time.Hour

// newOutboxID returns a random ID for an outbox item.
func newOutboxID() string { return newID() + newID() }

// mail renders a template into an outbox item addressed to one person.
func (s *Service) mail(to, subject, template string, data emailData, headers ...Header) (OutboxItem, error) {
	msg, err := render(to, subject, template, data)
	if err != nil {
		return OutboxItem{}, err
	}
	msg.Headers = headers
	return OutboxItem{ID: newOutboxID(), At: s.Now(), Message: &msg}, nil
}

// RunInvitations does an outbox item's Invite: it puts an invitation to join the group
// of an approved proposal in the outbox for everyone interested who has not been
// invited yet, and returns how many it queued. The outbox function runs it.
func (s *Service) RunInvitations(ctx context.Context, id string) (int, error) {
	p, err := s.Proposal(ctx, id)
	if err != nil {
		return 0, err
	}
	if p.Status != ProposalApproved {
		return 0, nil // nothing to invite anyone to
	}
	g, err := s.Group(ctx, p.GroupID)
	if err != nil {
		return 0, err
	}
	people, err := s.Store.InterestedIn(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("list interested: %w", err)
	}
	queued := 0
	for _, in := range people {
		if in.Email == p.ProposerEmail || !in.InvitedAt.IsZero() {
			continue
		}
		token, err := s.Links.Seal(links.Claims{Purpose: links.Invite, Email: in.Email, Subject: g.ID, Name: in.Name}, InvitationTTL)
		if err != nil {
			return queued, err
		}
		data, err := s.emailData(in.Email, in.Name, []Group{g})
		if err != nil {
			return queued, err
		}
		data.Link = s.link("/join/invitation", token)
		data.Days = int(InvitationTTL / (24 * time.Hour))
		data.Proposal = &p
		item, err := s.mail(in.Email, "A new peer group has started: "+g.Name, "invitation", data)
		if err != nil {
			return queued, err
		}
		// Marking the person invited and queueing their email are one transaction: each
		// person is invited once, however often this runs.
		first, err := s.Store.MarkInvited(ctx, id, in.Email, s.Now(), item)
		if err != nil {
			return queued, fmt.Errorf("mark invited: %w", err)
		}
		if first {
			queued++
		}
	}
	return queued, nil
}

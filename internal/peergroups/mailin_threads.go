// Mail in: replies to the emails of a round (an announcement, a brief). SES gives
// everything it sends a Message-ID of its own, <SES message ID@REGION.amazonses.com>,
// and the round's ledger keeps each recipient's SES message ID: so a reply's
// In-Reply-To (or References) names the email it answers, and with it the group whose
// facilitators answer it. Only the person the email went to can be answered this way:
// anyone can write an In-Reply-To.

package peergroups

import (
	"context"
	"slices"
	"strings"
)

// MailReply is a reply to an email of ours that went to a group's people: its
// facilitators answer it.
const MailReply MailClass = "reply"

// SentMail is an email of a round we sent: which, for which group, to whom.
type SentMail struct {
	Round int
	Kind  LedgerKind
	Group string
	Email string
	// Conversation is set instead for a transactional email of a conversation (an
	// acknowledgement, a reply from the console): the sender of that conversation is
	// the only party to it.
	Conversation string
}

// SentMailFinder finds an email we sent by the message ID SES gave it.
type SentMailFinder interface {
	// SentMail returns the email SES sent as sesID; a KindNotFound error when there is none.
	SentMail(ctx context.Context, sesID string) (SentMail, error)
}

// maxThreadLookups is how many of a message's In-Reply-To and References are looked
// up: the newest few, which a reply to our email names.
const maxThreadLookups = 3

// SESMessageID returns the SES message ID of a Message-ID that SES gave
// ("0102019a…-000000@eu-west-2.amazonses.com", without angle brackets), and whether
// it is one.
func SESMessageID(messageID string) (string, bool) {
	id, domain, ok := strings.Cut(messageID, "@")
	domain = strings.ToLower(domain)
	if !ok || id == "" || len(id) > 100 || (domain != "amazonses.com" && !strings.HasSuffix(domain, ".amazonses.com")) {
		return "", false
	}
	if strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		return "", false
	}
	return id, true
}

// answered returns what m answers, when m's sender is a party to it: its In-Reply-To
// first, then its References, newest first. A transactional email of a conversation
// (an acknowledgement, a reply from the console) gives that conversation, when m comes
// from its sender (conv); a round's email gives itself, when m comes from the person it
// went to (sent). found is false when m answers nothing of ours that it may.
func (s *MailIn) answered(ctx context.Context, m InboundMessage) (sent SentMail, conv *Conversation, found bool, err error) {
	if s.Sent == nil || m.From == "" {
		return SentMail{}, nil, false, nil
	}
	ids := slices.Clone(m.References)
	slices.Reverse(ids)
	ids = slices.Compact(slices.Insert(ids, 0, m.InReplyTo))
	looked := 0
	for _, id := range ids {
		sesID, ok := SESMessageID(id)
		if !ok {
			continue
		}
		if looked++; looked > maxThreadLookups {
			break
		}
		sent, err := s.Sent.SentMail(ctx, sesID)
		switch {
		case KindOf(err) == KindNotFound:
			continue
		case err != nil:
			return SentMail{}, nil, false, err
		case sent.Conversation != "":
			c, err := s.Store.Conversation(ctx, sent.Conversation)
			switch {
			case KindOf(err) == KindNotFound:
				continue // gone (past its retention)
			case err != nil:
				return SentMail{}, nil, false, err
			case c.From == "" || !strings.EqualFold(c.From, m.From):
				continue // someone else's conversation: the thread is not theirs
			}
			return sent, &c, true, nil
		case sent.Group == "" || !strings.EqualFold(sent.Email, m.From):
			continue // someone else's email: the thread is not theirs
		}
		return sent, nil, true, nil
	}
	return SentMail{}, nil, false, nil
}

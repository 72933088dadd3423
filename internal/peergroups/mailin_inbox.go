// Mail in: the inbox in the console. Admins see every conversation, a group's
// facilitators their groups'; each can reply (from the service, threaded), reclassify,
// assign to a group or to the admins, and close. Every change is made over the version
// read, so that a second person's stale form changes nothing, and is audited.

package peergroups

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// InboxMessage is one message of a conversation as the console shows it: one received,
// or one of our replies (By is then who wrote it).
type InboxMessage struct {
	InboundMessage
	By string // the email address of the admin or facilitator who replied; "" for mail received
}

// InboxStore keeps the conversations the console lists and changes.
type InboxStore interface {
	// Inbox lists the conversations of a status, latest first, at most limit of them:
	// every one when groups is nil, otherwise those assigned to one of groups.
	Inbox(ctx context.Context, status string, groups []string, limit int) ([]Conversation, error)
	// CountInbox counts the conversations of a status (of groups, when not nil).
	CountInbox(ctx context.Context, status string, groups []string) (int, error)
	// Conversation returns a conversation; a KindNotFound error when there is none.
	Conversation(ctx context.Context, ref string) (Conversation, error)
	// ConversationMessages returns a conversation's messages, oldest first.
	ConversationMessages(ctx context.Context, ref string) ([]InboxMessage, error)
	// SaveConversation writes c over version c.Version-1, with m (one of our replies)
	// when not nil, the emails out and the audit entry, in one transaction:
	// ErrConversationChanged when c changed meanwhile.
	SaveConversation(ctx context.Context, c Conversation, m *InboxMessage, out []OutboxItem, a AuditEntry) error
}

// ErrConversationChanged is what a change made over a stale version gets.
var ErrConversationChanged = &Error{Kind: KindConflict, Message: "Someone else changed this conversation after you opened it. Nothing was changed by your form: read the conversation as it is now, then try again."}

// InboxListLimit is the most conversations of one status the inbox lists.
const InboxListLimit = 100

// MaxReplyLength is the longest reply, in characters.
const MaxReplyLength = 10000

// MailInbox serves the console's inbox.
type MailInbox struct {
	Env
	Store   InboxStore
	Network GroupReader
	Files   AttachmentLinker // nil: attachments are listed, not downloaded
}

// Inbox is what a caller sees of the inbox.
type Inbox struct {
	New, Waiting, Done []Conversation
	Spam               []Conversation // shown apart
	Ignored            []Conversation // automatic or forged mail, kept, not answered
	Quarantined        int            // viruses: counted, never shown
}

// MailClasses are the classes a conversation can be given, in the order offered.
var MailClasses = []MailClass{MailQuestion, MailJoin, MailLeave, MailRegister, MailFacilitate, MailPropose, MailDataRequest, MailReply}

// MailClassWords says what a class asks for, in words.
func MailClassWords(c MailClass) string { return mailClassWords[c] }

// scope returns the groups whose conversations c sees: nil for all (an admin).
func scope(c Caller) ([]string, error) {
	switch {
	case c.Admin:
		return nil, nil
	case c.IsFacilitator():
		return c.Facilitates, nil
	}
	return nil, Errorf(KindForbidden, "Only admins and facilitators have an inbox.")
}

// Inbox lists the conversations c may see, by status.
func (s *MailInbox) Inbox(ctx context.Context, c Caller) (Inbox, error) {
	groups, err := scope(c)
	if err != nil {
		return Inbox{}, err
	}
	var in Inbox
	lists := map[string]*[]Conversation{ConversationNew: &in.New, ConversationWaiting: &in.Waiting, ConversationDone: &in.Done}
	if c.Admin {
		// Spam and mail not answered are the admins' to look through.
		lists[ConversationSpam], lists[ConversationIgnored] = &in.Spam, &in.Ignored
	}
	for status, list := range lists {
		if *list, err = s.Store.Inbox(ctx, status, groups, InboxListLimit); err != nil {
			return Inbox{}, fmt.Errorf("list the %s conversations: %w", status, err)
		}
	}
	if in.Quarantined, err = s.Store.CountInbox(ctx, ConversationQuarantined, groups); err != nil {
		return Inbox{}, fmt.Errorf("count the quarantined conversations: %w", err)
	}
	return in, nil
}

// Conversation returns a conversation c may see, with its messages. Quarantined ones
// are never shown; spam and mail not answered only to admins.
func (s *MailInbox) Conversation(ctx context.Context, c Caller, ref string) (Conversation, []InboxMessage, error) {
	conv, err := s.visible(ctx, c, ref)
	if err != nil {
		return Conversation{}, nil, err
	}
	msgs, err := s.Store.ConversationMessages(ctx, ref)
	if err != nil {
		return Conversation{}, nil, fmt.Errorf("read the messages of %s: %w", ref, err)
	}
	return conv, msgs, nil
}

// visible reads a conversation that c may see: not found otherwise, so that a
// reference cannot be probed.
func (s *MailInbox) visible(ctx context.Context, c Caller, ref string) (Conversation, error) {
	notFound := Errorf(KindNotFound, "There is no conversation %s in your inbox.", ref)
	if !ValidMailReference(ref) {
		return Conversation{}, notFound
	}
	if _, err := scope(c); err != nil {
		return Conversation{}, err
	}
	conv, err := s.Store.Conversation(ctx, ref)
	switch {
	case KindOf(err) == KindNotFound:
		return Conversation{}, notFound
	case err != nil:
		return Conversation{}, fmt.Errorf("read conversation %s: %w", ref, err)
	case conv.Status == ConversationQuarantined,
		!c.Admin && (!slices.Contains(c.Facilitates, conv.Group) || conv.Status == ConversationSpam || conv.Status == ConversationIgnored):
		return Conversation{}, notFound
	}
	return conv, nil
}

// change reads a conversation c may see, checks that it is still at version, applies
// f, and saves it with what f returns.
func (s *MailInbox) change(ctx context.Context, c Caller, ref string, version int, action string, f func(*Conversation) (*InboxMessage, []OutboxItem, error)) (Conversation, error) {
	conv, err := s.visible(ctx, c, ref)
	if err != nil {
		return Conversation{}, err
	}
	if conv.Version != version {
		return Conversation{}, ErrConversationChanged
	}
	before := conv
	m, out, err := f(&conv)
	if err != nil {
		return Conversation{}, err
	}
	conv.Version++
	conv.Updated = s.Now()
	a := s.audit(c, action, ref, inboxAudit(before), inboxAudit(conv))
	if err := s.Store.SaveConversation(ctx, conv, m, out, a); err != nil {
		if errors.Is(err, ErrConversationChanged) {
			return Conversation{}, ErrConversationChanged
		}
		return Conversation{}, fmt.Errorf("%s %s: %w", action, ref, err)
	}
	return conv, nil
}

// inboxAudit is what the audit trail keeps of a conversation: never the mail.
func inboxAudit(c Conversation) map[string]any {
	return map[string]any{"status": c.Status, "class": c.Class, "group": c.Group, "version": c.Version}
}

// Reply sends text to the conversation's sender from the service, threaded to the last
// message, records it in the conversation, and leaves it waiting for the sender.
func (s *MailInbox) Reply(ctx context.Context, c Caller, ref string, version int, text string) (Conversation, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	switch {
	case text == "":
		return Conversation{}, Errorf(KindInvalid, "Enter your reply")
	case utf8.RuneCountInString(text) > MaxReplyLength:
		return Conversation{}, Errorf(KindInvalid, "Your reply must be %d characters or fewer", MaxReplyLength)
	case !utf8.ValidString(text) || strings.ContainsRune(text, 0):
		return Conversation{}, Errorf(KindInvalid, "Your reply contains characters that cannot be sent")
	}
	return s.change(ctx, c, ref, version, "reply to mail", func(conv *Conversation) (*InboxMessage, []OutboxItem, error) {
		if conv.From == "" || conv.Status == ConversationSpam || conv.Status == ConversationIgnored {
			return nil, nil, Errorf(KindInvalid, "This conversation cannot be answered: %s.", cmp.Or(conv.Why, "it has no single sender"))
		}
		msgs, err := s.Store.ConversationMessages(ctx, conv.Ref)
		if err != nil {
			return nil, nil, fmt.Errorf("read the messages of %s: %w", conv.Ref, err)
		}
		to, refs := conv.From, []string{}
		for _, m := range msgs {
			if m.By == "" && m.ReturnPath != "" && !m.NullSender && m.From == conv.From {
				to = m.ReturnPath
			}
			if m.MessageID != "" && m.By == "" {
				refs = append(refs, m.MessageID)
			}
		}
		data, err := s.emailData(conv.From, conv.FromName, nil)
		if err != nil {
			return nil, nil, err
		}
		data.Mail = &mailAckData{Ref: conv.Ref, Class: conv.Class, Group: conv.Group, Text: text}
		subject := ReplySubject(conv.Subject, conv.Ref)
		msg, err := render(to, subject, "mail-reply", data)
		if err != nil {
			return nil, nil, err
		}
		// A person wrote it, so no Auto-Submitted; but it is marked as ours, and asks
		// Exchange not to answer it automatically.
		msg.Headers = append(msg.Headers, Header{"X-Auto-Response-Suppress", "OOF, AutoReply"}, Header{MailLoopHeader, "1"})
		if conv.LastMsgID != "" {
			if !slices.Contains(refs, conv.LastMsgID) {
				refs = append(refs, conv.LastMsgID)
			}
			if len(refs) > 10 {
				refs = refs[len(refs)-10:]
			}
			msg.Headers = append(msg.Headers, Header{"In-Reply-To", "<" + conv.LastMsgID + ">"}, Header{"References", "<" + strings.Join(refs, "> <") + ">"})
		}
		// The sender wrote to us, and a person answers: the reply goes even to an
		// address on our suppression list (one that complained, or was erased and has
		// written again), as a sign-in link does. SES's own list still applies.
		msg.Requested = true
		item := OutboxItem{ID: newOutboxID(), At: s.Now(), Message: &msg, Conversation: conv.Ref}
		conv.Status = ConversationWaiting
		conv.Messages++
		reply := &InboxMessage{By: c.Email, InboundMessage: InboundMessage{
			ID: "reply-" + item.ID, Received: s.Now(), Recipients: []string{to}, From: c.Email, FromName: c.Name,
			Subject: subject, InReplyTo: conv.LastMsgID, Text: text,
		}}
		return reply, []OutboxItem{item}, nil
	})
}

// Reclassify gives a conversation another class; a data-protection request gets its
// deadline, a month from when the conversation started.
func (s *MailInbox) Reclassify(ctx context.Context, c Caller, ref string, version int, class MailClass) (Conversation, error) {
	if !slices.Contains(MailClasses, class) {
		return Conversation{}, Errorf(KindInvalid, "Select what the message asks for")
	}
	return s.change(ctx, c, ref, version, "reclassify mail", func(conv *Conversation) (*InboxMessage, []OutboxItem, error) {
		conv.Class = class
		if class == MailDataRequest && conv.Deadline.IsZero() {
			conv.Deadline = conv.Started.AddDate(0, 1, 0)
		}
		if class != MailDataRequest {
			conv.Deadline = time.Time{}
		}
		return nil, nil, nil
	})
}

// Assign gives a conversation to a group's facilitators, or to the admins when group
// is "".
func (s *MailInbox) Assign(ctx context.Context, c Caller, ref string, version int, group string) (Conversation, error) {
	if group != "" {
		if _, err := s.Network.Group(ctx, group); err != nil {
			if KindOf(err) == KindNotFound {
				return Conversation{}, Errorf(KindInvalid, "Select a group that exists, or the admins")
			}
			return Conversation{}, err
		}
	}
	return s.change(ctx, c, ref, version, "assign mail", func(conv *Conversation) (*InboxMessage, []OutboxItem, error) {
		conv.Group = group
		return nil, nil, nil
	})
}

// Close marks a conversation done. It opens again when its sender writes again.
func (s *MailInbox) Close(ctx context.Context, c Caller, ref string, version int) (Conversation, error) {
	return s.change(ctx, c, ref, version, "close mail", func(conv *Conversation) (*InboxMessage, []OutboxItem, error) {
		if conv.Status == ConversationDone {
			return nil, nil, Errorf(KindInvalid, "This conversation is closed already")
		}
		conv.Status = ConversationDone
		return nil, nil, nil
	})
}

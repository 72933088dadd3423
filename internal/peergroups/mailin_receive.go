// Mail in: receiving one message. It is stored once however often it is delivered,
// put in a conversation, acknowledged at most once a day to a person (never to a
// machine), and the people who answer it are told, at most once an hour.

package peergroups

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// InboundMessage is one email received, as kept: what was read of it, never its raw
// bytes, which stay in the receiving bucket at RawKey.
type InboundMessage struct {
	ID          string // SES's message ID: the same message delivered twice is one
	RawKey      string
	Received    time.Time
	Recipients  []string // the envelope's, lower case: mail is routed on these
	From        string   // "" when it has not exactly one author
	FromName    string
	ReturnPath  string
	NullSender  bool
	Subject     string // one safe line
	MessageID   string
	InReplyTo   string
	References  []string
	Text        string // what the sender wrote (quotes and signature cut off)
	Attachments []InboundAttachment
	Automatic   string // why it is automatic mail; "" when a person wrote it
	Report      string // "delivery-status" or "feedback-report"
	Verdicts    MailVerdicts
}

// InboundAttachment is a file attached to an inbound message.
type InboundAttachment struct {
	Name, Type string
	Size       int
	Key        string // where it is stored apart (see mailin_attachments.go); "" when it is not
}

// MailVerdicts are SES's checks of a message: PASS, FAIL, GRAY, PROCESSING_FAILED or "".
type MailVerdicts struct {
	Spam, Virus, SPF, DKIM, DMARC string
	DMARCPolicy                   string // when DMARC failed: reject, quarantine, none
}

// Conversation statuses.
const (
	ConversationNew         = "new"         // nobody has answered it yet
	ConversationWaiting     = "waiting"     // answered, waiting for the sender
	ConversationDone        = "done"        // closed
	ConversationQuarantined = "quarantined" // a virus: kept, never shown or answered
	ConversationSpam        = "spam"        // spam: shown to admins apart, not answered
	ConversationIgnored     = "ignored"     // automatic mail or a forged sender: kept, not answered
)

// Conversation is a thread of messages with one person, under one reference.
type Conversation struct {
	Ref       string // like PG-7K3Q9F
	Status    string
	Group     string // the group whose facilitators answer it; "" for the admins
	Named     string // the group the first message named ("please add me to the Midlands")
	Class     MailClass
	Matched   []string // the words its class was given for
	From      string
	FromName  string
	Subject   string
	Why       string // why it is not answered (a verdict, automatic mail), for the admins
	Flood     bool   // its sender wrote too often: not answered
	Started   time.Time
	Updated   time.Time
	Deadline  time.Time // a data-protection request's: a month from its arrival
	Messages  int
	AckedOn   string    // the day (YYYY-MM-DD, UTC) the sender was last acknowledged
	Notified  time.Time // when its people were last told of it
	Version   int       // changes only over the version read
	LastMsgID string    // the latest message's Message-ID, to thread our replies
}

// MailCounter is a per-sender count for the hour, added to in the transaction that
// stores a message, so that a message delivered again, or a save tried again after a
// conflict, is counted once. Max > 0 makes the save fail (ErrContended) if the count
// has reached Max meanwhile.
type MailCounter struct {
	Key   string
	Until time.Time
	Max   int
}

// ErrDuplicateMail is what MailInStore.SaveInbound returns when the message is stored
// already: a delivery made again.
var ErrDuplicateMail = errors.New("inbound message stored already")

// MailInStore keeps inbound messages and their conversations.
type MailInStore interface {
	// SaveInbound stores m in conversation c (written over version c.Version-1, or new
	// when c.Version is 1), adds one to each counter, and stores the emails out, in one
	// transaction: ErrDuplicateMail when m is stored already, ErrContended when c
	// changed meanwhile or a counter reached its Max (read them again, and decide again).
	SaveInbound(ctx context.Context, m InboundMessage, c Conversation, counters []MailCounter, out []OutboxItem, a AuditEntry) error
	// Conversation returns a conversation; a KindNotFound error when there is none.
	Conversation(ctx context.Context, ref string) (Conversation, error)
	// MailCount reads a counter (strongly consistent); 0 when it has none.
	MailCount(ctx context.Context, key string) (int, error)
}

// MailPeople finds who answers mail: a group's facilitators, or the admins.
type MailPeople interface {
	RoleHolders(ctx context.Context, role, group string) ([]string, error)
}

// MailIn receives mail to the admin address and the groups' addresses.
type MailIn struct {
	Env
	Store   MailInStore
	Network GroupReader
	People  MailPeople
	Admins  []string // set by configuration, beside the appointed ones
	// Admin is the admin address, and Domain the domain of the groups' addresses
	// (<group ID>@Domain). Ours are the service's own addresses: mail from them is
	// never answered.
	Admin, Domain string
	Ours          []string
	Pseudonym     func(parts ...string) string
	// Sent finds the email of a round a reply answers (see mailin_threads.go); nil:
	// replies are not matched to the emails they answer.
	Sent    SentMailFinder
	Confirm MailConfirm // the stores behind the confirmation links of requests by mail
	// Mailboxes finds the group an address at Domain is given to (see
	// groupaddress.go); nil: a group's address is its ID.
	Mailboxes GroupMailboxes
}

// MailFloodLimit is how many messages one sender may send in an hour before they are
// no longer acknowledged, and their conversation is flagged.
const MailFloodLimit = 10

// MailReceipt says what became of a message.
type MailReceipt struct {
	Conversation Conversation
	Duplicate    bool // delivered before: nothing was done again
	Acknowledged bool
	Notified     int // how many people were told of it
}

// Receive stores a message and does what it calls for. A message delivered again is
// recognised and changes nothing.
func (s *MailIn) Receive(ctx context.Context, m InboundMessage) (MailReceipt, error) {
	for attempt := range 5 {
		r, err := s.receive(ctx, m)
		if errors.Is(err, ErrDuplicateMail) {
			return MailReceipt{Duplicate: true}, nil
		}
		if !errors.Is(err, ErrContended) {
			return r, err
		}
		if err := pause(ctx, attempt); err != nil {
			return MailReceipt{}, err
		}
	}
	return MailReceipt{}, ErrContended
}

func (s *MailIn) receive(ctx context.Context, m InboundMessage) (MailReceipt, error) {
	now := s.Now()
	group, known := s.route(ctx, m.Recipients)
	c, err := s.conversation(ctx, m, group)
	if err != nil {
		return MailReceipt{}, err
	}
	c.Version++
	c.Messages++
	c.Updated = now
	if m.MessageID != "" {
		c.LastMsgID = m.MessageID
	}
	answer := s.judge(&c, m, known)
	var counters []MailCounter
	hour := now.UTC().Truncate(time.Hour)
	if answer && m.From != "" && s.Pseudonym != nil {
		flood := MailCounter{Key: "mail#" + s.Pseudonym("mail-in", m.From, hour.Format("2006010215")), Until: hour.Add(time.Hour)}
		n, err := s.Store.MailCount(ctx, flood.Key)
		if err != nil {
			return MailReceipt{}, err
		}
		counters = append(counters, flood)
		if n+1 > MailFloodLimit {
			c.Flood, answer = true, false
			c.Why = fmt.Sprintf("more than %d messages from this sender in an hour", MailFloodLimit)
		}
	}
	var out []OutboxItem
	r := MailReceipt{}
	today := now.UTC().Format(time.DateOnly)
	if answer && c.AckedOn != today && s.Pseudonym != nil {
		// One acknowledgement an hour to a sender, whatever they wrote: a burst of new
		// conversations from one address is answered once. The count is taken in the
		// save's transaction, on condition that it is still 0.
		acks := MailCounter{Key: "ack#" + s.Pseudonym("mail-ack", m.From, hour.Format("2006010215")), Until: hour.Add(time.Hour), Max: 1}
		n, err := s.Store.MailCount(ctx, acks.Key)
		if err != nil {
			return MailReceipt{}, err
		}
		if answer = n == 0; answer {
			counters = append(counters, acks)
		}
	}
	if answer && c.AckedOn != today {
		ack, pending, err := s.acknowledgement(ctx, c, m)
		if err != nil {
			return MailReceipt{}, err
		}
		if pending != nil {
			// What the acknowledgement's link confirms is stored first, the same every
			// time (a message delivered again is one pending request, and one link).
			if err := pending(ctx); err != nil {
				return MailReceipt{}, err
			}
		}
		out = append(out, ack)
		c.AckedOn, r.Acknowledged = today, true
	}
	if c.Status != ConversationQuarantined && c.Status != ConversationIgnored && now.Sub(c.Notified) >= time.Hour {
		notes, err := s.notifications(ctx, c)
		if err != nil {
			return MailReceipt{}, err
		}
		out = append(out, notes...)
		c.Notified, r.Notified = now, len(notes)
	}
	audit := s.audit(Caller{Email: "mail-in"}, "receive mail", c.Ref, nil, map[string]any{"message": m.ID, "status": c.Status, "class": c.Class, "group": c.Group, "acknowledged": r.Acknowledged})
	if err := s.Store.SaveInbound(ctx, m, c, counters, out, audit); err != nil {
		return MailReceipt{}, err
	}
	r.Conversation = c
	return r, nil
}

// Accepts reports whether mail to an address is received (the admin address, or an
// existing group's): others are refused when the sender's server offers them.
func (s *MailIn) Accepts(ctx context.Context, to string) bool {
	_, ok := s.route(ctx, []string{to})
	return ok
}

// route returns the group a message was sent to ("" for the admin address), and
// whether any recipient is one of ours at all.
func (s *MailIn) route(ctx context.Context, recipients []string) (string, bool) {
	for _, to := range recipients {
		to = strings.ToLower(to)
		if to == strings.ToLower(s.Admin) {
			return "", true
		}
		local, domain, ok := strings.Cut(to, "@")
		if ok && s.Domain != "" && domain == strings.ToLower(s.Domain) {
			if g, ok := s.groupAt(ctx, local); ok {
				return g, true
			}
		}
	}
	return "", false
}

// groupAt returns the group whose address (at Domain) has the local part local: the
// group that holds it (its current address, or a former one still received), or else
// the group whose ID it is, unless that group has another address now.
func (s *MailIn) groupAt(ctx context.Context, local string) (string, bool) {
	if s.Mailboxes != nil {
		m, err := s.Mailboxes.GroupMailbox(ctx, local)
		switch {
		case err == nil && (m.Until.IsZero() || s.Now().Before(m.Until)):
			return m.Group, true
		case err == nil:
			return "", false // a former address whose time is up
		case KindOf(err) != KindNotFound:
			return "", false
		}
	}
	g, err := s.Network.Group(ctx, local)
	if err != nil || (g.Mailbox != "" && g.Mailbox != local) {
		return "", false
	}
	return g.ID, true
}

// conversation returns the conversation a message belongs to: the one its subject
// names, or the one whose email (an acknowledgement, a reply) it answers, when the
// sender is a party to it; or a new one.
func (s *MailIn) conversation(ctx context.Context, m InboundMessage, group string) (Conversation, error) {
	reopen := func(c Conversation) Conversation {
		if c.Status == ConversationDone || c.Status == ConversationWaiting {
			c.Status = ConversationNew // the person wrote again: it needs an answer
		}
		return c
	}
	if ref := FindMailReference(m.Subject); ref != "" {
		c, err := s.Store.Conversation(ctx, ref)
		switch {
		case err == nil && m.From != "" && c.From == m.From:
			return reopen(c), nil
		case err != nil && KindOf(err) != KindNotFound:
			return Conversation{}, err
		}
		// Someone else's reference, or none by that name: a conversation of its own.
	}
	// Threaded by the SES message ID of an email of ours it answers.
	sent, answers, isReply, err := s.answered(ctx, m)
	if err != nil {
		return Conversation{}, err
	}
	if answers != nil {
		return reopen(*answers), nil
	}
	now := s.Now()
	c := Conversation{Ref: NewMailReference(), Status: ConversationNew, Group: group, From: m.From, FromName: m.FromName, Subject: m.Subject, Started: now}
	if group == "" && isReply {
		c.Group, c.Class = sent.Group, MailReply // a reply to a round's email: its group's facilitators answer it
		return c, nil
	}
	if group == "" {
		groups, err := s.Network.Groups(ctx)
		if err != nil {
			return Conversation{}, err
		}
		cl := ClassifyMail(m.Subject, m.Text, groups)
		c.Class, c.Matched, c.Named = cl.Class, cl.Matched, cl.Group
		if cl.Class == MailDataRequest {
			c.Deadline = now.AddDate(0, 1, 0)
		}
	} else {
		c.Class = MailQuestion
	}
	return c, nil
}

// judge sets a conversation's status from the message's verdicts and nature, and
// reports whether the sender is to be answered.
func (s *MailIn) judge(c *Conversation, m InboundMessage, known bool) bool {
	v := m.Verdicts
	set := func(status, why string) bool {
		c.Status, c.Why = status, why
		return false
	}
	switch {
	case v.Virus == "FAIL":
		return set(ConversationQuarantined, "a virus was found in it")
	case v.Spam == "FAIL":
		return set(ConversationSpam, "SES found it to be spam")
	case v.DMARC == "FAIL" && (v.DMARCPolicy == "reject" || v.DMARCPolicy == "quarantine"):
		return set(ConversationIgnored, "its sender failed DMARC, and the sender's domain asks for such mail to be "+map[string]string{"reject": "rejected", "quarantine": "quarantined"}[v.DMARCPolicy])
	case !known:
		return set(ConversationIgnored, "it was not sent to one of our addresses")
	case m.Automatic != "":
		if c.Messages > 1 {
			return false // an automatic reply in a conversation: kept in it, not answered
		}
		return set(ConversationIgnored, "it is automatic mail ("+m.Automatic+")")
	case m.From == "" || m.NullSender:
		return set(ConversationIgnored, "it has no single sender to answer")
	case s.ours(m.From) || s.ours(m.ReturnPath):
		return set(ConversationIgnored, "it came from one of our own addresses")
	}
	return true
}

func (s *MailIn) ours(addr string) bool {
	addr = strings.ToLower(addr)
	return addr != "" && (addr == strings.ToLower(s.Admin) || slices.ContainsFunc(s.Ours, func(o string) bool { return strings.ToLower(o) == addr }))
}

// acknowledgement is our reply to a person's message: what we understood and what
// happens next, threaded, and marked so that no machine answers it. A request that
// changes something carries the confirmation link its web form would send, whose
// pending request pending stores (see confirmation).
func (s *MailIn) acknowledgement(ctx context.Context, c Conversation, m InboundMessage) (OutboxItem, mailPending, error) {
	to := m.ReturnPath
	if to == "" {
		to = m.From
	}
	// Every link in it, the manage link too, is for the address it goes to.
	data, err := s.emailData(to, m.FromName, nil)
	if err != nil {
		return OutboxItem{}, nil, err
	}
	confirm, pending, err := s.confirmation(ctx, c, m, to)
	if err != nil {
		return OutboxItem{}, nil, err
	}
	data.Mail = &mailAckData{Ref: c.Ref, Class: c.Class, Group: cmp.Or(c.Group, c.Named), Deadline: c.Deadline, Confirm: confirm}
	if confirm != nil {
		data.Link = confirm.Link
	}
	msg, err := render(to, ReplySubject(m.Subject, c.Ref), "mail-ack", data)
	if err != nil {
		return OutboxItem{}, nil, err
	}
	msg.Headers = append(msg.Headers,
		Header{"Auto-Submitted", "auto-replied"},
		Header{"X-Auto-Response-Suppress", "OOF, AutoReply"},
		Header{MailLoopHeader, "1"},
	)
	if m.MessageID != "" {
		refs := append(slices.Clone(m.References), m.MessageID)
		if len(refs) > 10 {
			refs = refs[len(refs)-10:]
		}
		msg.Headers = append(msg.Headers, Header{"In-Reply-To", "<" + m.MessageID + ">"}, Header{"References", "<" + strings.Join(refs, "> <") + ">"})
	}
	return OutboxItem{ID: newOutboxID(), At: s.Now(), Message: &msg, Conversation: c.Ref}, pending, nil
}

// MailLoopHeader marks every email we send in answer to mail, so that it is never
// answered again if it comes back (the same name as mailin.LoopHeader).
const MailLoopHeader = "X-Peergroups-Loop"

// notifications tell the people who answer a conversation that it has news: the
// group's facilitators, or the admins. They carry a link to it, never the mail.
func (s *MailIn) notifications(ctx context.Context, c Conversation) ([]OutboxItem, error) {
	var to []string
	if c.Group != "" {
		f, err := s.People.RoleHolders(ctx, RoleFacilitator, c.Group)
		if err != nil {
			return nil, err
		}
		to = f
	}
	if len(to) == 0 {
		admins, err := s.People.RoleHolders(ctx, RoleAdmin, "")
		if err != nil {
			return nil, err
		}
		to = append(slices.Clone(s.Admins), admins...)
	}
	slices.Sort(to)
	to = slices.Compact(to)
	var out []OutboxItem
	for _, addr := range to {
		data, err := s.emailData(addr, "", nil)
		if err != nil {
			return nil, err
		}
		data.Link, data.Mail = s.BaseURL+"/admin/inbox/"+c.Ref, &mailAckData{Ref: c.Ref, Class: c.Class, Group: c.Group, Deadline: c.Deadline, Status: c.Status}
		msg, err := render(addr, "New message "+c.Ref+": "+mailClassWords[c.Class], "mail-notify", data)
		if err != nil {
			return nil, err
		}
		out = append(out, OutboxItem{ID: newOutboxID(), At: s.Now(), Message: &msg})
	}
	return out, nil
}

// mailAckData is what the mail-in emails show.
type mailAckData struct {
	Ref      string
	Class    MailClass
	Group    string
	Status   string
	Deadline time.Time
	Text     string           // a reply's, written in the console
	Confirm  *mailConfirmView // an acknowledgement's of a request that changes something
}

// Words says what a class of message asks for, in words.
func (c MailClass) Words() string { return mailClassWords[c] }

var mailClassWords = map[MailClass]string{
	MailJoin:        "to join a group",
	MailLeave:       "to leave",
	MailRegister:    "to sign a council up to the Standard",
	MailFacilitate:  "to help facilitate",
	MailPropose:     "to start a group",
	MailDataRequest: "a data-protection request",
	MailQuestion:    "a question for the team",
	MailReply:       "a reply to a group's email",
	"":              "a message",
}

package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// inboxPages serves the console's inbox: mail to the admin address and the groups'.
type inboxPages struct {
	*Server
	svc inboxService
}

// inboxService is what these pages call of the domain.
type inboxService interface {
	Inbox(ctx context.Context, c pg.Caller) (pg.Inbox, error)
	Conversation(ctx context.Context, c pg.Caller, ref string) (pg.Conversation, []pg.InboxMessage, error)
	Reply(ctx context.Context, c pg.Caller, ref string, version int, text string) (pg.Conversation, error)
	Reclassify(ctx context.Context, c pg.Caller, ref string, version int, class pg.MailClass) (pg.Conversation, error)
	Assign(ctx context.Context, c pg.Caller, ref string, version int, group string) (pg.Conversation, error)
	Close(ctx context.Context, c pg.Caller, ref string, version int) (pg.Conversation, error)
	AttachmentLink(ctx context.Context, c pg.Caller, ref, file string) (string, error)
	Groups(ctx context.Context) ([]pg.Group, error)
}

// inboxService's Groups comes from the network.
type inboxAndGroups struct {
	*pg.MailInbox
	groupLister
}

type groupLister interface {
	Groups(ctx context.Context) ([]pg.Group, error)
}

// inboxView lists the conversations a caller may see, by status.
type inboxView struct {
	base
	Inbox pg.Inbox
}

// Lists are the inbox's tables, in the order shown: spam and mail not answered only
// to admins.
func (v *inboxView) Lists() []inboxList {
	lists := []inboxList{
		{"new", "New", "Nobody has answered these yet.", v.Inbox.New},
		{"waiting", "Waiting", "Answered: waiting for the sender.", v.Inbox.Waiting},
		{"done", "Done", "Closed. A conversation opens again when its sender writes again.", v.Inbox.Done},
	}
	if v.Caller.Admin {
		lists = append(lists,
			inboxList{"spam", "Spam", "SES found these to be spam: they are not answered.", v.Inbox.Spam},
			inboxList{"ignored", "Not answered", "Automatic mail, forged senders and mail to addresses that are not ours: kept, never answered.", v.Inbox.Ignored},
		)
	}
	return lists
}

type inboxList struct {
	ID, Title, Hint string
	Conversations   []pg.Conversation
}

// conversationView is one conversation with its messages and the forms that act on it.
type conversationView struct {
	base
	Conversation pg.Conversation
	Messages     []pg.InboxMessage
	Groups       []pg.Group
	Classes      []pg.MailClass
	Reply        string // a reply typed, kept on error
}

// GroupName names the group a conversation is assigned to.
func (v *conversationView) GroupName(id string) string {
	for _, g := range v.Groups {
		if g.ID == id {
			return g.Name
		}
	}
	return id
}

// Open reports whether the conversation can still be answered.
func (v *conversationView) Open() bool {
	c := v.Conversation
	return c.From != "" && c.Status != pg.ConversationSpam && c.Status != pg.ConversationIgnored
}

func (s inboxPages) inbox(w http.ResponseWriter, r *http.Request) {
	in, err := s.svc.Inbox(r.Context(), caller(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "inbox", &inboxView{base: base{Title: "Inbox"}, Inbox: in})
}

func (s inboxPages) conversation(w http.ResponseWriter, r *http.Request) {
	v := &conversationView{base: base{Banner: banners[r.URL.Query().Get("done")]}}
	s.renderConversation(w, r, http.StatusOK, v)
}

// banners are the messages shown after an action, by the name it redirects with.
var banners = map[string]string{
	"reply":  "Your reply has been sent.",
	"class":  "The conversation has been reclassified.",
	"assign": "The conversation has been assigned.",
	"close":  "The conversation has been closed.",
}

// renderConversation shows the conversation as it is now, with v's errors and typing.
func (s inboxPages) renderConversation(w http.ResponseWriter, r *http.Request, status int, v *conversationView) {
	c, msgs, err := s.svc.Conversation(r.Context(), caller(r), r.PathValue("ref"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.svc.Groups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Title, v.Conversation, v.Messages, v.Groups, v.Classes = c.Ref+": "+c.Subject, c, msgs, groups, pg.MailClasses
	if c.Subject == "" {
		v.Title = c.Ref
	}
	s.render(w, r, status, "conversation", v)
}

// act runs an action on the conversation over the version the form was read at, then
// shows the conversation: with the reason and what was typed when it was refused.
func (s inboxPages) act(w http.ResponseWriter, r *http.Request, name, field string, do func(ctx context.Context, c pg.Caller, ref string, version int) (pg.Conversation, error)) {
	ref := r.PathValue("ref")
	version, err := strconv.Atoi(values(r).Get("version"))
	if err != nil {
		s.problem(w, r, http.StatusBadRequest, "This form could not be read", "The form was not sent correctly. Go back, refresh the page, then try again.")
		return
	}
	if _, err := do(r.Context(), caller(r), ref, version); err != nil {
		switch pg.KindOf(err) {
		case pg.KindInvalid, pg.KindConflict:
			status := http.StatusBadRequest
			if pg.KindOf(err) == pg.KindConflict {
				status = http.StatusConflict
			}
			s.renderConversation(w, r, status, &conversationView{
				base:  base{Errors: pg.FieldErrors{{Field: field, Message: pg.MessageOf(err)}}},
				Reply: values(r).Get("reply"),
			})
		default:
			s.fail(w, r, err)
		}
		return
	}
	http.Redirect(w, r, "/admin/inbox/"+ref+"?done="+name, http.StatusSeeOther)
}

func (s inboxPages) reply(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "reply", "reply", func(ctx context.Context, c pg.Caller, ref string, version int) (pg.Conversation, error) {
		return s.svc.Reply(ctx, c, ref, version, values(r).Get("reply"))
	})
}

func (s inboxPages) reclassify(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "class", "class", func(ctx context.Context, c pg.Caller, ref string, version int) (pg.Conversation, error) {
		return s.svc.Reclassify(ctx, c, ref, version, pg.MailClass(values(r).Get("class")))
	})
}

func (s inboxPages) assign(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "assign", "group", func(ctx context.Context, c pg.Caller, ref string, version int) (pg.Conversation, error) {
		return s.svc.Assign(ctx, c, ref, version, values(r).Get("group"))
	})
}

func (s inboxPages) close(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "close", "close", func(ctx context.Context, c pg.Caller, ref string, version int) (pg.Conversation, error) {
		return s.svc.Close(ctx, c, ref, version)
	})
}

// dateTime says when, to the minute, in London.
func dateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(pg.London).Format("2 January 2006 15:04")
}

// attachment answers with a short presigned link that downloads one attachment of a
// conversation the caller may see (never shown on a page or sent in an email).
func (s inboxPages) attachment(w http.ResponseWriter, r *http.Request) {
	link, err := s.svc.AttachmentLink(r.Context(), caller(r), r.PathValue("ref"), r.PathValue("file"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, link, http.StatusSeeOther)
}

// Mail in: a request by mail to change something (join, leave, register a council,
// offer to facilitate) is answered with the same confirmation link the web form would
// send, and nothing changes until it is followed.
//
// The From header can be forged, and many council domains publish no DMARC policy. The
// safety is where the link goes: it is sealed for the sender's address and sent only
// to that address, so only the owner of the address can follow it. When the reply
// would go elsewhere (a Return-Path that is not the From), no link for the From is
// sent at all: the person is pointed to the form.

package peergroups

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/peergroups/peergroups/internal/links"
)

// MailSignups keeps the pending sign-ups that a request to join, or to help
// facilitate, by mail is confirmed through (Memberships' store).
type MailSignups interface {
	Person(ctx context.Context, email string) (Person, error)
	SaveSignup(ctx context.Context, p Person, s Signup, limits []RateLimit, out ...OutboxItem) error
}

// MailRegistrations keeps the pending council sign-ups that a request by mail to sign
// a council up is confirmed through (Register's store).
type MailRegistrations interface {
	SavePendingRegistration(ctx context.Context, p PendingRegistration, limits []RateLimit, out ...OutboxItem) error
}

// MailConfirm is what mail in needs to answer a request with the link its web form
// would send. Without a store, the request is answered with the form's link.
type MailConfirm struct {
	Signups       MailSignups
	Registrations MailRegistrations
	Councils      *Councils // the gazetteer of council names
}

// mailConfirmView is what an acknowledgement says of a request that changes state.
type mailConfirmView struct {
	Link      string // the confirmation link, or the form's when Needs is set
	Needs     string // what the form asks for that the email did not say; "" with a confirmation link
	GroupName string // the group a join (or an offer to facilitate) is for
	Council   string // the council a registration is for
	Member    bool   // already a member of the group named: nothing to confirm
	Hours     int    // how long the confirmation link works
}

// Confirming reports whether the acknowledgement carries a confirmation link.
func (v *mailConfirmView) Confirming() bool {
	return v != nil && v.Needs == "" && v.Link != "" && !v.Member
}

// mailPending stores what a confirmation link confirms; it runs before the message
// and its acknowledgement are saved, and again, the same, if the save is tried again.
type mailPending func(ctx context.Context) error

// confirmation works out what the acknowledgement of a request offers: the
// confirmation link the web form would send, with what it confirms stored as pending
// (by pending, before the acknowledgement is saved), or the form's link and what the
// form needs that the email did not say. to is where the acknowledgement goes.
func (s *MailIn) confirmation(ctx context.Context, c Conversation, m InboundMessage, to string) (*mailConfirmView, mailPending, error) {
	if !c.Class.StateChanging() {
		return nil, nil, nil
	}
	v := &mailConfirmView{Hours: int(ConfirmLinkTTL / time.Hour)}
	group, g := cmp.Or(c.Group, c.Named), Group{}
	if group != "" {
		var err error
		switch g, err = s.Network.Group(ctx, group); {
		case err == nil:
			v.GroupName = g.Name
		case KindOf(err) == KindNotFound:
			group, g = "", Group{}
		default:
			return nil, nil, err
		}
	}
	email := NormaliseEmail(m.From)
	if !strings.EqualFold(to, email) || !ValidEmail(email) {
		// The answer goes to another address than the one the request is for: no link
		// that acts for the From goes there.
		v.Link, v.Needs = s.formLink(c.Class), "to send it to the address you wrote from, and this reply goes to another one"
		return v, nil, nil
	}
	switch c.Class {
	case MailLeave:
		// The same link the "email me a manage link" page sends.
		token, err := s.Links.Seal(links.Claims{Purpose: links.Manage, Email: email}, ManageLinkTTLAsked)
		if err != nil {
			return nil, nil, err
		}
		v.Link, v.Hours = s.link("/manage", token), int(ManageLinkTTLAsked/time.Hour)
		return v, nil, nil
	case MailJoin, MailFacilitate:
		return s.signupConfirmation(ctx, c, m, email, g, v)
	case MailRegister:
		return s.registerConfirmation(c, m, email, v)
	}
	// A proposal needs more than an email carries reliably: the area, why, who could help.
	v.Link, v.Needs = s.formLink(c.Class), "the area the group would cover, why it needs one, and who could help run it"
	return v, nil, nil
}

// formLink is the web form a request of a class is made with.
func (s *MailIn) formLink(class MailClass) string {
	switch class {
	case MailLeave:
		return s.BaseURL + "/manage/link"
	case MailRegister:
		return s.BaseURL + "/councils/sign-up"
	case MailPropose:
		return s.BaseURL + "/proposals/new"
	}
	return s.BaseURL + "/join"
}

// mailNonce is the nonce of a confirmation link sent in answer to message id: the
// same for the same message, so that a delivery made again, or a save tried again,
// stores the same pending request and the link already sent keeps working.
func (s *MailIn) mailNonce(id, email string) (string, error) {
	if s.Pseudonym == nil {
		return s.Links.NewNonce()
	}
	return s.Pseudonym("mail-confirm", id, email), nil
}

// signupConfirmation answers a request to join a group, or to help facilitate, with
// the join form's confirmation link, for the group the message named. Someone we do
// not know yet must have given their name (the display name of their address); the
// council is the one the message names, if it names one.
func (s *MailIn) signupConfirmation(ctx context.Context, c Conversation, m InboundMessage, email string, g Group, v *mailConfirmView) (*mailConfirmView, mailPending, error) {
	group := g.ID
	if s.Confirm.Signups == nil {
		v.Link, v.Needs = s.formLink(c.Class), "your details"
		return v, nil, nil
	}
	person, err := s.Confirm.Signups.Person(ctx, email)
	if err != nil {
		return nil, nil, fmt.Errorf("read the sender of %s: %w", c.Ref, err)
	}
	facilitate := c.Class == MailFacilitate
	switch {
	case group == "" && (!facilitate || !person.Known):
		v.Link, v.Needs = s.formLink(c.Class), "which group you would like to join"
		return v, nil, nil
	case group != "" && g.Paused:
		v.Link, v.Needs = s.formLink(c.Class), "another group: "+g.Name+" is not taking new members just now"
		return v, nil, nil
	case group != "" && person.IsMember(group) && (!facilitate || person.Profile.Facilitate):
		v.Member = true
		return v, nil, nil
	}
	signup := Signup{Email: email, Form: "mail"}
	switch {
	case person.Signup != nil && !person.Signup.Expired(s.Now()):
		// A sign-up waits already: this request adds to it (its link is replaced).
		signup.Profile, signup.Groups, signup.Interest = person.Signup.Profile, slices.Clone(person.Signup.Groups), person.Signup.Interest
	case person.Known:
		signup.Profile = person.Profile
	default:
		name := strings.TrimSpace(m.FromName)
		var errs FieldErrors
		errs.short("name", name, "Full name", MaxNameLength, "Enter your full name", NameWithLink)
		if name == "" || errs.Err() != nil || strings.Contains(name, "@") {
			v.Link, v.Needs = s.formLink(c.Class), "your name"
			return v, nil, nil
		}
		signup.Profile.Name = name
		if council, ok := s.Confirm.Councils.Find(m.Subject + "\n" + m.Text); ok {
			signup.Profile.CouncilCode = council.Code
		}
	}
	signup.Profile.ConsentAt, signup.Profile.ConsentForm = time.Time{}, ""
	if facilitate {
		signup.Profile.Facilitate = true
	}
	if group != "" && !slices.Contains(signup.Groups, group) && !person.IsMember(group) {
		signup.Groups = append(signup.Groups, group)
	}
	nonce, err := s.mailNonce(m.ID, email)
	if err != nil {
		return nil, nil, err
	}
	now := s.Now()
	signup.NonceHash, signup.CreatedAt, signup.ExpiresAt = links.HashNonce(nonce), now, now.Add(ConfirmLinkTTL)
	token, err := s.Links.Seal(links.Claims{Purpose: links.Confirm, Email: email, Nonce: nonce}, ConfirmLinkTTL)
	if err != nil {
		return nil, nil, err
	}
	v.Link = s.link("/join/confirm", token)
	return v, func(ctx context.Context) error {
		if err := s.Confirm.Signups.SaveSignup(ctx, person, signup, nil); err != nil {
			return fmt.Errorf("save the sign-up asked for by mail in %s: %w", c.Ref, err)
		}
		return nil
	}, nil
}

// registerConfirmation answers a request to sign a council up with the register
// form's confirmation link, for the council the message names, from a sender who gave
// their name.
func (s *MailIn) registerConfirmation(c Conversation, m InboundMessage, email string, v *mailConfirmView) (*mailConfirmView, mailPending, error) {
	council, ok := s.Confirm.Councils.Find(m.Subject + "\n" + m.Text)
	name := strings.TrimSpace(m.FromName)
	var errs FieldErrors
	errs.short("name", name, "Full name", MaxNameLength, "Enter your full name", NameWithLink)
	switch {
	case s.Confirm.Registrations == nil:
		v.Link, v.Needs = s.formLink(c.Class), "your council and your role there"
		return v, nil, nil
	case !ok:
		v.Link, v.Needs = s.formLink(c.Class), "which council (we could not tell it from your email)"
		return v, nil, nil
	case name == "" || errs.Err() != nil || strings.Contains(name, "@"):
		v.Link, v.Needs = s.formLink(c.Class), "your name"
		return v, nil, nil
	}
	v.Council = council.Name
	nonce, err := s.mailNonce(m.ID, email)
	if err != nil {
		return nil, nil, err
	}
	p := PendingRegistration{Email: email, Council: council.Code, Name: name, Role: "", NonceHash: links.HashNonce(nonce), ExpiresAt: s.Now().Add(ConfirmLinkTTL)}
	token, err := s.Links.Seal(links.Claims{Purpose: links.Register, Email: email, Nonce: nonce, Subject: council.Code}, ConfirmLinkTTL)
	if err != nil {
		return nil, nil, err
	}
	v.Link = s.link("/councils/confirm", token)
	return v, func(ctx context.Context) error {
		if err := s.Confirm.Registrations.SavePendingRegistration(ctx, p, nil); err != nil {
			return fmt.Errorf("save the council sign-up asked for by mail in %s: %w", c.Ref, err)
		}
		return nil
	}, nil
}

// councilSuffixes are the words an official name ends with that people leave out
// ("Birmingham City Council" is "Birmingham City", or "Birmingham").
var councilSuffixes = []string{" council", " city", " county", " borough", " district", " metropolitan", " county borough", " metropolitan borough"}

// councilPrefixes likewise begin one ("London Borough of Camden" is "Camden").
var councilPrefixes = []string{"london borough of ", "royal borough of ", "city of ", "the ", "council of the "}

// Find returns the one council text names: by its official name, or that name
// without "Council" and its kind ("Birmingham City"), in any case; or by its short
// name ("Birmingham") written with capitals as a name is. When it names several (and
// none of their names holds the others'), it names none.
func (c *Councils) Find(text string) (Council, bool) {
	if c == nil {
		return Council{}, false
	}
	lower, cased := normaliseWords(text), strings.Join(strings.FieldsFunc(strings.ReplaceAll(text, "’", "'"), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '-'
	}), " ")
	type match struct {
		council Council
		phrase  string
	}
	var found []match
	for _, council := range c.All() {
		full := normaliseWords(council.Name)
		short := strings.TrimSuffix(full, " council")
		for cut := true; cut; {
			cut = false
			for _, p := range councilSuffixes {
				if t, ok := strings.CutSuffix(short, p); ok && t != "" {
					short, cut = t, true
				}
			}
		}
		for _, p := range councilPrefixes {
			if t, ok := strings.CutPrefix(short, p); ok && t != "" {
				short = t
			}
		}
		switch {
		case hasPhrase(lower, full):
			found = append(found, match{council, full})
		case hasPhrase(lower, strings.TrimSuffix(full, " council")):
			found = append(found, match{council, strings.TrimSuffix(full, " council")})
		case len(short) >= 4 && hasPhrase(cased, titleWords(short)):
			found = append(found, match{council, short})
		}
	}
	// A name inside another's ("Aberdeen" in "Aberdeen City") is not a second council.
	found = slices.DeleteFunc(found, func(a match) bool {
		return slices.ContainsFunc(found, func(b match) bool {
			return a.council.Code != b.council.Code && len(b.phrase) > len(a.phrase) && hasPhrase(b.phrase, a.phrase)
		})
	})
	if len(found) != 1 {
		return Council{}, false
	}
	return found[0].council, true
}

// titleWords is lower-case words with a capital at the start of each ("and", "of",
// "upon", "on", "the" stay small: "Kingston upon Thames").
func titleWords(s string) string {
	w := strings.Fields(s)
	for i, x := range w {
		if i > 0 && slices.Contains([]string{"and", "of", "upon", "on", "the", "in", "with", "de"}, x) {
			continue
		}
		w[i] = strings.ToUpper(x[:1]) + x[1:]
	}
	return strings.Join(w, " ")
}

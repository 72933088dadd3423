package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/peergroups/peergroups/internal/links"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// proposalPages serves the pages of proposals: proposing, interest, decisions.
type proposalPages struct {
	*Server
	svc proposalService
}

// proposalService is what these pages call of the domain.
type proposalService interface {
	AcceptInvitation(ctx context.Context, token string) (pg.Group, error)
	AllProposals(ctx context.Context, c pg.Caller) ([]pg.Proposal, error)
	ApproveProposal(ctx context.Context, c pg.Caller, id string, g pg.Group) (int, error)
	ConfirmInterest(ctx context.Context, token string) (pg.Proposal, error)
	ConfirmProposal(ctx context.Context, token string) (pg.Proposal, error)
	DeclineProposal(ctx context.Context, c pg.Caller, id, reason string) error
	Invitation(ctx context.Context, token string) (pg.Group, links.Claims, error)
	InviteInterested(ctx context.Context, c pg.Caller, id string) (int, error)
	ListProposal(ctx context.Context, c pg.Caller, id string) error
	ListedProposals(ctx context.Context) ([]pg.Proposal, error)
	PendingInterestFor(ctx context.Context, token string) (pg.PendingInterest, pg.Proposal, error)
	PendingProposalFor(ctx context.Context, token string) (pg.PendingProposal, error)
	Proposal(ctx context.Context, id string) (pg.Proposal, error)
	PublicProposal(ctx context.Context, id string) (pg.Proposal, error)
	RequestInterest(ctx context.Context, id, name, email, clientIP string) error
	RequestProposal(ctx context.Context, f pg.ProposalForm, clientIP string) error
}

// proposalsView lists proposals: the open ones to the public, all to the admins.
type proposalsView struct {
	base
	Proposals []pg.Proposal
}

// proposalFormView is the form that proposes a group.
type proposalFormView struct {
	base
	ProposalForm pg.ProposalForm // the answers
}

// proposalView is a proposal's public page, with the form to say you are interested.
type proposalView struct {
	base
	Proposal pg.Proposal
	Form     contact
}

// adminProposalView is a proposal as the admins see it, with the forms that decide.
type adminProposalView struct {
	base
	groupFields // the group that approving starts
	Proposal    pg.Proposal
	Reason      string // a reason for declining typed, kept on error
}

func (s proposalPages) proposalsPage(w http.ResponseWriter, r *http.Request) {
	open, err := s.svc.ListedProposals(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "proposals", &proposalsView{base: base{Title: "Proposed peer groups"}, Proposals: open})
}

func (s proposalPages) proposalForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "proposal-form", &proposalFormView{base: base{Title: "Propose a peer group"}})
}

func (s proposalPages) proposalRequest(w http.ResponseWriter, r *http.Request) {
	f, errs := decodeProposal(values(r))
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "proposal-form", &proposalFormView{base: base{Title: "Propose a peer group", Errors: errs}, ProposalForm: f})
		return
	}
	if err := s.svc.RequestProposal(r.Context(), f, clientIP(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sent(w, r, "We have sent you an email. Open the link in it to confirm and publish your proposal. "+linkExpiresIn(pg.ConfirmLinkTTL))
}

func (s proposalPages) proposalConfirmForm(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	p, err := s.svc.PendingProposalFor(r.Context(), tok)
	if err != nil {
		s.failLink(w, r, err, journey{link: confirmLink, again: "/proposals/new"})
		return
	}
	s.render(w, r, http.StatusOK, "confirm-link", &confirmLinkView{
		base: base{Title: "Confirm your proposal"}, Token: tok, Action: "/proposals/confirm", Button: "Confirm",
		Summary: []summary{{"Area", p.Area}, {"Proposed by", p.ProposerName}, {"Why", p.Why}, {"Co-facilitators", p.CoFacilitators}},
		Message: "When you confirm, the network’s admins check the proposal, then list it publicly so that others can say they are interested. Your name and the area are shown; your email address is not.",
	})
}

func (s proposalPages) proposalConfirm(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.ConfirmProposal(r.Context(), token(r))
	if err != nil {
		s.failLink(w, r, err, journey{link: confirmLink, again: "/proposals/new"})
		return
	}
	s.render(w, r, http.StatusOK, "done", &doneView{base: base{Title: "Your proposal has been sent"}, Message: "The network’s admins will check your proposal for " + p.Area + " and list it publicly, so that others can say they are interested. We will email you when they decide whether to start the group.", Link: "/proposals", LinkText: "See the proposals listed now"})
}

func (s proposalPages) proposalPage(w http.ResponseWriter, r *http.Request) {
	s.renderProposal(w, r, http.StatusOK, &proposalView{})
}

func (s proposalPages) renderProposal(w http.ResponseWriter, r *http.Request, status int, p *proposalView) {
	prop, err := s.svc.PublicProposal(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Title, p.Proposal = "A peer group for "+prop.Area, prop
	s.render(w, r, status, "proposal", p)
}

func (s proposalPages) interestRequest(w http.ResponseWriter, r *http.Request) {
	name, email, errs := decodeInterest(values(r))
	if len(errs) > 0 {
		s.renderProposal(w, r, http.StatusBadRequest, &proposalView{base: base{Errors: errs}, Form: contact{Name: name, Email: email}})
		return
	}
	if err := s.svc.RequestInterest(r.Context(), r.PathValue("id"), name, email, clientIP(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sent(w, r, "We have sent you an email. Open the link in it to confirm that you are interested. "+linkExpiresIn(pg.ConfirmLinkTTL))
}

func (s proposalPages) interestConfirmForm(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	pi, p, err := s.svc.PendingInterestFor(r.Context(), tok)
	if err != nil {
		s.failLink(w, r, err, journey{link: confirmLink, again: "/proposals"})
		return
	}
	s.render(w, r, http.StatusOK, "confirm-link", &confirmLinkView{
		base: base{Title: "Confirm your interest"}, Token: tok, Action: "/proposals/interest/confirm", Button: "Confirm",
		Summary: []summary{{"Proposed group", p.Area}, {"Your name", pi.Name}, {"Email address", pi.Email}},
		Message: "If the group starts, we will email you an invitation to join it.",
	})
}

func (s proposalPages) interestConfirm(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.ConfirmInterest(r.Context(), token(r))
	if err != nil {
		s.failLink(w, r, err, journey{link: confirmLink, again: "/proposals"})
		return
	}
	s.render(w, r, http.StatusOK, "done", &doneView{base: base{Title: "Thank you for your interest"}, Message: "If the peer group for " + p.Area + " starts, we will email you an invitation to join it.", Link: "/proposals/" + p.ID, LinkText: "See the proposal"})
}

func (s proposalPages) invitationForm(w http.ResponseWriter, r *http.Request) {
	tok := token(r)
	g, claims, err := s.svc.Invitation(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "confirm-link", &confirmLinkView{
		base: base{Title: "Join the " + g.Name + " peer group"}, Token: tok, Action: "/join/invitation", Button: "Join",
		Summary: []summary{{"Group", g.Name}, {"Area", g.Area()}, {"Email address", claims.Email}},
		Message: "By joining, you agree that we keep your name and email address to run the peer group and email you about it. You can leave at any time.",
	})
}

func (s proposalPages) invitationAccept(w http.ResponseWriter, r *http.Request) {
	g, err := s.svc.AcceptInvitation(r.Context(), token(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "done", &doneView{base: base{Title: "You have joined the " + g.Name + " peer group"}, Message: "We will email you when each new round is published. Every email has a link to manage your membership or leave.", Link: "/", LinkText: "Go to the Peer Groups home page"})
}

func (s proposalPages) adminProposals(w http.ResponseWriter, r *http.Request) {
	all, err := s.svc.AllProposals(r.Context(), caller(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-proposals", &proposalsView{base: base{Title: "Proposals"}, Proposals: all})
}

func (s proposalPages) adminProposal(w http.ResponseWriter, r *http.Request) {
	done := r.URL.Query().Get("done")
	banner := map[string]string{"declined": "The proposal has been declined and the proposer told", "listed": "The proposal is now listed publicly"}[done]
	if n, ok := strings.CutPrefix(done, "approved-"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		people := n + " interested people"
		if n == "1" {
			people = "1 interested person"
		}
		banner = "The group has been created, the proposer appointed as its facilitator, and " + people + " invited to join"
	}
	s.renderAdminProposal(w, r, http.StatusOK, &adminProposalView{base: base{Banner: banner}})
}

// slug makes a group's short name from an area: lower-case letters and digits, each
// run of anything else one hyphen, none at either end.
func slug(area string) string {
	var b strings.Builder
	hyphen := false
	for _, c := range []byte(strings.ToLower(area)) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteByte(c)
			hyphen = false
			continue
		}
		hyphen = true
	}
	return b.String()
}

func (s proposalPages) renderAdminProposal(w http.ResponseWriter, r *http.Request, status int, p *adminProposalView) {
	prop, err := s.svc.Proposal(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Title, p.Proposal, p.Regions = "Proposal: "+prop.Area, prop, s.Councils.Regions()
	if p.Group.ID == "" && p.Errors == nil {
		p.Group = pg.Group{ID: slug(prop.Area), Name: prop.Area}
	}
	if p.Chosen == nil {
		p.Chosen = chosen(p.Group.Regions)
	}
	s.render(w, r, status, "admin-proposal", p)
}

func (s proposalPages) proposalApprove(w http.ResponseWriter, r *http.Request) {
	g, errs := decodeGroup(values(r), s.Councils, true)
	id := r.PathValue("id")
	if len(errs) == 0 {
		n, err := s.svc.ApproveProposal(r.Context(), caller(r), id, g)
		if pg.KindOf(err) == pg.KindConflict && strings.Contains(pg.MessageOf(err), "short name") {
			errs = pg.FieldErrors{{Field: "id", Message: pg.MessageOf(err)}}
		} else if err != nil {
			s.fail(w, r, err)
			return
		} else {
			http.Redirect(w, r, fmt.Sprintf("/admin/proposals/%s?done=approved-%d", url.PathEscape(id), n), http.StatusSeeOther)
			return
		}
	}
	s.renderAdminProposal(w, r, http.StatusBadRequest, &adminProposalView{base: base{Errors: errs}, groupFields: groupFields{Group: g, Chosen: chosen(g.Regions)}})
}

func (s proposalPages) proposalDecline(w http.ResponseWriter, r *http.Request) {
	reason, errs := decodeReason(values(r))
	id := r.PathValue("id")
	if len(errs) > 0 {
		s.renderAdminProposal(w, r, http.StatusBadRequest, &adminProposalView{base: base{Errors: errs}, Reason: reason})
		return
	}
	if err := s.svc.DeclineProposal(r.Context(), caller(r), id, reason); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/proposals/"+url.PathEscape(id)+"?done=declined", http.StatusSeeOther)
}

// proposalList approves a proposal for the public list.
func (s proposalPages) proposalList(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.svc.ListProposal(r.Context(), caller(r), id); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/proposals/"+url.PathEscape(id)+"?done=listed", http.StatusSeeOther)
}

func (s proposalPages) proposalInvite(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	n, err := s.svc.InviteInterested(r.Context(), caller(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/proposals/%s?done=approved-%d", url.PathEscape(id), n), http.StatusSeeOther)
}

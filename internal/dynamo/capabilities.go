package dynamo

// The store's capabilities: each domain capability's store interface is met by a type
// of its own here, with the methods of the file named after it, over the one table's
// plumbing (Store). Where a capability also reads what another writes (everyone's
// Person, the outbox, a round's events), its type embeds that one's.
type (
	// PeopleStore reads a person (membership.go).
	PeopleStore struct{ *Store }
	// RequestStore counts requests against the rate limits (ratelimit.go).
	RequestStore struct{ *Store }
	// OutboxStore queues, claims and settles outbox items (outbox.go).
	OutboxStore struct{ *Store }
	// MemberStore lists and counts a group's members, and imports them (members.go).
	MemberStore struct{ *Store }
	// SuppressionStore keeps the addresses that must not be sent to (suppression.go).
	SuppressionStore struct{ *Store }

	// MembershipStore is pg.MembershipStore: sign-ups and memberships (membership.go).
	MembershipStore struct {
		*Store
		PeopleStore
		RequestStore
	}
	// AccessStore is pg.AccessStore: sign-in links and sessions (access.go).
	AccessStore struct {
		*Store
		PeopleStore
		RequestStore
	}
	// NetworkStore is pg.NetworkStore: groups, roles and the audit trail (network.go,
	// audit.go).
	NetworkStore struct {
		*Store
		MemberStore
	}
	// RegisterStore is pg.RegisterStore: the council register (register.go).
	RegisterStore struct{ *Store }
	// ProposalStore is pg.ProposalStore: proposals and interest (proposals.go).
	ProposalStore struct {
		*Store
		OutboxStore
	}
	// InvitationStore is pg.InvitationStore: inviting those interested in a proposal.
	InvitationStore struct {
		*Store
		ProposalStore
		PeopleStore
	}
	// RoundStore is pg.RoundStore: rounds, events and publications (rounds.go).
	RoundStore struct {
		*Store
		OutboxStore
	}
	// RSVPStore is pg.RSVPStore: who is going to an event (rsvp.go).
	RSVPStore struct {
		*Store
		RoundStore
	}
	// KitStore is pg.KitStore: kits' heads and revisions (kits.go).
	KitStore struct{ *Store }
	// FeedbackStore is pg.FeedbackStore: SES's events on ledger rows, and suppression
	// (feedback.go).
	FeedbackStore struct {
		*Store
		PeopleStore
	}
	// MailInStore is pg.MailInStore: inbound messages and conversations (mailin.go).
	MailInStore struct{ *Store }
	// LedgerStore claims and settles the announcements' and reminders' ledger rows
	// (ledger.go).
	LedgerStore struct{ *Store }

	// AnnouncementStore is announce.Store: what a round's announcements read and write.
	AnnouncementStore struct {
		LedgerStore
		RoundStore
		NetworkStore
		SuppressionStore
	}
	// ReminderStore is announce.ReminderStore: what the reminders read and write.
	ReminderStore struct {
		LedgerStore
		RSVPStore
		NetworkStore
		PeopleStore
		SuppressionStore
	}
)

// Stores are every capability's store over one table.
type Stores struct {
	Memberships   *MembershipStore
	Access        *AccessStore
	Network       *NetworkStore
	Register      *RegisterStore
	Proposals     *ProposalStore
	Invitations   *InvitationStore
	Rounds        *RoundStore
	RSVPs         *RSVPStore
	Kits          *KitStore
	MailIn        *MailInStore
	Feedback      *FeedbackStore
	Outbox        *OutboxStore
	Members       *MemberStore
	People        *PeopleStore
	Announcements *AnnouncementStore
	Reminders     *ReminderStore
	Privacy       *PrivacyStore
}

// Capabilities returns every capability's store over st.
func Capabilities(st *Store) Stores {
	people, requests, outbox := PeopleStore{st}, RequestStore{st}, OutboxStore{st}
	network := NetworkStore{st, MemberStore{st}}
	proposals := ProposalStore{st, outbox}
	rounds := RoundStore{st, outbox}
	rsvps := RSVPStore{st, rounds}
	return Stores{
		Memberships:   &MembershipStore{st, people, requests},
		Access:        &AccessStore{st, people, requests},
		Network:       &network,
		Register:      &RegisterStore{st},
		Proposals:     &proposals,
		Invitations:   &InvitationStore{st, proposals, people},
		Rounds:        &rounds,
		RSVPs:         &rsvps,
		Kits:          &KitStore{st},
		MailIn:        &MailInStore{st},
		Feedback:      &FeedbackStore{st, people},
		Outbox:        &outbox,
		Members:       &MemberStore{st},
		People:        &people,
		Announcements: &AnnouncementStore{LedgerStore{st}, rounds, network, SuppressionStore{st}},
		Reminders:     &ReminderStore{LedgerStore{st}, rsvps, network, people, SuppressionStore{st}},
		Privacy:       &PrivacyStore{st, rsvps},
	}
}

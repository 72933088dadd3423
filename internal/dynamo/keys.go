// Package dynamo keeps the domain in one DynamoDB table.
package dynamo

import (
	"fmt"
	"strings"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// The table has a partition key pk, a sort key sk and one global secondary index,
// gsi1 (gsi1pk, gsi1sk). Every item and access pattern is listed here, so that the
// design can be reviewed in one sitting. No request path uses Scan.
//
//	item                 pk                  sk                  gsi1pk            gsi1sk
//	person's profile     PERSON#<email>      PROFILE
//	pending sign-up      PERSON#<email>      SIGNUP              (ttl)
//	membership           PERSON#<email>      MEMBERSHIP#<group>  GROUP#<group>     <status>#<email>
//	pending membership   PERSON#<email>      PENDING#<group>     GROUP#<group>     pending#<email>  (ttl)
//	interest in region   PERSON#<email>      INTEREST#<region>   INTEREST#<region> <email>
//	group                GROUPS              GROUP#<group>
//	council              COUNCILS            COUNCIL#<code>
//	rate-limit counter   RATE#<pseudonym>    RATE                                                   (ttl)
//	sign-in link         SIGNIN#<hash>       SIGNIN              LOGIN#<email>     SIGNIN#<hash>    (ttl)
//	session              SESSION#<hash>      SESSION             LOGIN#<email>     SESSION#<hash>   (ttl)
//	admin role           PERSON#<email>      ROLE#admin          ROLE#admin        <email>
//	facilitator role     PERSON#<email>      ROLE#facilitator#<g> GROUP#<group>    facilitator#<email>
//	audit entry          AUDIT               <time>#<random>   (in the audit table, <table>-audit;
//	                                                              older ones in this table)
//	audit entry's person AUDITOF#<keyed hash> <entry's sk>     (in the audit table: a pointer to an entry that
//	                                                              names the person, written with it; trail: where)
//	pending council      PERSON#<email>      REGISTERING#<code>                                     (ttl)
//	register entry       REGISTER            COUNCIL#<code>
//	register contact     REGISTER#<code>     CONTACT#<email>
//	pending proposal     PERSON#<email>      PROPOSING#<id>                                         (ttl)
//	proposal             PROPOSALS           PROPOSAL#<id>
//	pending interest     PERSON#<email>      INTERESTING#<id>                                       (ttl)
//	interested person    PROPOSAL#<id>       INTERESTED#<email>
//	round                ROUNDS              ROUND#<nnnn>
//	group's event        ROUND#<nnnn>        EVENT#<group>  (with its places: going, waiting, answers)
//	answer (RSVP)        ATTEND#<nnnn>#<group> <email>    (status, since, seq: the answer's number)
//	publication          ROUND#<nnnn>        PUBLICATION   (its INSERT on the stream starts the announcements)
//	ledger row           SEND#<nnnn>         <kind>#<group>#<email>   (one per recipient and email: brief, announce)
//	  once sent, also in gsi1:                                  SENT#<ses id>     SENT
//	reminder's row       REMIND#<nnnn>       remind#<group>#<email>   (the reminders' own ledger)
//	suppressed address   SUPPRESSED          <email>        (why; bounce or complaint)
//	erased address       SUPPRESSED          ERASED#<keyed hash>  (never mailed again until it signs up anew)
//	privacy link         PRIVACY#<hash>      <purpose>     (an export or erase link's nonce, until used; ttl)
//	delivery of a person PERSON#<email>      DELIVERY       (transient bounces in a row; why suppressed)
//	settle's progress    PROGRESS#<nnnn>     <run>-<seq>   (counts of one settle: one item each, never shared)
//	                     PROGRESS#<nnnn>     feedback-<SES id> (a row SES's Send event settled for a dead run)
//	resumed sending      ROUND#<nnnn>        PUBLICATION#RESUME#<time>  (its INSERT restarts the announcements; ttl)
//	delivery counts      DELIVERY#<nnnn>     <kind>#<group>  (how many of a round's emails of a kind to a group are at
//	                                                          each delivery state: the feedback function moves one
//	                                                          count with each ledger row's move, in one transaction)
//	outbox item          OUTBOX#<id>         OUTBOX              (ttl; its INSERT on the stream runs the outbox function)
//	kit head             KIT#<nnnn>#<kit>    HEAD          (<kit> is "core"; the head revision's number and hash)
//	kit revision         KIT#<nnnn>#<kit>    REV#<nnnnnn>  (hash, parent, author, time, change note; never changed)
//	inbound message seen INBOUND#<ses id>    INBOUND       (its conversation: the same delivery twice is stored once)
//	conversation         CONV#<ref>          CONV                INBOX#<status>    <updated>#<ref>
//	inbound message      CONV#<ref>          MSG#<received>#<ses id>  (what was read of it; the raw message is in S3)
//	                                                                 gsi1: SENDER#<from>  MSG#<received>#<ses id>
//	attachment's use     FILE#<object key>   <ses id>      (a message whose attachment is stored at the key; ttl as the message)
//	variant's lineage    KITS#<nnnn>         LINEAGE#<group>  (parent kit, base and copied revisions of a group's variant)
//	variant's merge      KIT#<nnnn>#<group>  MERGE         (a merge in progress: the revisions merged, the answers so far)
//	used upload token    UPLOAD#<hash>       UPLOAD        (a kit file's upload, checked once; ttl)
//	kit suggestion       KIT#<nnnn>#core     SUGGEST#<id>  (a group's section offered to the core kit, and its outcome)
//	group's address      MAILBOX#<local>     MAILBOX       (the group holding it; a former one's until, ttl)
//	outbox item, sent    OUTBOX#<id>         OUTBOX        gsi1: SENT#<ses id>  SENT  (its conversation, if any)
//	authored, by whom    AUTHOR#<email>      <item pk>#<item sk>#<attribute>  (an item that names a facilitator or
//	                                                          admin by address in that attribute: a kit revision's author,
//	                                                          a suggestion's by or decidedBy, a lineage's copiedBy, a
//	                                                          merge's startedBy, a reply's by; what, round, kit, group, ref)
//
// Membership and pending-membership items also carry the person's name, council,
// organisation and job title, written when they join, so that a group's members list
// is one Query of gsi1.
//
// Access patterns:
//   - everything about a person (sign-up, confirm, manage, unsubscribe): Query pk = PERSON#<email>
//   - every group (home page, join form): Query pk = GROUPS
//   - one group, for an edit form and the change it makes: GetItem pk = GROUPS, sk = GROUP#<group>,
//     strongly consistent; the change is an UpdateItem of the changed attributes only,
//     conditioned on the group's version attribute
//   - a group's members by status (consoles, announcements): Query gsi1 gsi1pk = GROUP#<group>,
//     begins_with(gsi1sk, "<status>#"); the members page reads 101 at a time from a key
//     rebuilt from the address a sealed cursor carries (forward, or backward for the page before)
//   - who is waiting for a group in a region: Query gsi1 gsi1pk = INTEREST#<region>
//   - every council (the register): Query pk = COUNCILS
//   - a rate-limit counter: UpdateItem on RATE#<pseudonym> inside the write it guards
//   - a sign-in link or a session: GetItem on its hash; using a link is a conditional DeleteItem
//   - a group's facilitators: Query gsi1 gsi1pk = GROUP#<group>, begins_with(gsi1sk, "facilitator#")
//   - the appointed admins: Query gsi1 gsi1pk = ROLE#admin
//   - the audit trail, newest first: Query pk = AUDIT of the audit table, descending, 50 a
//     page, then of this table (entries from before the audit table); an entry is added
//     with a conditional Put inside the transaction of its change and never changed
//   - the council register: Query pk = REGISTER; an entry's contacts: Query pk = REGISTER#<code>
//   - proposals: Query pk = PROPOSALS; one: GetItem; who is interested: Query pk = PROPOSAL#<id>
//   - a pending council sign-up, proposal or interest: GetItem in the person's partition
//   - rounds: Query pk = ROUNDS; a round's events and publication: Query pk = ROUND#<nnnn>
//   - one person's answer for an event: GetItem ATTEND#<nnnn>#<group> / <email>; an event's
//     answers and its waiting list (ordered by seq): Query pk = ATTEND#<nnnn>#<group>, consistent.
//     Every change of answer is one transaction that writes the answer conditioned on the
//     one read, and the event's counters conditioned on its answers count (and capacity)
//   - the ledger of a round: BatchGetItem of a batch's rows; claims are conditional writes
//     (one transaction of conditional updates, for announcements and reminders alike)
//   - a reminder's row: GetItem REMIND#<nnnn> / remind#<group>#<email>
//   - the email of ours a reply answers (mail in): Query gsi1 gsi1pk = SENT#<ses id>, the
//     SES message ID its In-Reply-To names. The settle that records a row's message ID
//     writes these index keys in the same UpdateItem: no extra item, no extra request,
//     one index write per recipient (a ledger row is otherwise in no index)
//   - a transactional email (an outbox item) a reply answers: the same Query; the outbox's
//     settle writes the keys with the SES message ID the send returned
//   - the group an address at the groups' domain goes to (mail in, and the SMTP
//     listener's RCPT): GetItem MAILBOX#<local> / MAILBOX, then (none) the group whose
//     ID it is: GetItem GROUPS / GROUP#<local>. A change of address is one transaction
//     (the group, both claims conditioned on no other group holding them, the audit)
//   - the suppression list (the announcer reads it once a run): Query pk = SUPPRESSED;
//     one address (the outbox, before each transactional email): GetItem SUPPRESSED / <email>;
//     an erased address: GetItem SUPPRESSED / ERASED#<hash>, deleted in the transaction
//     of a confirmed sign-up
//   - a privacy link: GetItem PRIVACY#<hash> / <purpose>; using it is a conditional
//     DeleteItem (unexpired). Everything about a person, for export and erasure:
//     Query pk = PERSON#<email>, Query pk = ROUNDS, then BatchGetItem of their answers
//     (ATTEND#<nnnn>#<group> / <email>) and ledger rows (SEND#/REMIND#<nnnn> /
//     <kind>#<group>#<email>) for each round and each group they belonged to, and
//     GetItem SUPPRESSED / <email>; the messages they sent us: Query gsi1
//     gsi1pk = SENDER#<email>; their sign-ups elsewhere: Query pk = REGISTER and
//     pk = PROPOSALS, then BatchGetItem of REGISTER#<code> / CONTACT#<email> and
//     PROPOSAL#<id> / INTERESTED#<email>; the audit entries about them: Query
//     pk = AUDITOF#<keyed hash> of the audit table (their pointers only, never the whole
//     trail), BatchGetItem of the entries they point to (in the audit table, or older ones
//     in this table), then BatchGetItem of the outbox items those entries name
//   - whether a stored attachment (content-addressed, so shared by every message with
//     the same bytes) is still used by a message an erasure keeps: Query pk = FILE#<key>
//   - an SES event: UpdateItem of the outbox item its tags name, or for a ledger row
//     GetItem, then a transaction moving the row and its DELIVERY count; a
//     transient bounce an UpdateItem of the person's DELIVERY item (a set of message
//     IDs, so each counts once); a suppression one transaction (SUPPRESSED, DELIVERY,
//     the audit entry, and a complaint's memberships)
//   - a round's progress: GetItem of its PUBLICATION and Query pk = PROGRESS#<nnnn> (summed;
//     by group too, from the progress items' groupId)
//   - a round's delivery figures: Query pk = DELIVERY#<nnnn> (an item per email and
//     group); before each batch, the announcer's circuit breaker reads them and
//     GetItem PUBLICATION (paused, and the figures it was armed at)
//   - a page of a round's recipients (admins): Query pk = SEND#<nnnn>, Limit 100, from
//     the last row of the page before
//   - an outbox item: written inside the transaction of the change it follows; the outbox
//     function reads it from the stream's key and claims and settles it with conditional
//     UpdateItems (no Query: nothing lists the outbox)
//   - a kit's head: GetItem KIT#<nnnn>#<kit> / HEAD, consistent; a save is one transaction
//     that puts the head conditioned on the number and hash of the head the editor saw,
//     and puts the new revision's item conditioned on its absence. The documents
//     themselves are in the kits bucket (S3), at kits/objects/<sha256>.json
//   - a kit's history: Query pk = KIT#<nnnn>#<kit>, begins_with(sk, "REV#")
//   - a group's variant's lineage: GetItem KITS#<nnnn> / LINEAGE#<group>, consistent; made
//     in the transaction of the variant's first revision, its base moved in the
//     transaction of a merge revision (whose REV# item also names the merged revision)
//   - every variant of a round (the lineage map, the kits one may take): Query
//     pk = KITS#<nnnn>, begins_with(sk, "LINEAGE#")
//   - a variant's merge in progress: GetItem, PutItem and DeleteItem KIT#<nnnn>#<group> / MERGE
//   - a round's suggestions to its core kit (the suggestions page, its count on the kit
//     page, a group's outcomes on its variant page): Query pk = KIT#<nnnn>#core,
//     begins_with(sk, "SUGGEST#"); one is answered by an UpdateItem conditioned on its
//     being still open
//   - what a facilitator or admin wrote or did (their export and erasure): Query
//     pk = AUTHOR#<email>, then BatchGetItem of the items listed (and of the HEAD of each
//     kit whose revision is listed); erasure replaces the address in each by an
//     UpdateItem conditioned on its still holding it. Each AUTHOR# item is put in the
//     transaction that writes the item it lists (authored.go). The roles they gave and
//     a group's contact: Query pk = GROUPS, then gsi1 GROUP#<group> facilitator# and
//     ROLE#admin. Their sessions and sign-in links: Query gsi1 gsi1pk = LOGIN#<email>.
//     Items from before these lists: the backfill-authors command (one Scan, off the
//     request path)
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrGSI1PK = "gsi1pk"
	attrGSI1SK = "gsi1sk"
	attrTTL    = "ttl"
	indexGSI1  = "gsi1"

	// attrRound is the round number on a publication item and on its resume items,
	// which the stream handler reads.
	attrRound = "round"
)

// Partitions and sort keys that are always the same.
const (
	skProfile    = "PROFILE"
	skSignup     = "SIGNUP"
	skDelivery   = "DELIVERY"
	skRate       = "RATE"
	skSignIn     = "SIGNIN"
	skSession    = "SESSION"
	pkAudit      = "AUDIT"
	pkRegister   = "REGISTER"
	pkProposals  = "PROPOSALS"
	pkRounds     = "ROUNDS"
	pkGroups     = "GROUPS"
	pkCouncil    = "COUNCILS"
	pkSuppressed = "SUPPRESSED"
	skKitHead    = "HEAD"
)

// What an item of a person's partition is: the part of its sort key before the first
// '#' (see kindOf), besides PROFILE and SIGNUP.
const (
	kindMembership  = "MEMBERSHIP"
	kindPending     = "PENDING"
	kindInterest    = "INTEREST"
	kindRole        = "ROLE"
	kindRegistering = "REGISTERING"
	kindProposing   = "PROPOSING"
	kindInteresting = "INTERESTING"
)

const (
	prefixPerson   = "PERSON#"
	prefixGroup    = "GROUP#"
	prefixEvent    = "EVENT#"
	prefixRole     = "ROLE#"
	prefixOutbox   = "OUTBOX#"
	prefixInterest = kindInterest + "#"

	prefixKitRevision = "REV#"
)

func personPK(email string) string              { return prefixPerson + email }
func membershipSK(group string) string          { return kindMembership + "#" + group }
func pendingSK(group string) string             { return kindPending + "#" + group }
func interestSK(region string) string           { return prefixInterest + region }
func groupSK(group string) string               { return prefixGroup + group }
func councilSK(code string) string              { return "COUNCIL#" + code }
func rateLimitPK(pseudonym string) string       { return "RATE#" + pseudonym }
func groupMembersPK(group string) string        { return prefixGroup + group }
func groupMemberSK(status, email string) string { return groupMemberPrefix(status) + email }
func groupMemberPrefix(status string) string    { return status + "#" }
func interestPK(region string) string           { return prefixInterest + region }
func registeringSK(code string) string          { return kindRegistering + "#" + code }
func registerContactsPK(code string) string     { return "REGISTER#" + code }
func contactSK(email string) string             { return "CONTACT#" + email }
func proposingSK(id string) string              { return kindProposing + "#" + id }
func proposalSK(id string) string               { return "PROPOSAL#" + id }
func interestingSK(id string) string            { return kindInteresting + "#" + id }
func interestedPK(id string) string             { return "PROPOSAL#" + id }
func interestedSK(email string) string          { return "INTERESTED#" + email }
func roundSK(n int) string                      { return fmt.Sprintf("ROUND#%04d", n) }
func roundPK(n int) string                      { return fmt.Sprintf("ROUND#%04d", n) }
func eventSK(group string) string               { return prefixEvent + group }
func ledgerPK(n int) string                     { return fmt.Sprintf("SEND#%04d", n) }
func reminderPK(n int) string                   { return fmt.Sprintf("REMIND#%04d", n) }
func progressPK(n int) string                   { return fmt.Sprintf("PROGRESS#%04d", n) }
func deliveryPK(n int) string                   { return fmt.Sprintf("DELIVERY#%04d", n) }
func signInPK(hash string) string               { return "SIGNIN#" + hash }
func sessionPK(hash string) string              { return "SESSION#" + hash }

// loginsPK lists a person's sessions and sign-in links in gsi1 (gsi1sk: the item's
// pk), so that their erasure ends them.
func loginsPK(email string) string { return "LOGIN#" + pg.NormaliseEmail(email) }

// kitPK is the partition of a round's kit (CoreKit, for now); kitRevisionSK numbers its
// revisions so that they sort in the order they were saved.
func kitPK(round int, kit string) string { return fmt.Sprintf("KIT#%04d#%s", round, kit) }
func kitRevisionSK(n int) string         { return fmt.Sprintf("%s%06d", prefixKitRevision, n) }

// kitsPK is the partition of a round's variants' lineages; kitLineageSK is a variant's.
func kitsPK(round int) string        { return fmt.Sprintf("KITS#%04d", round) }
func kitLineageSK(kit string) string { return prefixKitLineage + kit }

const (
	prefixKitLineage = "LINEAGE#"
	skKitMerge       = "MERGE"
)

// kitSuggestionSK is a suggestion to a round's core kit, in its partition (kitPK
// with pg.CoreKit); its ID sorts by when it was made.
func kitSuggestionSK(id string) string { return prefixKitSuggestion + id }

const prefixKitSuggestion = "SUGGEST#"

// uploadPK is the item that records the use of an upload's token, by its nonce's
// hash: a conditional PutItem, so that a token works once.
func uploadPK(hash string) string { return "UPLOAD#" + hash }

const skUpload = "UPLOAD"

// emailOfPersonPK returns the address of a person's partition key.
func emailOfPersonPK(pk string) string { return strings.TrimPrefix(pk, prefixPerson) }

// ledgerSK is a ledger row's sort key in its round's ledger (SEND#<nnnn> for the
// brief and the announcements, REMIND#<nnnn> for the reminders): <kind>#<group>#<email>.
func ledgerSK(id pg.LedgerID) string { return string(id.Kind) + "#" + id.Group + "#" + id.Email }

// auditOfPK is the partition, in the audit table, of the pointers to the entries that
// name a person (by pg.MailOutTarget's keyed hash): apart from the trail's AUDIT
// partition, so that the trail's pages list entries only.
func auditOfPK(hash string) string { return "AUDITOF#" + hash }

// auditSK is an audit entry's sort key: its time to the microsecond, then a random
// suffix, so that entries sort by time and never collide.
func auditSK(at time.Time, suffix string) string {
	return at.UTC().Format("2006-01-02T15:04:05.000000Z") + "#" + suffix
}

// PublicationSK is the sort key of a round's publication; its INSERT on the table's
// stream, and the INSERT of each PUBLICATION#RESUME#<time> item, start the
// announcements. The stream filter in template.yaml passes the INSERTs of sort keys
// with this prefix; a test holds the two and IsPublication together.
const PublicationSK = "PUBLICATION"

const skPublication = PublicationSK

// publicationResumePrefix starts the sort key of each resume of a round's sending.
const publicationResumePrefix = PublicationSK + "#RESUME#"

func resumeSK(at string) string { return publicationResumePrefix + at }

// IsPublication reports whether an item inserted with these keys' sort key starts a
// round's announcements: its publication, or a resume of it.
func IsPublication(sk string) bool {
	return sk == PublicationSK || strings.HasPrefix(sk, publicationResumePrefix)
}

// PublicationRoundAttribute is the attribute of a publication (and of its resume
// items) that holds the round's number, as the stream handler reads it.
const PublicationRoundAttribute = attrRound

// SortKeyAttribute and PartitionKeyAttribute are the names of the table's keys, as a
// stream record carries them.
const (
	PartitionKeyAttribute = attrPK
	SortKeyAttribute      = attrSK
)

// attendancePK is the partition of an event's answers, one item per person (sort key:
// their email).
func attendancePK(round int, group string) string {
	return fmt.Sprintf("ATTEND#%04d#%s", round, group)
}

// OutboxSK is the sort key of every outbox item: the outbox function's stream filter
// (template.yaml) passes INSERTs with this sort key, and a test holds the two together.
const OutboxSK = "OUTBOX"

func outboxPK(id string) string { return prefixOutbox + id }

// OutboxID returns the ID of the outbox item with these keys, if it is one.
func OutboxID(pk, sk string) (string, bool) {
	id, ok := strings.CutPrefix(pk, prefixOutbox)
	return id, ok && sk == OutboxSK && id != ""
}

// roleSK is a role's sort key in the person's partition: ROLE#admin, ROLE#facilitator#<group>.
func roleSK(role, group string) string {
	if group == "" {
		return prefixRole + role
	}
	return prefixRole + role + "#" + group
}

// roleIndexKeys returns where a role is listed in gsi1: admins under ROLE#admin, a
// group's facilitators in the group's partition.
func roleIndexKeys(role, group, email string) (string, string) {
	if group == "" {
		return prefixRole + role, email
	}
	return groupMembersPK(group), role + "#" + email
}

// kindOf returns what an item of a person's partition is, from its sort key.
func kindOf(sk string) (kind, rest string) {
	if i := strings.IndexByte(sk, '#'); i >= 0 {
		return sk[:i], sk[i+1:]
	}
	return sk, ""
}

// Privacy.
func erasedSK(hash string) string  { return "ERASED#" + hash }
func privacyPK(hash string) string { return "PRIVACY#" + hash }

// senderPK lists the messages an address sent us (gsi1), for its export and erasure.
func senderPK(email string) string { return "SENDER#" + pg.NormaliseEmail(email) }

// attachmentUsePK is the partition listing the messages whose attachment is stored at
// an object key (one item per message, sk its SES message ID).
func attachmentUsePK(objectKey string) string { return "FILE#" + objectKey }

// Mail in.
const (
	skInbound      = "INBOUND"
	skConversation = "CONV"
	// A conversation assigned to a group has a second item (pk CONV#<ref>), a copy of
	// it listed in gsi1 under its group and status (groupInboxPK), so that a
	// facilitator's inbox queries their groups' partitions only.
	skConversationGroup = "CONV#GROUP"
)

func inboundPK(sesID string) string    { return "INBOUND#" + sesID }
func conversationPK(ref string) string { return "CONV#" + ref }
func inboxPK(status string) string     { return "INBOX#" + status }

// groupInboxPK lists a group's conversations of a status (gsi1, sk <updated>#<ref>):
// a facilitator's inbox.
func groupInboxPK(group, status string) string { return "GROUPINBOX#" + group + "#" + status }
func inboundSK(received time.Time, sesID string) string {
	return "MSG#" + stampMilli(received) + "#" + sesID
}

// sentMailPK lists a sent ledger row in gsi1 under its email's SES message ID (with
// skSentMail as gsi1sk): the email a reply answers.
func sentMailPK(sesID string) string { return "SENT#" + sesID }

const skSentMail = "SENT"

// mailboxPK is an address at the groups' domain a group holds (its local part).
func mailboxPK(local string) string { return "MAILBOX#" + local }

const skMailbox = "MAILBOX"

package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

type (
	proposalItem struct {
		ID             string `dynamodbav:"id"`
		Area           string `dynamodbav:"area"`
		ProposerName   string `dynamodbav:"proposerName"`
		ProposerEmail  string `dynamodbav:"proposerEmail"`
		Why            string `dynamodbav:"why"`
		CoFacilitators string `dynamodbav:"coFacilitators"`
		Status         string `dynamodbav:"status"`
		CreatedAt      string `dynamodbav:"createdAt"`
		Interested     int    `dynamodbav:"interested"`
		GroupID        string `dynamodbav:"groupId"`
		Reason         string `dynamodbav:"reason"`
		ListedAt       string `dynamodbav:"listedAt,omitempty"`
		NonceHash      string `dynamodbav:"nonceHash,omitempty"`
		ExpiresAt      string `dynamodbav:"expiresAt,omitempty"`
	}
	interestedItem struct {
		ProposalID string `dynamodbav:"proposalId"`
		Email      string `dynamodbav:"email"`
		Name       string `dynamodbav:"name"`
		At         string `dynamodbav:"at"`
		InvitedAt  string `dynamodbav:"invitedAt"`
		NonceHash  string `dynamodbav:"nonceHash,omitempty"`
		ExpiresAt  string `dynamodbav:"expiresAt,omitempty"`
	}
)

func proposalOf(it proposalItem) pg.Proposal {
	return pg.Proposal{ID: it.ID, Area: it.Area, ProposerName: it.ProposerName, ProposerEmail: it.ProposerEmail, Why: it.Why,
		CoFacilitators: it.CoFacilitators, Status: it.Status, CreatedAt: parseStamp(it.CreatedAt), Interested: it.Interested,
		GroupID: it.GroupID, Reason: it.Reason, ListedAt: parseStamp(it.ListedAt)}
}

func itemOfProposal(p pg.Proposal) proposalItem {
	return proposalItem{ID: p.ID, Area: p.Area, ProposerName: p.ProposerName, ProposerEmail: p.ProposerEmail, Why: p.Why,
		CoFacilitators: p.CoFacilitators, Status: p.Status, CreatedAt: stamp(p.CreatedAt), Interested: p.Interested,
		GroupID: p.GroupID, Reason: p.Reason, ListedAt: stampIfSet(p.ListedAt)}
}

// SavePendingProposal stores a proposal waiting for its proposer to confirm it.
func (st *ProposalStore) SavePendingProposal(ctx context.Context, p pg.PendingProposal, limits []pg.RateLimit, out ...pg.OutboxItem) error {
	it := itemOfProposal(p.Proposal)
	it.NonceHash, it.ExpiresAt = p.NonceHash, stamp(p.ExpiresAt)
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode proposal: %w", err)
	}
	item[attrPK], item[attrSK], item[attrTTL] = s(personPK(p.ProposerEmail)), s(proposingSK(p.ID)), n(p.ExpiresAt.Add(pg.SignupRetention).Unix())
	items := append(rateUpdates(st.Table, limits), types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: item}})
	if items, err = st.withOutbox(items, out); err != nil {
		return err
	}
	return st.transact(ctx, "save proposal", items, len(limits))
}

// PendingProposal reads a proposal waiting for confirmation.
func (st *ProposalStore) PendingProposal(ctx context.Context, email, id string) (pg.PendingProposal, error) {
	var it proposalItem
	if err := st.get(ctx, personPK(email), proposingSK(id), &it); err != nil {
		return pg.PendingProposal{}, err
	}
	return pg.PendingProposal{Proposal: proposalOf(it), NonceHash: it.NonceHash, ExpiresAt: parseStamp(it.ExpiresAt)}, nil
}

// ConfirmProposal publishes a proposal, with its proposer as the first interested
// person, deleting the pending one on condition that its nonce is unchanged.
func (st *ProposalStore) ConfirmProposal(ctx context.Context, p pg.PendingProposal, at time.Time) error {
	prop := p.Proposal
	prop.CreatedAt, prop.Interested, prop.Status = at, 1, pg.ProposalOpen
	item, err := attributevalue.MarshalMap(itemOfProposal(prop))
	if err != nil {
		return fmt.Errorf("encode proposal: %w", err)
	}
	item[attrPK], item[attrSK] = s(pkProposals), s(proposalSK(p.ID))
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: aws.String(st.Table), Key: key(personPK(p.ProposerEmail), proposingSK(p.ID)),
			ConditionExpression:       aws.String("nonceHash = :h"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":h": s(p.NonceHash)},
		}},
		{Put: &types.Put{TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
			attrPK: s(interestedPK(p.ID)), attrSK: s(interestedSK(p.ProposerEmail)),
			"proposalId": s(p.ID), "email": s(p.ProposerEmail), "name": s(p.ProposerName), "at": s(stamp(at)),
		}}},
	}
	err = st.transact(ctx, "confirm proposal", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return pg.ErrLinkUsed
	}
	return err
}

// Proposals returns every proposal.
func (st *ProposalStore) Proposals(ctx context.Context) ([]pg.Proposal, error) {
	var items []proposalItem
	if err := st.queryAll(ctx, pkProposals, &items); err != nil {
		return nil, err
	}
	out := make([]pg.Proposal, len(items))
	for i, it := range items {
		out[i] = proposalOf(it)
	}
	return out, nil
}

// Proposal returns one proposal.
func (st *ProposalStore) Proposal(ctx context.Context, id string) (pg.Proposal, error) {
	var it proposalItem
	if err := st.get(ctx, pkProposals, proposalSK(id), &it); err != nil {
		return pg.Proposal{}, err
	}
	return proposalOf(it), nil
}

// SavePendingInterest stores an interest waiting for confirmation.
func (st *ProposalStore) SavePendingInterest(ctx context.Context, p pg.PendingInterest, limits []pg.RateLimit, out ...pg.OutboxItem) error {
	item, err := attributevalue.MarshalMap(interestedItem{ProposalID: p.ProposalID, Email: p.Email, Name: p.Name, NonceHash: p.NonceHash, ExpiresAt: stamp(p.ExpiresAt)})
	if err != nil {
		return fmt.Errorf("encode interest: %w", err)
	}
	item[attrPK], item[attrSK], item[attrTTL] = s(personPK(p.Email)), s(interestingSK(p.ProposalID)), n(p.ExpiresAt.Add(pg.SignupRetention).Unix())
	items := append(rateUpdates(st.Table, limits), types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: item}})
	if items, err = st.withOutbox(items, out); err != nil {
		return err
	}
	return st.transact(ctx, "save interest", items, len(limits))
}

// PendingInterest reads an interest waiting for confirmation.
func (st *ProposalStore) PendingInterest(ctx context.Context, email, id string) (pg.PendingInterest, error) {
	var it interestedItem
	if err := st.get(ctx, personPK(email), interestingSK(id), &it); err != nil {
		return pg.PendingInterest{}, err
	}
	return pg.PendingInterest{ProposalID: it.ProposalID, Email: it.Email, Name: it.Name, NonceHash: it.NonceHash, ExpiresAt: parseStamp(it.ExpiresAt)}, nil
}

// ConfirmInterest records an interest and counts it, in one transaction: the pending
// interest is deleted on condition that its nonce is unchanged, the interested person
// is added only if new, and the count goes up only while the proposal is open.
func (st *ProposalStore) ConfirmInterest(ctx context.Context, p pg.PendingInterest, at time.Time) error {
	del := types.TransactWriteItem{Delete: &types.Delete{
		TableName: aws.String(st.Table), Key: key(personPK(p.Email), interestingSK(p.ProposalID)),
		ConditionExpression:       aws.String("nonceHash = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": s(p.NonceHash)},
	}}
	items := []types.TransactWriteItem{
		del,
		{Put: &types.Put{TableName: aws.String(st.Table), ConditionExpression: aws.String("attribute_not_exists(pk)"), Item: map[string]types.AttributeValue{
			attrPK: s(interestedPK(p.ProposalID)), attrSK: s(interestedSK(p.Email)),
			"proposalId": s(p.ProposalID), "email": s(p.Email), "name": s(p.Name), "at": s(stamp(at)),
		}}},
		{Update: &types.Update{
			TableName: aws.String(st.Table), Key: key(pkProposals, proposalSK(p.ProposalID)),
			UpdateExpression:          aws.String("ADD interested :one"),
			ConditionExpression:       aws.String("#status = :open"),
			ExpressionAttributeNames:  map[string]string{"#status": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1), ":open": s(pg.ProposalOpen)},
		}},
	}
	err := st.transact(ctx, "confirm interest", items, 0)
	cancelled, ok := errors.AsType[*types.TransactionCanceledException](err)
	switch {
	case !ok:
		return err
	case reasonAt(cancelled, 0) == "ConditionalCheckFailed":
		return pg.ErrLinkUsed
	case reasonAt(cancelled, 2) == "ConditionalCheckFailed":
		return pg.Errorf(pg.KindGone, "This proposal is closed.")
	case reasonAt(cancelled, 1) == "ConditionalCheckFailed":
		// Interested already: use up the link, count nothing.
		if err := st.transact(ctx, "use interest link", []types.TransactWriteItem{del}, 0); err != nil {
			return err
		}
		return pg.Errorf(pg.KindConflict, "You have already said you are interested.")
	}
	return err
}

// InterestedIn lists the people interested in a proposal.
func (st *ProposalStore) InterestedIn(ctx context.Context, id string) ([]pg.Interested, error) {
	var items []interestedItem
	if err := st.queryAll(ctx, interestedPK(id), &items); err != nil {
		return nil, err
	}
	out := make([]pg.Interested, len(items))
	for i, it := range items {
		out[i] = pg.Interested{Email: it.Email, Name: it.Name, At: parseStamp(it.At), InvitedAt: parseStamp(it.InvitedAt)}
	}
	return out, nil
}

// DecideProposal closes an open proposal and, when approving, creates its group and
// makes the proposer its facilitator, with the audit entry, all or nothing.
func (st *ProposalStore) DecideProposal(ctx context.Context, p pg.Proposal, g *pg.Group, a pg.AuditEntry, out ...pg.OutboxItem) error {
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(st.Table), Key: key(pkProposals, proposalSK(p.ID)),
		UpdateExpression:          aws.String("SET #status = :status, groupId = :group, #reason = :reason"),
		ConditionExpression:       aws.String("#status = :open"),
		ExpressionAttributeNames:  map[string]string{"#status": "status", "#reason": "reason"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":status": s(p.Status), ":group": s(p.GroupID), ":reason": s(p.Reason), ":open": s(pg.ProposalOpen)},
	}}}
	if g != nil {
		put, err := st.groupPut(*g, "attribute_not_exists(pk)")
		if err != nil {
			return err
		}
		ipk, isk := roleIndexKeys(pg.RoleFacilitator, g.ID, p.ProposerEmail)
		items = append(items, put, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
			attrPK: s(personPK(p.ProposerEmail)), attrSK: s(roleSK(pg.RoleFacilitator, g.ID)), attrGSI1PK: s(ipk), attrGSI1SK: s(isk),
			"email": s(p.ProposerEmail), "role": s(pg.RoleFacilitator), "groupId": s(g.ID), "at": s(stamp(a.At)), "by": s(a.Actor),
		}}})
	}
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	if items, err = st.withOutbox(append(items, audit), out); err != nil {
		return err
	}
	if g != nil {
		// Its ID is its address: not one another group holds (see groupaddress.go).
		items = append(items, st.mailboxFree(g.ID, g.ID, a.At))
	}
	err = st.transact(ctx, "decide proposal", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
		switch {
		case reasonAt(cancelled, 0) == "ConditionalCheckFailed":
			return pg.Errorf(pg.KindConflict, "This proposal has already been decided.")
		case g != nil && reasonAt(cancelled, 1) == "ConditionalCheckFailed":
			return pg.Errorf(pg.KindConflict, "There is already a group with the short name %s", g.ID)
		case g != nil && reasonAt(cancelled, len(items)-1) == "ConditionalCheckFailed":
			return pg.Errorf(pg.KindConflict, "Another group’s email address is %s: choose another short name", g.ID)
		}
	}
	return err
}

// ListProposal sets when an open proposal was approved for the public list, with the
// audit entry, on condition that it is open and not listed yet.
func (st *ProposalStore) ListProposal(ctx context.Context, p pg.Proposal, a pg.AuditEntry) error {
	audit, err := st.auditPut(a)
	if err != nil {
		return err
	}
	err = st.transact(ctx, "list proposal", []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(st.Table), Key: key(pkProposals, proposalSK(p.ID)),
		UpdateExpression:          aws.String("SET listedAt = :at"),
		ConditionExpression:       aws.String("#status = :open AND attribute_not_exists(listedAt)"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": s(stamp(p.ListedAt)), ":open": s(pg.ProposalOpen)},
	}}, audit}, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return pg.Errorf(pg.KindConflict, "This proposal has been decided or listed meanwhile.")
	}
	return err
}

// MarkInvited records that an interested person was invited, in one transaction with
// the outbox item of their invitation; false (and nothing written) if they already were.
func (st *InvitationStore) MarkInvited(ctx context.Context, id, email string, at time.Time, out ...pg.OutboxItem) (bool, error) {
	items, err := st.withOutbox([]types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(st.Table), Key: key(interestedPK(id), interestedSK(email)),
		UpdateExpression:          aws.String("SET invitedAt = :at"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(invitedAt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": s(stamp(at))},
	}}}, out)
	if err != nil {
		return false, err
	}
	err = st.transact(ctx, "mark invited", items, 0)
	if cancelled, ok := errors.AsType[*types.TransactionCanceledException](err); ok && reasonAt(cancelled, 0) == "ConditionalCheckFailed" {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// AcceptInvitation makes a person a member of a group, creating their profile (with
// the evidence of consent) when they have none.
func (st *InvitationStore) AcceptInvitation(ctx context.Context, p pg.Person, profile pg.Profile, group string, at time.Time) error {
	items := []types.TransactWriteItem{st.joinItem(p.Email, group, "invitation", profile, at, false)}
	if !p.Known {
		item, err := attributevalue.MarshalMap(profileItem{Email: p.Email, Name: profile.Name, ConsentAt: stamp(profile.ConsentAt), ConsentForm: profile.ConsentForm})
		if err != nil {
			return fmt.Errorf("encode profile: %w", err)
		}
		item[attrPK], item[attrSK] = s(personPK(p.Email)), s(skProfile)
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(st.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	}
	return st.transact(ctx, "accept invitation", items, 0)
}

// stampIfSet is stamp, or "" (an attribute left out) for the zero time.
func stampIfSet(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return stamp(t)
}

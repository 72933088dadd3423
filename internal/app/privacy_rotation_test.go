package app_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/mailing"
	"github.com/peergroups/peergroups/internal/app/website"
	"github.com/peergroups/peergroups/internal/dynamo"
	"github.com/peergroups/peergroups/internal/outbox"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/testenv"
)

// testPseudonymKey is a PSEUDONYM_KEY: any secret of at least 32 characters.
const testPseudonymKey = "a-pseudonym-key-that-is-never-rotated-0123456789"

// rotated returns the configuration after a rotation of the link key: a new LINK_KEY,
// the old one as LINK_KEY_PREVIOUS for 90 days, and the same PSEUDONYM_KEY.
func rotated(t *testing.T, cfg app.Config, now time.Time) app.Config {
	t.Helper()
	next := make([]byte, 32)
	if _, err := rand.Read(next); err != nil {
		t.Fatal(err)
	}
	cfg.PreviousLinkKey, cfg.PreviousLinkKeyUntil, cfg.LinkKey = cfg.LinkKey, now.AddDate(0, 0, 90), next
	return cfg
}

// outboxState reads an outbox item's state.
func outboxState(t *testing.T, table, id string) string {
	t.Helper()
	out, err := app.NewClients(testenv.AWSConfig(t)).DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "OUTBOX#" + id}, "sk": &types.AttributeValueMemberS{Value: dynamo.OutboxSK}},
	})
	if err != nil {
		t.Fatal(err)
	}
	state, _ := out.Item["state"].(*types.AttributeValueMemberS)
	if state == nil {
		t.Fatalf("outbox item %s has no state: %v", id, out.Item)
	}
	return state.Value
}

// After the link key is rotated (README, "Rotating the link key"), an erased address is
// still known by the same keyed hash: it stays suppressed (the outbox, composed with the
// new key, sends it nothing it did not ask for), a confirmed sign-up still lifts its
// suppression, and the audit trail's entries about the person still carry the pseudonym
// the service computes for the address now. The pseudonyms are keyed by PSEUDONYM_KEY,
// which a rotation leaves alone.
func TestRotatingTheLinkKeyKeepsErasedAddressesSuppressed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := testenv.Address("rotate-admin")
	// No stream: this test runs the outbox itself, composed with the rotated key.
	s := newSiteWith(t, siteOptions{noStream: true, extra: map[string]string{"ADMIN_EMAILS": admin, "PSEUDONYM_KEY": testPseudonymKey}})
	email := testenv.Address("rotate-erased")
	if err := s.App.Web.Privacy.AdminErase(ctx, pg.Caller{Email: admin, Admin: true}, email); err != nil {
		t.Fatal(err)
	}
	before := s.App.Web.Privacy.AddressHash(email)

	cfg := rotated(t, s.Config, s.Clock.Now())
	after, err := website.New(cfg, app.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	hash := after.Web.Privacy.AddressHash(email)
	if hash != before {
		t.Fatalf("the erased address's hash changed with the link key: %s, then %s", before, hash)
	}
	if erased, err := after.Stores.Privacy.Erased(ctx, hash); err != nil || !erased {
		t.Errorf("after the rotation the erased address is not suppressed: %v %v", erased, err)
	}
	// The audit entry of the erasure names the pseudonym the service computes now.
	if audit := remains(t, s, "erased on a data-protection request"); len(audit) != 1 || audit[0]["target"] != "person "+hash {
		t.Errorf("after the rotation the audit entry of the erasure (%v) is not found by the address's pseudonym %s", audit, hash)
	}

	// The outbox, composed with the rotated key, sends the erased address nothing it did
	// not ask for, and mails anyone else.
	sender, err := mailing.NewOutbox(cfg, mailing.NewClients(testenv.AWSConfig(t)), testenv.Logger(t), app.WithClock(s.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	other := testenv.Address("rotate-other")
	ids := map[string]string{email: "rotate-" + testenv.RandomID(), other: "rotate-" + testenv.RandomID()}
	for to, id := range ids {
		msg := &pg.Message{To: to, Subject: "Download your Peer Groups data", Text: "Your link.", HTML: "<p>Your link.</p>", Kind: "privacy-export"}
		if err := after.Stores.Privacy.SavePrivacyLink(ctx, "export", "nonce-"+id, s.Clock.Now().Add(time.Hour), pg.OutboxItem{ID: id, At: s.Clock.Now(), Message: msg}); err != nil {
			t.Fatal(err)
		}
		if err := sender.Do(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if state := outboxState(t, s.Table, ids[email]); state != outbox.StateSuppressed {
		t.Errorf("an email to the erased address after the rotation: %s, want %s", state, outbox.StateSuppressed)
	}
	if state := outboxState(t, s.Table, ids[other]); state != outbox.StateSent {
		t.Errorf("an email to another address: %s, want %s", state, outbox.StateSent)
	}
	if len(testenv.Mail(t, email)) != 0 {
		t.Error("the erased address was mailed after the rotation")
	}
	// The outbox's audit entry names the recipient by the pseudonym the rotated
	// service computes for their address.
	if sent := remains(t, s, "person "+after.Web.Privacy.AddressHash(other)); len(sent) != 1 {
		t.Errorf("the email sent after the rotation is in the audit trail under its recipient's pseudonym %d times, want once", len(sent))
	}
}

func TestPseudonymKeyMustBeLongEnough(t *testing.T) {
	t.Parallel()
	env := map[string]string{"LINK_KEY": strings.Repeat("A", 43) + "=", "PSEUDONYM_KEY": "too-short"}
	if _, err := app.LoadConfig(func(name string) string { return env[name] }); err == nil || !strings.Contains(err.Error(), "PSEUDONYM_KEY") {
		t.Errorf("a short PSEUDONYM_KEY: %v, want an error naming it", err)
	}
	env["PSEUDONYM_KEY"] = testPseudonymKey
	if cfg, err := app.LoadConfig(func(name string) string { return env[name] }); err != nil || string(cfg.PseudonymKey) != testPseudonymKey {
		t.Errorf("PSEUDONYM_KEY %q: %v", cfg.PseudonymKey, err)
	}
}

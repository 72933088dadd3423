package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/announcing"
	"github.com/peergroups/peergroups/internal/app/feedbacking"
	"github.com/peergroups/peergroups/internal/dynamo"
	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// The cost of running the network for a year at a reference size, worked out from the
// usage the bench metered (DynamoDB's consumed request units, S3's requests, SES's
// emails, the functions' time) and the published prices in prices.json.

//go:embed prices.json
var pricesJSON []byte

type prices struct {
	Region, Date              string
	SESPer1000Emails          float64 `json:"ses_per_1000_emails"`
	SESInboundPer1000Emails   float64 `json:"ses_inbound_per_1000_emails"`
	SESInboundPer1000Chunks   float64 `json:"ses_inbound_per_1000_chunks"`
	DynamoDBPerMillionWrites  float64 `json:"dynamodb_per_million_write_units"`
	DynamoDBPerMillionReads   float64 `json:"dynamodb_per_million_read_units"`
	DynamoDBStoragePerGBMonth float64 `json:"dynamodb_storage_per_gb_month"`
	LambdaPerGBSecond         float64 `json:"lambda_arm64_per_gb_second"`
	LambdaPerMillionRequests  float64 `json:"lambda_per_million_requests"`
	S3StoragePerGBMonth       float64 `json:"s3_storage_per_gb_month"`
	S3Per1000Writes           float64 `json:"s3_per_1000_writes"`
	S3Per1000Reads            float64 `json:"s3_per_1000_reads"`
	SecretPerMonth            float64 `json:"secrets_manager_per_secret_month"`
	AlarmPerMonth             float64 `json:"cloudwatch_per_alarm_month"`
	FreeAlarms                int     `json:"cloudwatch_free_alarms"`
}

// reference is the network whose year is costed.
var reference = struct {
	members, groups, rounds, remindersPerPerson, signups, inbound int
}{5000, 12, 4, 8, 200, 500}

// What the bench cannot measure, stated.
const (
	costMembers = 400 // the members of the round the bench runs, for the per-recipient usage
	// sesRate is SES's default sending quota out of the sandbox, emails a second: an
	// announcement run lasts at least its recipients at that rate, less the share kept
	// for transactional mail.
	sesRate = 14.0
	// outboxSeconds is the time of one outbox invocation (claim, send, settle: three
	// calls of 20 to 30 ms in AWS), taken high.
	outboxSeconds = 0.1
	// storageGB is the table's and the buckets' size taken for storage: the reference
	// network holds a few tens of megabytes, so 1 GB each is generous.
	storageGB = 1.0
	// Memory of the functions, as template.yaml gives them.
	functionGB, announceGB = 0.25, 0.5
)

// costFigures runs one round for costMembers members (announcements, an RSVP from each
// of one group's members, their reminders, an hourly reminders run with nothing due),
// meters it, and prints the year's cost at the reference size, with the sign-up journey
// and the inbound message measured before.
func costFigures(ctx context.Context, out io.Writer, j journey, in inboundUse) error {
	var p prices
	if err := json.Unmarshal(pricesJSON, &p); err != nil {
		return fmt.Errorf("read prices.json: %w", err)
	}
	progress("cost: a round to %d members, RSVPs and reminders, metered", costMembers)
	m := &meter{}
	e, err := newFanoutEnv(ctx, costMembers, 1000, m.middleware)
	if err != nil {
		return err
	}
	log := quietLogger()

	// Announcements, per recipient.
	m.take()
	if err := e.publish(ctx, 1); err != nil {
		return err
	}
	announcer, err := announcing.New(e.cfg, e.clients, log)
	if err != nil {
		return err
	}
	began := time.Now()
	if err := announcer.Run(ctx, 1); err != nil {
		return fmt.Errorf("cost: announce: %w", err)
	}
	announceSeconds := time.Since(began).Seconds() * float64(reference.members) / costMembers
	perRecipient := m.take().per(costMembers)

	// SES's events, as the feedback function applies them: a Send and a Delivery for
	// every email (the usual pair), and a permanent bounce (a suppression).
	group := fanoutGroups[0]
	feedbackService, _, err := feedbacking.New(e.cfg, e.clients.Clients, log)
	if err != nil {
		return err
	}
	apply := func(ev pg.FeedbackEvent) (requests, usage, float64, error) {
		e.counter.take()
		m.take()
		began := time.Now()
		if _, err := feedbackService.Apply(ctx, ev); err != nil {
			return nil, usage{}, 0, fmt.Errorf("cost: feedback %s: %w", ev.Type, err)
		}
		return e.counter.take(), m.take(), time.Since(began).Seconds(), nil
	}
	event := func(typ string, i int) pg.FeedbackEvent {
		return pg.FeedbackEvent{Type: typ, MessageID: fmt.Sprintf("bench-%s-%d", typ, i), At: time.Now(),
			Tags: pg.LedgerTags(1, pg.LedgerAnnouncement, group), Recipients: []pg.FeedbackRecipient{{Email: fmt.Sprintf("m%d-%s@bench.example.org", i, group)}}}
	}
	sendCalls, sendUse, sendSeconds, err := apply(event(pg.FeedbackSend, 0))
	if err != nil {
		return err
	}
	deliveryCalls, deliveryUse, deliverySeconds, err := apply(event(pg.FeedbackDelivery, 0))
	if err != nil {
		return err
	}
	bounce := event(pg.FeedbackBounce, 1)
	bounce.BounceType, bounce.BounceSubType = "Permanent", "General"
	bounceCalls, _, _, err := apply(bounce)
	if err != nil {
		return err
	}
	perEmailEvents := sendUse.plus(deliveryUse)
	eventSeconds := (sendSeconds + deliverySeconds) / 2

	// An RSVP (going), per answer: the one write the RSVP page's answer makes.
	rsvps := dynamo.Capabilities(dynamo.New(e.clients.DynamoDB, e.cfg.TableName)).RSVPs
	for i := range e.members[group] {
		email := fmt.Sprintf("m%d-%s@bench.example.org", i, group)
		if _, err := rsvps.Attend(ctx, pg.Attendance{Round: 1, Group: group, Email: email, Name: fmt.Sprintf("Member %d", i), Since: time.Now()}); err != nil {
			return fmt.Errorf("cost: RSVP: %w", err)
		}
	}
	perAnswer := m.take().per(e.members[group])

	// Reminders, a day before the events; then an hourly run with nothing due.
	dayBefore := benchEventStart().Add(-24 * time.Hour)
	reminders, err := announcing.NewReminders(e.cfg, e.clients, log, app.WithClock(func() time.Time { return dayBefore }))
	if err != nil {
		return err
	}
	began = time.Now()
	tally, err := reminders.Run(ctx)
	if err != nil {
		return fmt.Errorf("cost: reminders: %w", err)
	}
	if tally.Sent == 0 {
		return fmt.Errorf("cost: the reminders sent nothing")
	}
	reminderSeconds := time.Since(began).Seconds() / float64(tally.Sent)
	perReminder := m.take().per(tally.Sent)
	idle, err := announcing.NewReminders(e.cfg, e.clients, log)
	if err != nil {
		return err
	}
	began = time.Now()
	if _, err := idle.Run(ctx); err != nil {
		return fmt.Errorf("cost: idle reminders: %w", err)
	}
	idleSeconds := time.Since(began).Seconds()
	idleRun := m.take()

	// The year.
	r := reference
	perEmail := j.outbox.per(j.outbox.Emails) // one transactional email through the outbox
	announced := r.members * r.rounds
	answers := r.members * r.remindersPerPerson // one "going" for each reminder
	reminded := r.members * r.remindersPerPerson
	hourly := 365 * 24
	transactional := r.signups*j.outbox.Emails + 2*r.inbound // an acknowledgement and a notification at most
	var year usage
	for _, part := range []struct {
		u usage
		n int
	}{
		{j.web.plus(j.outbox), r.signups}, {perRecipient, announced}, {perAnswer, answers},
		{perReminder, reminded}, {idleRun, hourly}, {in.usage, r.inbound}, {perEmail, 2 * r.inbound},
	} {
		year = year.plus(usage{part.u.ReadUnits * float64(part.n), part.u.WriteUnits * float64(part.n), part.u.S3Writes * part.n, part.u.S3Reads * part.n, part.u.Emails * part.n})
	}
	// Each email sent comes back as two events (Send, Delivery), each one invocation of
	// the feedback function (SES's events on the default bus cost nothing).
	events := 2 * year.Emails
	year = year.plus(usage{ReadUnits: perEmailEvents.ReadUnits * float64(year.Emails), WriteUnits: perEmailEvents.WriteUnits * float64(year.Emails)})
	webSecondsPerRequest := j.webSeconds / float64(max(j.webRequests, 1))
	invocations := r.signups*j.webRequests + 2*answers + // the web function: the journey's pages; an RSVP's page and answer
		transactional + r.rounds + hourly + r.inbound + events // outbox, announce, reminders, inbound, feedback
	gbSeconds := functionGB*(float64(r.signups)*j.webSeconds+float64(2*answers)*webSecondsPerRequest) +
		functionGB*float64(transactional)*outboxSeconds +
		announceGB*float64(r.rounds)*max(announceSeconds, float64(r.members)/(sesRate*(1-share))) +
		functionGB*(float64(hourly)*idleSeconds+float64(reminded)*reminderSeconds) +
		functionGB*float64(r.inbound)*in.seconds +
		functionGB*float64(events)*eventSeconds

	ses := float64(year.Emails)*p.SESPer1000Emails/1000 +
		float64(r.inbound)*(p.SESInboundPer1000Emails+p.SESInboundPer1000Chunks)/1000 // each under 256 KB: one chunk
	db := year.ReadUnits*p.DynamoDBPerMillionReads/1e6 + year.WriteUnits*p.DynamoDBPerMillionWrites/1e6 +
		12*storageGB*p.DynamoDBStoragePerGBMonth
	lambda := gbSeconds*p.LambdaPerGBSecond + float64(invocations)*p.LambdaPerMillionRequests/1e6
	s3 := float64(year.S3Writes)*p.S3Per1000Writes/1000 + float64(year.S3Reads)*p.S3Per1000Reads/1000 +
		12*storageGB*p.S3StoragePerGBMonth
	alarms, err := templateCount("AWS::CloudWatch::Alarm")
	if err != nil {
		return err
	}
	secrets, err := templateCount("AWS::SecretsManager::Secret")
	if err != nil {
		return err
	}
	standing := float64(secrets)*p.SecretPerMonth + float64(max(0, alarms-p.FreeAlarms))*p.AlarmPerMonth

	figure(out, "feedback.event.dynamodb_requests", fmt.Sprintf("%.1f (a Send event %d, a Delivery %d; a permanent bounce %d)",
		float64(sendCalls.service("DynamoDB")+deliveryCalls.service("DynamoDB"))/2, sendCalls.service("DynamoDB"), deliveryCalls.service("DynamoDB"), bounceCalls.service("DynamoDB")))
	figure(out, "cost.reference", fmt.Sprintf("%d members, %d groups, %d rounds, %d reminders per person, %d sign-ups, %d inbound messages a year",
		r.members, r.groups, r.rounds, r.remindersPerPerson, r.signups, r.inbound))
	figure(out, "cost.prices", fmt.Sprintf("%s on %s (internal/cmd/bench/prices.json; no free tier)", p.Region, p.Date))
	figure(out, "cost.per_recipient", fmt.Sprintf("%.2f read units, %.2f write units (an announcement)", perRecipient.ReadUnits, perRecipient.WriteUnits))
	figure(out, "cost.per_reminder", fmt.Sprintf("%.2f read units, %.2f write units", perReminder.ReadUnits, perReminder.WriteUnits))
	figure(out, "cost.per_signup", fmt.Sprintf("%.2f read units, %.2f write units, %d emails", j.web.ReadUnits+j.outbox.ReadUnits, j.web.WriteUnits+j.outbox.WriteUnits, j.outbox.Emails))
	figure(out, "cost.per_inbound_message", fmt.Sprintf("%.2f read units, %.2f write units, %d S3 requests", in.ReadUnits, in.WriteUnits, in.S3Reads+in.S3Writes))
	figure(out, "cost.emails_per_year", fmt.Sprint(year.Emails))
	figure(out, "cost.ses.usd_per_year", fmt.Sprintf("%.2f", ses))
	figure(out, "cost.dynamodb.usd_per_year", fmt.Sprintf("%.2f", db))
	figure(out, "cost.lambda.usd_per_year", fmt.Sprintf("%.2f", lambda))
	figure(out, "cost.s3.usd_per_year", fmt.Sprintf("%.2f", s3))
	figure(out, "cost.total.usd_per_month", fmt.Sprintf("%.2f", (ses+db+lambda+s3)/12))
	figure(out, "cost.standing.usd_per_month", fmt.Sprintf("%.2f (%d secrets: the link key's and the pseudonym key's; %d alarms of which %d are free; not in the total)", standing, secrets, alarms, p.FreeAlarms))
	return nil
}

// templateCount counts the resources of a type template.yaml declares, apart from
// those with a Condition (the previous link key's secret, only during a rotation).
func templateCount(kind string) (int, error) {
	tpl, err := os.ReadFile("template.yaml")
	if err != nil {
		return 0, fmt.Errorf("read template.yaml (run the bench from the repository root): %w", err)
	}
	// A resource's block runs from its name (indented two spaces) to the next name.
	var blocks []string
	for line := range strings.Lines(string(tpl)) {
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && !strings.HasPrefix(line, "  #") || len(blocks) == 0 {
			blocks = append(blocks, "")
		}
		blocks[len(blocks)-1] += line
	}
	count := 0
	for _, b := range blocks {
		if strings.Contains(b, "    Type: "+kind+"\n") && !strings.Contains(b, "\n    Condition:") {
			count++
		}
	}
	return count, nil
}

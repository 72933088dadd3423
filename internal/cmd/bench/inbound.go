package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/receiving"
	"github.com/peergroups/peergroups/internal/devstack"
	"github.com/peergroups/peergroups/internal/mailin"
	"github.com/peergroups/peergroups/internal/s3exports"
)

// inboundFigures measures mail in: the AWS requests the inbound function makes for
// one new message (store, classify, acknowledge: the acknowledgement goes into the
// outbox, which sends it), the peak memory of reading a 40 MB message, and 500
// messages from one sender, of which one is acknowledged.
func inboundFigures(ctx context.Context, out io.Writer) (inboundUse, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	progress("count the requests of one inbound message")
	key := make([]byte, 32)
	rand.Read(key)
	vars := map[string]string{
		"LINK_KEY": base64.StdEncoding.EncodeToString(key), "TABLE_NAME": "bench-" + randomHex(4), "BASE_URL": "http://127.0.0.1",
		"RECEIVING_BUCKET": "bench-inbound-" + randomHex(4), "ADMIN_ADDRESS": "admin@peergroups.example.org",
	}
	cfg, err := app.LoadConfig(func(name string) string { return vars[name] })
	if err != nil {
		return inboundUse{}, err
	}
	awsCfg, err := app.AWSConfig()
	if err != nil {
		return inboundUse{}, err
	}
	count, use := &counter{n: requests{}}, &meter{}
	awsCfg.APIOptions = append(awsCfg.APIOptions, count.middleware, use.middleware)
	clients := app.NewClients(awsCfg)
	if err := devstack.Prepare(ctx, clients.DynamoDB, nil, cfg.TableName, false); err != nil {
		return inboundUse{}, fmt.Errorf("prepare table: %w", err)
	}
	defer clients.DynamoDB.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(cfg.TableName)})
	s3c := s3exports.NewClient(awsCfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cfg.ReceivingBucket)}); err != nil {
		return inboundUse{}, fmt.Errorf("create receiving bucket: %w", err)
	}
	in, handler, err := receiving.New(cfg, clients, s3c, slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return inboundUse{}, err
	}
	deliver := func(id string, raw []byte) error {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.ReceivingBucket), Key: aws.String("inbound/" + id), Body: bytes.NewReader(raw)}); err != nil {
			return err
		}
		return handler.Handle(ctx, events.SimpleEmailEvent{Records: []events.SimpleEmailRecord{{SES: events.SimpleEmailService{
			Mail:    events.SimpleEmailMessage{MessageID: id, Timestamp: time.Now()},
			Receipt: events.SimpleEmailReceipt{Recipients: []string{cfg.AdminAddress}, Timestamp: time.Now()},
		}}}})
	}
	msg := func(from, subject, body string) []byte {
		return []byte("From: " + from + "\r\nReturn-Path: <" + from + ">\r\nTo: " + cfg.AdminAddress + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + randomHex(8) + "@example.org>\r\n\r\n" + body + "\r\n")
	}
	// One new request, warm: a first message makes the groups' cache as in a warm instance.
	if err := deliver("bench-warm", msg("warm@example.org", "Hello", "When is the next meeting?")); err != nil {
		return inboundUse{}, err
	}
	count.take()
	use.take()
	began := time.Now()
	if err := deliver("bench-one", msg("sam@example.org", "Joining", "Please add me to the Midlands group.")); err != nil {
		return inboundUse{}, err
	}
	one := count.take()
	// SES's S3 action (the bench's PutObject stands for it) is billed to the bucket's
	// owner, so it stays in the usage.
	message := inboundUse{usage: use.take(), seconds: time.Since(began).Seconds()}
	if one[opKey{"S3", "PutObject"}]--; one[opKey{"S3", "PutObject"}] == 0 { // the bench's own, standing for SES's S3 action
		delete(one, opKey{"S3", "PutObject"})
	}
	figure(out, "inbound.message.dynamodb_requests", fmt.Sprint(one.service("DynamoDB")))
	figure(out, "inbound.message.s3_requests", fmt.Sprint(one.service("S3")))
	figure(out, "inbound.message.ses_calls", fmt.Sprint(one.service("SESv2")))
	for _, op := range one.sorted() {
		figure(out, "inbound.message."+op.key, fmt.Sprint(op.n))
	}

	progress("read a 40 MB message with a 39 MB attachment")
	big := bigMessage(39 << 20)
	runtime.GC()
	resetPeakRSS()
	if _, err := mailin.Parse(big); err != nil {
		return inboundUse{}, fmt.Errorf("parse 40 MB: %w", err)
	}
	figure(out, "inbound.parse40mb.peak_rss_mb", fmt.Sprintf("%.1f", float64(peakRSS())/(1<<20)))
	big = nil

	progress("500 messages from one sender")
	start, acks := time.Now(), 0
	for i := range 500 {
		raw := msg("flood@example.org", fmt.Sprintf("Message %d", i), "Hello again")
		m, err := mailin.Parse(raw)
		if err != nil {
			return inboundUse{}, err
		}
		r, err := in.Receive(ctx, m.Inbound(fmt.Sprintf("bench-burst-%d", i), "inbound/none", []string{cfg.AdminAddress}, time.Now()))
		if err != nil {
			return inboundUse{}, err
		}
		if r.Acknowledged {
			acks++
		}
	}
	figure(out, "inbound.burst500.seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	figure(out, "inbound.burst500.acks", fmt.Sprint(acks))
	return message, nil
}

// bigMessage is a message of about n bytes, nearly all of it one attachment (base64,
// in lines of 76).
func bigMessage(n int) []byte {
	var b bytes.Buffer
	b.WriteString("From: big@example.org\r\nTo: admin@peergroups.example.org\r\nSubject: Slides\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe slides are attached.\r\n--b\r\nContent-Type: application/pdf; name=slides.pdf\r\nContent-Disposition: attachment; filename=slides.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	line := strings.Repeat("QUJD", 19) + "\r\n" // 57 bytes of content a line
	for b.Len() < n {
		b.WriteString(line)
	}
	b.WriteString("--b--\r\n")
	return b.Bytes()
}

// inboundUse is what one received message used in the inbound function (its reply and
// notification go through the outbox).
type inboundUse struct {
	usage
	seconds float64
}

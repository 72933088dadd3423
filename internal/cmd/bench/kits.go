package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/peergroups/peergroups/internal/app"
	"github.com/peergroups/peergroups/internal/app/website"
	"github.com/peergroups/peergroups/internal/devstack"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/s3kits"
)

// kitFigures measures the kits: the AWS requests of saving one section, and the time
// and memory of merging two saves of a large kit.
func kitFigures(ctx context.Context, out io.Writer) error {
	save, err := countKitSave(ctx)
	if err != nil {
		return err
	}
	figure(out, "kit.save.dynamodb_requests", fmt.Sprint(save.service("DynamoDB")))
	figure(out, "kit.save.s3_requests", fmt.Sprint(save.service("S3")))
	for _, op := range save.sorted() {
		figure(out, "kit.save."+op.key, fmt.Sprint(op.n))
	}
	took, rss, clashes := merge200()
	figure(out, "kit.merge200.clashes", fmt.Sprint(clashes))
	figure(out, "kit.merge200.ms", ms(took))
	figure(out, "kit.merge200.peak_rss_mb", fmt.Sprintf("%.1f", float64(rss)/(1<<20)))
	return kitDownloadFigures(ctx, out)
}

// countKitSave counts the requests of one section saved over the head it was opened on
// (the page after it, which reads the kit back, included), against the stand-ins, with
// the render function's code in this process.
func countKitSave(ctx context.Context) (requests, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	progress("count the requests of saving a kit's section")
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("make link key: %w", err)
	}
	vars := map[string]string{
		"LINK_KEY":    base64.StdEncoding.EncodeToString(key),
		"TABLE_NAME":  "bench-" + randomHex(4),
		"BASE_URL":    "http://127.0.0.1",
		"KITS_BUCKET": "bench-kits-" + randomHex(4),
	}
	cfg, err := app.LoadConfig(func(name string) string { return vars[name] })
	if err != nil {
		return nil, err
	}
	awsCfg, err := app.AWSConfig()
	if err != nil {
		return nil, err
	}
	count := &counter{n: requests{}}
	awsCfg.APIOptions = append(awsCfg.APIOptions, count.middleware)
	clients := app.NewClients(awsCfg)
	if err := devstack.Prepare(ctx, clients.DynamoDB, nil, cfg.TableName, false); err != nil {
		return nil, fmt.Errorf("prepare table: %w", err)
	}
	defer clients.DynamoDB.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(cfg.TableName)})
	s3c := s3exports.NewClient(awsCfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cfg.KitsBucket)}); err != nil {
		return nil, fmt.Errorf("create kits bucket: %w", err)
	}
	a, err := website.New(cfg, clients, slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return nil, err
	}
	kits := a.Services.Kits
	kits.Objects, kits.Renderer = s3kits.New(s3c, cfg.KitsBucket), devstack.Renderer{}
	admin := pg.Caller{Email: "bench-admin@example.org", Admin: true}
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, pg.London)
	if err := a.Services.Rounds.CreateRound(ctx, admin, pg.Round{Number: 1, Title: "Bench", Summary: "Measured.", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 30), State: pg.RoundDraft}); err != nil {
		return nil, err
	}
	kit, err := kits.CreateCoreKit(ctx, admin, 1, pg.KitDoc{Title: "Bench kit", Summary: "Measured.", Licence: pg.LicenceOGL})
	if err != nil {
		return nil, err
	}
	section := pg.KitSection{ID: "s-bench", Kind: pg.SectionHandout, Audience: pg.AudienceParticipant, Title: "Welcome", Body: "### Before you come\n\nRead the brief.\n"}
	if kit, err = kits.SaveSection(ctx, admin, 1, kit.Revision, section, "Added the welcome"); err != nil {
		return nil, err
	}
	section.Body += "\nBring a question.\n"
	count.take()
	if _, err := kits.SaveSection(ctx, admin, 1, kit.Revision, section, "A question to bring"); err != nil {
		return nil, err
	}
	return count.take(), nil
}

// merge200 merges two saves of a 200-section kit made from the same revision, which
// changed 100 sections each, 30 of them both and differently: the median time of 21
// merges, the peak memory, and the clashes found (30).
func merge200() (time.Duration, int64, int) {
	progress("merge a 200-section kit with 30 clashes")
	base := pg.KitDoc{Title: "Large kit", Summary: "Two hundred sections.", Licence: pg.LicenceOGL}
	for i := range 200 {
		var body strings.Builder
		for line := range 30 {
			fmt.Fprintf(&body, "Line %d of section %d: what the facilitators say and do at this point.\n", line, i)
		}
		base.Sections = append(base.Sections, pg.KitSection{ID: fmt.Sprintf("s-%03d", i), Kind: pg.SectionNotes, Audience: pg.AudienceParticipant, Title: fmt.Sprintf("Section %d", i), Body: body.String()})
	}
	edit := func(d pg.KitDoc, from, to int, who string) pg.KitDoc {
		d.Sections = slices.Clone(d.Sections)
		for i := from; i < to; i++ {
			d.Sections[i].Body = strings.Replace(d.Sections[i].Body, "Line 10 ", "Line 10 ("+who+") ", 1)
		}
		return d
	}
	ours, theirs := edit(base, 0, 100, "ours"), edit(base, 70, 170, "theirs") // 70 to 99 clash
	runtime.GC()
	resetPeakRSS()
	var times []time.Duration
	clashes := 0
	for range 21 {
		start := time.Now()
		_, c := pg.MergeKits(base, ours, theirs)
		times = append(times, time.Since(start))
		clashes = len(c)
	}
	return median(times), peakRSS(), clashes
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/peergroups/peergroups/internal/app"
	pg "github.com/peergroups/peergroups/internal/peergroups"
	"github.com/peergroups/peergroups/internal/s3exports"
	"github.com/peergroups/peergroups/internal/s3kits"
)

// kitDownloadFigures measures the zip of a kit with 20 MB of files (four PDFs of 5 MB
// that do not compress), written to the local S3 as it is made: the median time of 3
// zips, and the peak memory of one, beside that of a kit with 5 MB of files (flat:
// the zip is never held whole, only one part of its upload).
func kitDownloadFigures(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	progress("zip a kit with 20 MB of files into S3")
	awsCfg, err := app.AWSConfig()
	if err != nil {
		return err
	}
	client := s3exports.NewClient(awsCfg)
	bucket := "bench-zips-" + randomHex(4)
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create zips bucket: %w", err)
	}
	zips := s3kits.NewZips(client, bucket)
	var files []pg.KitFile
	for i := range 4 {
		b := make([]byte, 5<<20)
		rand.Read(b)
		copy(b, "%PDF-1.7\n")
		sum := sha256.Sum256(b)
		blob := hex.EncodeToString(sum[:])
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(s3kits.BlobKey(blob)), Body: bytes.NewReader(b)}); err != nil {
			return fmt.Errorf("put a file: %w", err)
		}
		files = append(files, pg.KitFile{ID: fmt.Sprintf("f-%d", i), Title: fmt.Sprintf("Slides %d", i), Name: fmt.Sprintf("slides-%d.pdf", i), Type: "application/pdf", Size: int64(len(b)), Blob: blob})
	}
	zip := func(run int, files []pg.KitFile) error {
		d := pg.KitDownload{
			Round: pg.Round{Number: 1, Title: "Bench"}, Kit: pg.CoreKit,
			Revision: pg.KitRevision{Number: run, Hash: randomHex(32), At: time.Now()},
			Doc:      pg.KitDoc{Title: "Bench kit", Licence: pg.LicenceOGL, Sections: []pg.KitSection{{ID: "s-1", Kind: pg.SectionHandout, Audience: pg.AudienceParticipant, Title: "Welcome", Body: "Hello.\n"}}, Files: files},
			Authors:  []string{"a facilitator"}, Source: "http://127.0.0.1/kits/1", At: time.Now(),
			Open: func(blob string) (io.ReadCloser, error) { return zips.OpenBlob(ctx, blob) },
		}
		key := d.ZipKey()
		if err := zips.PutZip(ctx, key, func(w io.Writer) error { return pg.WriteKitArchive(w, d) }); err != nil {
			return err
		}
		_, err := zips.ZipLink(ctx, key, d.FileName(), pg.KitZipLinkTTL)
		return err
	}
	// Peak memory: 5 MB of files, then 20 MB, each after a collection.
	peaks := map[int]int64{}
	for run, n := range []int{1, 4} {
		runtime.GC()
		resetPeakRSS()
		if err := zip(100+run, files[:n]); err != nil {
			return err
		}
		peaks[n] = peakRSS()
	}
	var times []time.Duration
	for run := range 3 {
		start := time.Now()
		if err := zip(run, files); err != nil {
			return err
		}
		times = append(times, time.Since(start))
	}
	figure(out, "kit.download.ms", ms(median(times)))
	figure(out, "kit.download.peak_rss_mb", fmt.Sprintf("%.1f", float64(peaks[4])/(1<<20)))
	figure(out, "kit.download5mb.peak_rss_mb", fmt.Sprintf("%.1f", float64(peaks[1])/(1<<20)))
	return nil
}

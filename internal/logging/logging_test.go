package logging_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/peergroups/peergroups/internal/logging"
)

func pseudonym(parts ...string) string { return fmt.Sprintf("%x", strings.Join(parts, "|")) }

// No email address reaches the log, wherever it is written; the same address has the
// same pseudonym in every line; the rest of the line is kept.
func TestNoAddressReachesTheLog(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(logging.Redact(slog.NewJSONHandler(&out, nil), pseudonym))
	log = log.With("actor", "Ada.Admin@Council.gov.uk")
	log.Info("sent to sam@example.org", "to", "sam@example.org", "round", 3,
		"error", errors.New(`send "<sam@example.org>": throttled`),
		slog.Group("mail", "from", "jo+x@mail.example.org"),
		"list", []string{"a@b.example"})
	line := out.String()
	for _, addr := range []string{"sam@example.org", "Ada.Admin@Council.gov.uk", "jo+x@mail.example.org", "a@b.example", "@"} {
		if strings.Contains(line, addr) {
			t.Errorf("the log holds %q:\n%s", addr, line)
		}
	}
	sam := logging.PersonPrefix + pseudonym("log", "sam@example.org")[:12]
	if n := strings.Count(line, sam); n != 3 {
		t.Errorf("sam's pseudonym %s appears %d times, want 3 (message, attribute, error):\n%s", sam, n, line)
	}
	if !strings.Contains(line, `"round":3`) || !strings.Contains(line, `: throttled`) {
		t.Errorf("the rest of the line is lost:\n%s", line)
	}
}

package mailin_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/peergroups/peergroups/internal/mailin"
	"github.com/peergroups/peergroups/internal/s3mail"
)

func example(t *testing.T, name string) *mailin.Message {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "mail", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mailin.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func TestAJoinRequestIsReadWithItsNewTextAndVerdicts(t *testing.T) {
	m := example(t, "join-request.eml")
	if m.From != "sam.jones@leeds.gov.uk" || m.FromName != "Sam Jones" || m.ReturnPath != "sam.jones@leeds.gov.uk" {
		t.Errorf("from %q %q, return path %q", m.From, m.FromName, m.ReturnPath)
	}
	if m.Subject != "Joining the Midlands group" || m.MessageID != "CAB1234@mail.leeds.gov.uk" || !slices.Equal(m.To, []string{"admin@peergroups.example.org"}) {
		t.Errorf("subject %q, id %q, to %q", m.Subject, m.MessageID, m.To)
	}
	if m.Automatic != "" || m.Report != "" {
		t.Errorf("a person's message taken as automatic: %q %q", m.Automatic, m.Report)
	}
	want := mailin.Verdicts{Spam: "PASS", Virus: "PASS", SPF: "PASS", DKIM: "PASS", DMARC: "PASS"}
	if m.Verdicts != want {
		t.Errorf("verdicts %+v, want %+v", m.Verdicts, want)
	}
	if !strings.Contains(m.NewText, "Please add me to the Midlands group") || strings.Contains(m.NewText, "Digital Lead") {
		t.Errorf("new text %q: want the request without the signature", m.NewText)
	}
}

func TestQuotedRepliesAndOutlookBlocksAreNotNewText(t *testing.T) {
	leave := example(t, "leave-request.eml")
	if leave.Subject != "Please remove me – thanks" {
		t.Errorf("encoded subject read as %q", leave.Subject)
	}
	if !strings.Contains(leave.NewText, "I'd like to leave the London group") || strings.Contains(leave.NewText, "Round 12") || strings.Contains(leave.NewText, "wrote:") {
		t.Errorf("new text %q", leave.NewText)
	}
	reply := example(t, "announcement-reply.eml")
	if reply.NewText != "Is there step-free access at the venue?\n\nAsha" {
		t.Errorf("new text %q", reply.NewText)
	}
	if reply.InReplyTo != "0102019a-ses-announcement@eu-west-2.amazonses.com" || len(reply.References) != 1 {
		t.Errorf("threading: in reply to %q, references %q", reply.InReplyTo, reply.References)
	}
}

func TestAutomaticMailIsRecognised(t *testing.T) {
	if m := example(t, "out-of-office.eml"); m.Automatic != "Auto-Submitted: auto-replied" {
		t.Errorf("out of office: %q", m.Automatic)
	}
	m := example(t, "bounce-report.eml")
	if m.Automatic == "" || m.Report != "delivery-status" || !m.NullSender || m.ReturnPath != "" {
		t.Errorf("bounce report: automatic %q, report %q, null sender %v, return path %q", m.Automatic, m.Report, m.NullSender, m.ReturnPath)
	}
	base := "From: a@example.org\r\nTo: admin@peergroups.example.org\r\nSubject: hi\r\n"
	for header, want := range map[string]string{
		"Precedence: bulk":               "Precedence: bulk",
		"List-Id: <news.example.org>":    "List-Id",
		"X-Autoreply: yes":               "X-Autoreply",
		mailin.LoopHeader + ": 1":        mailin.LoopHeader,
		"Auto-Submitted: no":             "",
		"Auto-Submitted: auto-generated": "Auto-Submitted: auto-generated",
		"X-Auto-Response-Suppress: OOF":  "X-Auto-Response-Suppress",
		"Precedence: first-class":        "",
	} {
		m, err := mailin.Parse([]byte(base + header + "\r\n\r\nHello\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Automatic != want {
			t.Errorf("%s: automatic %q, want %q", header, m.Automatic, want)
		}
	}
}

func TestOnlySESsOwnAuthenticationResultsCountAndAFailedDMARCKeepsItsPolicy(t *testing.T) {
	raw := "Authentication-Results: evil.example; dmarc=pass header.from=camden.gov.uk\r\n" +
		"Authentication-Results: amazonses.com; spf=fail smtp.mailfrom=camden.gov.uk; dkim=fail header.i=@camden.gov.uk; dmarc=fail (p=REJECT sp=REJECT pct=100) header.from=camden.gov.uk;\r\n" +
		"From: Chief Executive <ceo@camden.gov.uk>\r\nTo: admin@peergroups.example.org\r\nSubject: Urgent\r\n\r\nPlease delete me.\r\n"
	m, err := mailin.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Verdicts.DMARC != "FAIL" || m.Verdicts.DMARCPolicy != "reject" || m.Verdicts.SPF != "FAIL" {
		t.Errorf("verdicts %+v: want DMARC FAIL with policy reject (the forged pass ignored)", m.Verdicts)
	}
}

// Hostile mail from MAIL.md: nothing crashes, what can be read is read, nothing unsafe
// comes through into what we would show or write in a header.
func TestHostileMailIsReadSafely(t *testing.T) {
	cases := map[string]string{
		"two From headers":            "From: a@example.org\r\nFrom: b@example.org\r\nSubject: x\r\n\r\nbody",
		"several authors":             "From: a@example.org, b@example.org\r\nSubject: x\r\n\r\nbody",
		"CRLF in an encoded subject":  "From: a@example.org\r\nSubject: =?utf-8?q?Hello=0D=0ABcc:_victim@example.org?=\r\n\r\nbody",
		"right-to-left override":      "From: a@example.org\r\nSubject: =?utf-8?b?" + b64("invoice \u202efdp.exe") + "?=\r\n\r\nbody",
		"no final boundary":           "From: a@example.org\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
		"multipart without boundary":  "From: a@example.org\r\nSubject: x\r\nContent-Type: multipart/mixed\r\n\r\nhello\r\n",
		"bad base64":                  "From: a@example.org\r\nSubject: x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64@@@\r\n",
		"unknown charset":             "From: a@example.org\r\nSubject: x\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nhello\r\n",
		"NUL bytes and invalid UTF-8": "From: a@example.org\r\nSubject: x\xff\x00y\r\n\r\nhe\x00llo \xfe\r\n",
		"a display name like ours":    "From: =?utf-8?q?admin=40peergroups=2Eexample=2Eorg?= <x@evil.example>\r\nSubject: x\r\n\r\nbody",
		"a huge header block":         "From: a@example.org\r\nX-Long: " + strings.Repeat("a", 20000) + "\r\nSubject: x\r\n\r\nbody",
		"nested messages":             nested(40),
		"a thousand parts":            manyParts(1000),
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := mailin.Parse([]byte(raw))
			if err != nil {
				t.Skipf("refused: %v", err) // refusing is safe; the raw message is kept by the caller
			}
			checkSafe(t, m)
			if name == "two From headers" || name == "several authors" {
				if m.From != "" {
					t.Errorf("From %q: a message with several authors must have none", m.From)
				}
			}
			if name == "a display name like ours" && m.From != "x@evil.example" {
				t.Errorf("From %q, want the real address", m.From)
			}
		})
	}
}

func checkSafe(t *testing.T, m *mailin.Message) {
	t.Helper()
	for what, s := range map[string]string{"subject": m.Subject, "from name": m.FromName, "from": m.From} {
		if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }) {
			t.Errorf("%s %q carries control characters", what, s)
		}
	}
	if len([]rune(m.Subject)) > mailin.MaxSubject {
		t.Errorf("subject of %d characters", len([]rune(m.Subject)))
	}
	if strings.Contains(m.Text, "\x00") || !isUTF8(m.Text) || !isUTF8(m.NewText) {
		t.Errorf("text is not clean UTF-8: %q", m.Text)
	}
}

func isUTF8(s string) bool { return strings.ToValidUTF8(s, "") == s }

func b64(s string) string {
	var b bytes.Buffer
	enc := []byte(s)
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(enc); i += 3 {
		var n uint32
		k := min(3, len(enc)-i)
		for j := range 3 {
			n <<= 8
			if j < k {
				n |= uint32(enc[i+j])
			}
		}
		for j := range 4 {
			if j <= k {
				b.WriteByte(chars[(n>>(18-6*j))&63])
			} else {
				b.WriteByte('=')
			}
		}
	}
	return b.String()
}

func nested(depth int) string {
	msg := "From: a@example.org\r\nSubject: inner\r\n\r\nhello\r\n"
	for i := range depth {
		msg = fmt.Sprintf("From: a@example.org\r\nSubject: level %d\r\nContent-Type: message/rfc822\r\n\r\n%s", i, msg)
	}
	return msg
}

func manyParts(n int) string {
	var b strings.Builder
	b.WriteString("From: a@example.org\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n")
	for i := range n {
		fmt.Fprintf(&b, "--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i)
	}
	b.WriteString("--p--\r\n")
	return b.String()
}

func TestNewText(t *testing.T) {
	cases := map[string]string{
		"Yes please.\n\nOn Mon, 1 Dec 2026, Peer Groups <pg@example.org> wrote:\n> Do you want to join?": "Yes please.",
		"Yes please.\n\nOn Mon, 1 Dec 2026 at 09:00, Peer Groups\n<pg@example.org> wrote:\n> Do you?":    "Yes please.",
		"Yes.\n-----Original Message-----\nFrom: x":                                                      "Yes.",
		"Yes.\nFrom: Peer Groups\nSent: Monday\nTo: me":                                                  "Yes.",
		"Interleaved:\n> your question\nmy answer":                                                       "Interleaved:\nmy answer",
		"Thanks\n-- \nSam, Leeds":                                                                        "Thanks",
		"From: the team at Leeds, we would like to join.":                                                "From: the team at Leeds, we would like to join.",
	}
	for in, want := range cases {
		if got := mailin.NewText(in); got != want {
			t.Errorf("NewText(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"join-request.eml", "leave-request.eml", "out-of-office.eml", "bounce-report.eml", "announcement-reply.eml"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "events", "mail", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("From: a@example.org\r\nSubject: =?utf-8?q?a=0D=0Ab?=\r\n\r\nx"))
	f.Add([]byte(nested(5)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := mailin.Parse(raw)
		if err != nil {
			return
		}
		checkSafe(t, m)
		if !strings.Contains(m.Text, m.NewText) && m.NewText != "" {
			// NewText keeps lines of Text, in order: its first line is in Text.
			if first, _, _ := strings.Cut(m.NewText, "\n"); !strings.Contains(m.Text, first) {
				t.Errorf("new text %q is not from the text %q", m.NewText, m.Text)
			}
		}
	})
}

func TestTheReceivingBucketReadsAsMuchAsTheParserTakes(t *testing.T) {
	if s3mail.MaxRaw != mailin.MaxMessage {
		t.Errorf("s3mail reads %d bytes of a stored message, the parser takes %d", s3mail.MaxRaw, mailin.MaxMessage)
	}
}

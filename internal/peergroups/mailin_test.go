package peergroups_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

var mailGroups = []pg.Group{{ID: "midlands", Name: "Midlands"}, {ID: "london", Name: "London"}, {ID: "north-east", Name: "North East"}}

func TestClassifyMailByRulesWithTheWordsThatMatched(t *testing.T) {
	cases := []struct {
		subject, text string
		want          pg.MailClass
		group         string
		matched       string
	}{
		{"Joining", "Please add me to the Midlands group.", pg.MailJoin, "midlands", "add me"},
		{"", "I'd like to leave, thanks.", pg.MailLeave, "", "leave"},
		{"The Standard", "We'd like to sign our council up to the Standard.", pg.MailRegister, "", "sign our council up"},
		{"Helping", "I could help facilitate in London.", pg.MailFacilitate, "london", "facilitate"},
		{"", "Can we start a group in the North East?", pg.MailPropose, "north-east", "start a group"},
		{"GDPR request", "Please send me my data, or delete me.", pg.MailDataRequest, "", "gdpr"},
		{"Please unsubscribe me", "Also what data do you hold? Delete it.", pg.MailDataRequest, "", "what data"},
		{"Hello", "When is the next meeting?", pg.MailQuestion, "", ""},
		{"", "Please add me to Midlands and remove me from London.", pg.MailQuestion, "", "add me"}, // join and leave tie
		{"", "We want to rejoin? Joiners welcome", pg.MailQuestion, "", ""},                         // words, not parts of words
	}
	for _, tc := range cases {
		got := pg.ClassifyMail(tc.subject, tc.text, mailGroups)
		if got.Class != tc.want || got.Group != tc.group || (tc.matched != "" && !slices.Contains(got.Matched, tc.matched)) {
			t.Errorf("ClassifyMail(%q, %q) = %+v, want %s, group %q, matching %q", tc.subject, tc.text, got, tc.want, tc.group, tc.matched)
		}
	}
}

func TestMailReferences(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		ref := pg.NewMailReference()
		if !pg.ValidMailReference(ref) || seen[ref] {
			t.Fatalf("reference %q not valid or repeated", ref)
		}
		seen[ref] = true
		if got := pg.FindMailReference("RE: Re: Your message [" + ref + "] (sent)"); got != ref {
			t.Fatalf("found %q in a subject with %q", got, ref)
		}
	}
	for _, s := range []string{"[PG-", "[PG-ABCDEF", "[PG-ABCDE1]", "[PG-abcdef]", "[PG-ABCDEFG]", "no reference"} {
		if got := pg.FindMailReference(s); got != "" {
			t.Errorf("found %q in %q", got, s)
		}
	}
}

func TestReplySubjectsAreOneSafeLine(t *testing.T) {
	cases := map[string]string{
		"Joining the Midlands group":       "Re: Joining the Midlands group [PG-7K3Q9F]",
		"RE: Fwd: re: Joining [PG-7K3Q9F]": "Re: Joining [PG-7K3Q9F]",
		"":                                 "Re: Your message [PG-7K3Q9F]",
		"Hello\r\nBcc: victim@example.org": "Re: Hello Bcc: victim@example.org [PG-7K3Q9F]",
		"invoice \u202efdp.exe":            "Re: invoice fdp.exe [PG-7K3Q9F]",
		strings.Repeat("long ", 100):       "",
	}
	for in, want := range cases {
		got := pg.ReplySubject(in, "PG-7K3Q9F")
		if strings.ContainsFunc(got, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }) || len([]rune(got)) > 170 {
			t.Errorf("ReplySubject(%q) = %q: not one safe line", in, got)
		}
		if want != "" && got != want {
			t.Errorf("ReplySubject(%q) = %q, want %q", in, got, want)
		}
	}
}

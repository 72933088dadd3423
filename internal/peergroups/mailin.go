// Mail in: what a message to the admin address asks for, by rules a person can read
// (the words that matched are kept, and shown to the admins), and the references that
// thread a conversation.

package peergroups

import (
	"crypto/rand"
	"slices"
	"strings"
	"unicode"
)

// MailClass is what a message to the admin address asks for.
type MailClass string

const (
	MailJoin        MailClass = "join"         // to join a group: answered with the join confirmation link
	MailLeave       MailClass = "leave"        // to leave: answered with the manage link
	MailRegister    MailClass = "register"     // to sign a council up to the Standard
	MailFacilitate  MailClass = "facilitate"   // to offer to facilitate
	MailPropose     MailClass = "propose"      // to start a group
	MailDataRequest MailClass = "data-request" // a subject-access or erasure request: the admins have a month
	MailQuestion    MailClass = "question"     // anything else, or a tie: a question for the admins
)

// mailRules are the phrases that say what a message asks for, matched as whole words
// in its subject and new text, lower case. A data request outranks everything; two
// other classes matched equally often make it a question for the admins.
var mailRules = []struct {
	class   MailClass
	phrases []string
}{
	{MailDataRequest, []string{"my data", "my personal data", "gdpr", "subject access", "data protection", "delete me", "delete my", "erase", "erasure", "right to be forgotten", "what data", "information you hold"}},
	{MailLeave, []string{"leave", "unsubscribe", "remove me", "take me off", "stop emailing", "stop sending", "no longer want", "opt out"}},
	{MailJoin, []string{"add me", "join", "joining", "sign me up", "be added", "take part", "taking part", "subscribe me", "become a member"}},
	{MailRegister, []string{"sign our council up", "sign up our council", "register our council", "the standard", "sign the standard", "signed up to the standard"}},
	{MailFacilitate, []string{"facilitate", "facilitator", "facilitating", "help run", "co-host", "host a session"}},
	{MailPropose, []string{"start a group", "new group", "set up a group", "create a group", "group in the", "group for the", "no group"}},
}

// MailClassification is what a message was taken to ask for, and why.
type MailClassification struct {
	Class   MailClass
	Matched []string // the phrases that matched, as the admins see them
	Group   string   // the ID of the group it names, if it names exactly one
}

// ClassifyMail says what a message asks for from its subject and what the sender
// wrote (quoted text already left out), naming the group it mentions (by name or ID).
func ClassifyMail(subject, text string, groups []Group) MailClassification {
	words := normaliseWords(subject + "\n" + text)
	var c MailClassification
	counts := map[MailClass]int{}
	for _, rule := range mailRules {
		for _, p := range rule.phrases {
			if hasPhrase(words, p) {
				counts[rule.class]++
				c.Matched = append(c.Matched, p)
			}
		}
	}
	for _, g := range groups {
		if hasPhrase(words, normaliseWords(g.Name)) || hasPhrase(words, normaliseWords(strings.ReplaceAll(g.ID, "-", " "))) {
			if c.Group != "" && c.Group != g.ID {
				c.Group = "" // two groups named: the admins decide
				break
			}
			c.Group = g.ID
		}
	}
	switch {
	case counts[MailDataRequest] > 0:
		c.Class = MailDataRequest
	case len(counts) == 0:
		c.Class = MailQuestion
	default:
		best, tie := MailQuestion, false
		for _, rule := range mailRules {
			n := counts[rule.class]
			switch {
			case n == 0:
			case best == MailQuestion || n > counts[best]:
				best, tie = rule.class, false
			case n == counts[best]:
				tie = true
			}
		}
		if tie {
			best = MailQuestion
		}
		c.Class = best
	}
	return c
}

// normaliseWords is text as lower-case words separated by single spaces, with
// punctuation as spaces (so that "Midlands," matches "midlands").
func normaliseWords(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "’", "'"))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '-'
	}), " ")
}

// hasPhrase reports whether words (normalised) contain phrase as whole words.
func hasPhrase(words, phrase string) bool {
	if phrase == "" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(words[i:], phrase)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(phrase)
		if (start == 0 || words[start-1] == ' ') && (end == len(words) || words[end] == ' ') {
			return true
		}
		i = start + 1
	}
}

// mailReferenceAlphabet has no letters that look alike (no I, L, O, U; no 0 or 1).
const mailReferenceAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewMailReference returns a conversation's reference, like PG-7K3Q9F.
func NewMailReference() string {
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = mailReferenceAlphabet[int(b[i])%len(mailReferenceAlphabet)]
	}
	return "PG-" + string(b)
}

// ValidMailReference reports whether s is a conversation's reference.
func ValidMailReference(s string) bool {
	rest, ok := strings.CutPrefix(s, "PG-")
	return ok && len(rest) == 6 && !strings.ContainsFunc(rest, func(r rune) bool { return !strings.ContainsRune(mailReferenceAlphabet, r) })
}

// FindMailReference returns the reference in square brackets in a subject
// ("Re: Your message [PG-7K3Q9F]"), or "".
func FindMailReference(subject string) string {
	for rest := subject; ; {
		i := strings.Index(rest, "[PG-")
		if i < 0 || len(rest) < i+11 {
			return ""
		}
		if ref := rest[i+1 : i+10]; rest[i+10] == ']' && ValidMailReference(ref) {
			return ref
		}
		rest = rest[i+1:]
	}
}

// ReplySubject is the subject of our reply to a message: "Re: " and the sender's
// subject (already one safe line), without the reply prefixes and references it
// carried, with the conversation's reference at the end.
func ReplySubject(subject, ref string) string {
	s := subject
	for {
		t := strings.TrimSpace(s)
		lower := strings.ToLower(t)
		cut := false
		for _, p := range []string{"re:", "aw:", "fw:", "fwd:", "sv:"} {
			if strings.HasPrefix(lower, p) {
				t, cut = t[len(p):], true
				break
			}
		}
		s = t
		if !cut {
			break
		}
	}
	if r := FindMailReference(s); r != "" {
		s = strings.TrimSpace(strings.ReplaceAll(s, "["+r+"]", ""))
	}
	if s = OneLine(s, 150); s == "" {
		s = "Your message"
	}
	return "Re: " + s + " [" + ref + "]"
}

// StateChanging reports whether a class asks for something that changes what we
// hold, which only a confirmation link sent to the address can do.
func (c MailClass) StateChanging() bool {
	return slices.Contains([]MailClass{MailJoin, MailLeave, MailRegister, MailFacilitate, MailPropose}, c)
}

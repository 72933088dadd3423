package peergroups

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NameWithLink is the message for a name that holds a web address.
const NameWithLink = "Enter your full name without a web address"

// Limits on what a person may type.
const (
	MaxNameLength  = 200
	MaxEmailLength = 254
	NotACouncil    = "not-a-council" // the council field's value for "My organisation is not a council"
)

// FieldError is a problem with one form field, in the words a person reads.
type FieldError struct {
	Field   string // the field's name and the id of its input
	Message string
}

// FieldErrors lists the problems with a form, in the order of its fields.
type FieldErrors []FieldError

// For returns the message for a field, or "".
func (fe FieldErrors) For(field string) string {
	for _, e := range fe {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

func (fe *FieldErrors) add(field, message string) { *fe = append(*fe, FieldError{field, message}) }

// Error makes the problems an error, for a caller that wants all of them (see Err).
func (fe FieldErrors) Error() string {
	msgs := make([]string, len(fe))
	for i, e := range fe {
		msgs[i] = e.Field + ": " + e.Message
	}
	return strings.Join(msgs, "; ")
}

// Err returns the problems as a KindInvalid error whose message is the first
// problem's, or nil when there are none. A service given values that no form checked
// refuses them with it: errors.As finds every problem.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Message: fe[0].Message, Err: fe}
}

// line checks a single-line answer of at most max characters. missing is the message
// when the answer is required and empty; "" makes it optional.
func (fe *FieldErrors) line(field, s, label string, max int, missing string) {
	if msg := checkLine(s, label, max); msg != "" {
		fe.add(field, msg)
	} else if s == "" && missing != "" {
		fe.add(field, missing)
	}
}

// short checks a single-line answer, as line does, that goes into emails sent to an
// address someone typed (a name, an organisation, a job title, an area): it may not
// hold a web address (see HasWebAddress), and linked is the message when it does.
func (fe *FieldErrors) short(field, s, label string, max int, missing, linked string) {
	problems := len(*fe)
	fe.line(field, s, label, max, missing)
	if len(*fe) == problems && HasWebAddress(s) {
		fe.add(field, linked)
	}
}

// paragraph checks an answer that may run to several lines (with "\n" between them),
// as line does.
func (fe *FieldErrors) paragraph(field, s, label string, max int, missing string) {
	if msg := checkParagraph(s, label, max); msg != "" {
		fe.add(field, msg)
	} else if s == "" && missing != "" {
		fe.add(field, missing)
	}
}

// email checks a required email address.
func (fe *FieldErrors) email(field, s string) {
	if msg := checkEmail(s); msg != "" {
		fe.add(field, msg)
	}
}

// ValidateEmail checks a lone email address field ("email").
func ValidateEmail(email string) FieldErrors {
	var errs FieldErrors
	errs.email("email", email)
	return errs
}

// ValidateReason checks a required reason (withdrawing a council, declining a proposal).
func ValidateReason(reason string) FieldErrors {
	var errs FieldErrors
	errs.paragraph("reason", reason, "Reason", 1000, "Enter the reason")
	return errs
}

// checkLine returns what is wrong with a single-line text answer, or "".
func checkLine(s, label string, max int) string {
	switch {
	case !utf8.ValidString(s):
		return label + " contains characters we cannot read. Type it again"
	case strings.ContainsAny(s, "\r\n"):
		return label + " must be on one line"
	case strings.ContainsFunc(s, unicode.IsControl):
		return label + " must not contain control characters"
	case utf8.RuneCountInString(s) > max:
		return label + " must be " + strconv.Itoa(max) + " characters or fewer"
	}
	return ""
}

// checkEmail returns what is wrong with an email address, or "".
func checkEmail(s string) string {
	if s == "" {
		return "Enter your email address"
	}
	if msg := checkLine(s, "Email address", MaxEmailLength); msg != "" {
		return msg
	}
	if len(s) > MaxEmailLength {
		return "Email address must be 254 characters or fewer"
	}
	if !ValidEmail(s) {
		return "Enter an email address in the correct format, like name@example.com"
	}
	return ""
}

// ValidEmail reports whether s is a plain address (local@domain) we can send to: ASCII,
// no display name, no quoting or comments, a domain with at least one dot.
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > 64 || len(s) > MaxEmailLength {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(isAlnum(c) || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0) {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return len(tld) >= 2 && !isDigit(tld[0])
}

// NormaliseEmail returns the form of an address used as its key: lower case.
func NormaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func isAlnum(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// checkParagraph returns what is wrong with an answer of several lines, or "".
func checkParagraph(s, label string, max int) string {
	switch {
	case !utf8.ValidString(s):
		return label + " contains characters we cannot read. Type it again"
	case strings.ContainsFunc(s, func(r rune) bool { return r < 32 && r != '\n' }):
		return label + " must not contain control characters"
	case utf8.RuneCountInString(s) > max:
		return label + " must be " + strconv.Itoa(max) + " characters or fewer"
	}
	return ""
}

// OneLine makes text safe to show on one line and to put in a header or a log line
// we write: valid UTF-8, no control characters (CR and LF included), no bidirectional
// overrides or line separators, runs of spaces as one, at most max characters.
func OneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u2028', r == '\u2029':
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max-1]) + "…"
	}
	return s
}

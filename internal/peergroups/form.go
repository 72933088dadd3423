package peergroups

import (
	"net/url"
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

// line reads a single-line answer of at most max characters. missing is the message
// when the answer is required and empty; "" makes it optional.
func (fe *FieldErrors) line(v url.Values, field, label string, max int, missing string) string {
	s, _ := text(v, field)
	if msg := checkLine(s, label, max); msg != "" {
		fe.add(field, msg)
	} else if s == "" && missing != "" {
		fe.add(field, missing)
	}
	return s
}

// short reads a single-line answer, as line does, that goes into emails sent to an
// address someone typed (a name, an organisation, a job title, an area): it may not
// hold a web address (see HasWebAddress), and linked is the message when it does.
func (fe *FieldErrors) short(v url.Values, field, label string, max int, missing, linked string) string {
	problems := len(*fe)
	s := fe.line(v, field, label, max, missing)
	if len(*fe) == problems && HasWebAddress(s) {
		fe.add(field, linked)
	}
	return s
}

// paragraph reads an answer that may run to several lines, as line does.
func (fe *FieldErrors) paragraph(v url.Values, field, label string, max int, missing string) string {
	s, _ := text(v, field)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if msg := checkParagraph(s, label, max); msg != "" {
		fe.add(field, msg)
	} else if s == "" && missing != "" {
		fe.add(field, missing)
	}
	return s
}

// email reads a required email address.
func (fe *FieldErrors) email(v url.Values, field string) string {
	s, _ := text(v, field)
	if msg := checkEmail(s); msg != "" {
		fe.add(field, msg)
	}
	return s
}

// SignupForm is the join form, decoded.
type SignupForm struct {
	Name         string
	Email        string
	Council      string // a council code, or NotACouncil
	Organisation string
	JobTitle     string
	Facilitate   bool
	Groups       []string
	Interest     bool // "tell me when a group starts in my region"
}

// Values returns the form as it would be posted, to carry answers between pages.
func (f SignupForm) Values() url.Values {
	v := url.Values{}
	v.Set("name", f.Name)
	v.Set("email", f.Email)
	v.Set("council", f.Council)
	v.Set("organisation", f.Organisation)
	v.Set("jobTitle", f.JobTitle)
	if f.Facilitate {
		v.Set("facilitate", "yes")
	}
	return v
}

// Region returns the region of the person's council, or "".
func (f SignupForm) Region(councils *Councils) string {
	c, ok := councils.Lookup(f.Council)
	if !ok {
		return ""
	}
	return c.Region
}

// DecodeDetails reads the "your details" part of the join form from posted values.
// It never fails: what is wrong is returned as field errors, with the answers kept.
func DecodeDetails(v url.Values, councils *Councils) (SignupForm, FieldErrors) {
	var f SignupForm
	var errs FieldErrors

	f.Name = errs.short(v, "name", "Full name", MaxNameLength, "Enter your full name", NameWithLink)
	f.Email = errs.email(v, "email")

	f.Council, _ = text(v, "council")
	switch {
	case f.Council == "":
		errs.add("council", "Select your council, or select ‘My organisation is not a council’")
		f.Organisation, _ = text(v, "organisation") // kept for the page that shows the error
	case f.Council == NotACouncil:
		f.Organisation = errs.short(v, "organisation", "Organisation name", MaxNameLength, "Enter the name of your organisation", "Enter the name of your organisation without a web address")
	default:
		if _, ok := councils.Lookup(f.Council); !ok {
			errs.add("council", "Select your council from the list")
			f.Council = ""
		}
		f.Organisation = ""
	}

	f.JobTitle = errs.short(v, "jobTitle", "Job title", MaxNameLength, "", "Enter your job title without a web address")

	switch facilitate, _ := text(v, "facilitate"); facilitate {
	case "":
	case "yes":
		f.Facilitate = true
	default:
		errs.add("facilitate", "Select whether you would like to help facilitate")
	}
	return f, errs
}

// DecodeSignup reads the whole join form: the details and the groups chosen.
func DecodeSignup(v url.Values, councils *Councils, groups []Group) (SignupForm, FieldErrors) {
	f, errs := DecodeDetails(v, councils)
	seen := map[string]bool{}
	for _, id := range v["groups"] {
		g, ok := FindGroup(groups, id)
		if !ok || g.Paused {
			errs.add("groups", "Select peer groups from the list")
			f.Groups = nil
			break
		}
		if !seen[id] {
			seen[id] = true
			f.Groups = append(f.Groups, id)
		}
	}
	switch interest, _ := text(v, "interest"); interest {
	case "":
	case "yes":
		if f.Region(councils) == "" {
			errs.add("groups", "Select peer groups from the list")
		} else {
			f.Interest = true
		}
	default:
		errs.add("groups", "Select peer groups from the list")
	}
	if len(f.Groups) == 0 && !f.Interest && errs.For("groups") == "" {
		errs.add("groups", "Select at least one peer group to join")
	}
	return f, errs
}

// DecodeEmail reads a lone email address field.
func DecodeEmail(v url.Values) (string, FieldErrors) {
	var errs FieldErrors
	email := errs.email(v, "email")
	return email, errs
}

// text returns a field's value with surrounding spaces removed. A field sent twice is
// read once: the first value counts.
func text(v url.Values, name string) (string, bool) {
	vals, ok := v[name]
	if !ok || len(vals) == 0 {
		return "", false
	}
	return strings.TrimSpace(vals[0]), true
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

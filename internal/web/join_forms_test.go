package web

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

var testCouncils = pg.NewCouncils([]pg.Council{
	{Code: "BIR", Name: "Birmingham City Council", Nation: "England", Region: "West Midlands"},
	{Code: "MAN", Name: "Manchester City Council", Nation: "England", Region: "North West"},
	{Code: "LBH", Name: "London Borough of Hackney", Nation: "England", Region: "London"},
})

var testGroups = []pg.Group{
	{ID: "london", Name: "London", Regions: []string{"London"}},
	{ID: "midlands", Name: "Midlands", Regions: []string{"East Midlands", "West Midlands"}},
	{ID: "closed", Name: "Closed", Regions: []string{"Nowhere"}, Paused: true},
}

func form(changes ...string) url.Values {
	v := url.Values{"name": {"Ada Lovelace"}, "email": {"ada@example.org"}, "council": {"BIR"}, "groups": {"midlands"}}
	for i := 0; i+1 < len(changes); i += 2 {
		if changes[i+1] == "<delete>" {
			v.Del(changes[i])
		} else {
			v.Set(changes[i], changes[i+1])
		}
	}
	return v
}

func TestDecodeSignup(t *testing.T) {
	cases := []struct {
		name  string
		form  url.Values
		field string // the field with the error, "" for none
		want  string
	}{
		{"a complete form is accepted", form(), "", ""},
		{"spaces around answers are trimmed", form("name", "  Ada  "), "", ""},
		{"an empty name is refused", form("name", ""), "name", "Enter your full name"},
		{"a name of 200 characters is accepted", form("name", strings.Repeat("é", 200)), "", ""},
		{"a name of 201 characters is refused", form("name", strings.Repeat("é", 201)), "name", "Full name must be 200 characters or fewer"},
		{"a name on two lines is refused", form("name", "Ada\r\nLovelace"), "name", "Full name must be on one line"},
		{"a name with a tab is refused", form("name", "Ada\tLovelace"), "name", "Full name must not contain control characters"},
		{"a name that is not UTF-8 is refused", form("name", "\xc3\x28"), "name", "Full name contains characters we cannot read. Type it again"},
		{"an empty email is refused", form("email", ""), "email", "Enter your email address"},
		{"an email without a domain is refused", form("email", "ada@"), "email", "Enter an email address in the correct format, like name@example.com"},
		{"an email of 255 characters is refused", form("email", strings.Repeat("a", 60)+"@"+strings.Repeat("b", 190)+".org"), "email", "Email address must be 254 characters or fewer"},
		{"no council is refused", form("council", ""), "council", "Select your council, or select ‘My organisation is not a council’"},
		{"an unknown council is refused", form("council", "XYZ"), "council", "Select your council from the list"},
		{"not a council needs an organisation", form("council", pg.NotACouncil), "organisation", "Enter the name of your organisation"},
		{"not a council with an organisation is accepted", form("council", pg.NotACouncil, "organisation", "NHS Digital"), "", ""},
		{"a job title on two lines is refused", form("jobTitle", "a\nb"), "jobTitle", "Job title must be on one line"},
		{"no group is refused", form("groups", "<delete>"), "groups", "Select at least one peer group to join"},
		{"an unknown group is refused", form("groups", "narnia"), "groups", "Select peer groups from the list"},
		{"a paused group is refused", form("groups", "closed"), "groups", "Select peer groups from the list"},
		{"interest alone is accepted", form("groups", "<delete>", "council", "MAN", "interest", "yes"), "", ""},
		{"interest without a council is refused", form("groups", "<delete>", "council", pg.NotACouncil, "organisation", "X", "interest", "yes"), "groups", "Select peer groups from the list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := decodeSignup(tc.form, testCouncils, testGroups)
			if tc.field == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if got := errs.For(tc.field); got != tc.want {
				t.Fatalf("%s: got %q, want %q (all: %v)", tc.field, got, tc.want, errs)
			}
		})
	}
}

func TestDecodeSignupKeepsTheAnswers(t *testing.T) {
	f, errs := decodeSignup(form("name", "", "jobTitle", "Designer", "facilitate", "yes"), testCouncils, testGroups)
	if len(errs) != 1 {
		t.Fatalf("errors: %v", errs)
	}
	if f.Email != "ada@example.org" || f.JobTitle != "Designer" || !f.Facilitate || f.Council != "BIR" || len(f.Groups) != 1 {
		t.Fatalf("answers lost: %+v", f)
	}
}

func TestAnOrganisationTypedWithNoCouncilChosenIsKept(t *testing.T) {
	f, errs := decodeDetails(form("council", "", "organisation", "NHS England"), testCouncils)
	if errs.For("council") == "" || f.Organisation != "NHS England" {
		t.Fatalf("organisation %q, errors %v", f.Organisation, errs)
	}
}

// FuzzDecodeSignup feeds arbitrary form bodies to the decoder: it must never panic,
// and what it accepts must be safe to put in a page or an email.
func FuzzDecodeSignup(f *testing.F) {
	f.Add(form().Encode())
	f.Add("name=%0d%0aBcc:x&email=a@b.co&council=BIR&groups=midlands")
	f.Add("name=\xff&email=&council=not-a-council&organisation=%00")
	f.Add("groups=midlands&groups=midlands&groups=london&interest=yes&council=MAN")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		got, errs := decodeSignup(v, testCouncils, testGroups)
		if len(errs) > 0 {
			return
		}
		for _, s := range []string{got.Name, got.Email, got.Organisation, got.JobTitle} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00") {
				t.Fatalf("accepted an unsafe answer %q", s)
			}
		}
		if !pg.ValidEmail(got.Email) || len(got.Email) > pg.MaxEmailLength {
			t.Fatalf("accepted an invalid email %q", got.Email)
		}
		if utf8.RuneCountInString(got.Name) > pg.MaxNameLength || got.Name == "" {
			t.Fatalf("accepted a name of %d characters", utf8.RuneCountInString(got.Name))
		}
		if len(got.Groups) == 0 && !got.Interest {
			t.Fatal("accepted a form with no group")
		}
	})
}

// Every short answer that goes into an email sent to a typed address refuses a web
// address with its own message, and keeps the answer; names people really have pass.
func TestShortAnswersInEmailsCannotCarryALink(t *testing.T) {
	type decoder func(url.Values) pg.FieldErrors
	details := func(v url.Values) pg.FieldErrors { _, errs := decodeDetails(v, testCouncils); return errs }
	proposal := func(v url.Values) pg.FieldErrors { _, errs := decodeProposal(v); return errs }
	interest := func(v url.Values) pg.FieldErrors { _, _, errs := decodeInterest(v); return errs }
	register := func(v url.Values) pg.FieldErrors { _, errs := decodeRegister(v, testCouncils); return errs }
	valid := map[string]url.Values{
		"join":     form("council", pg.NotACouncil, "organisation", "Acme Ltd", "jobTitle", "Head of Digital"),
		"proposal": {"area": {"North West"}, "name": {"Ada Lovelace"}, "email": {"ada@example.org"}, "why": {"Because."}},
		"interest": {"name": {"Ada Lovelace"}, "email": {"ada@example.org"}},
		"register": {"council": {"BIR"}, "name": {"Ada Lovelace"}, "email": {"ada@example.org"}, "role": {"Head of Digital"}},
	}
	for _, tc := range []struct {
		form, field, message string
		decode               decoder
	}{
		{"join", "name", "Enter your full name without a web address", details},
		{"join", "organisation", "Enter the name of your organisation without a web address", details},
		{"join", "jobTitle", "Enter your job title without a web address", details},
		{"proposal", "area", "Enter the area without a web address", proposal},
		{"proposal", "name", "Enter your full name without a web address", proposal},
		{"interest", "name", "Enter your full name without a web address", interest},
		{"register", "name", "Enter your full name without a web address", register},
		{"register", "role", "Enter your role without a web address", register},
	} {
		t.Run(tc.form+" "+tc.field, func(t *testing.T) {
			if errs := tc.decode(valid[tc.form]); len(errs) != 0 {
				t.Fatalf("the valid form is refused: %v", errs)
			}
			for _, bad := range []string{"Win a prize at evil.co.uk/x", "https://evil.example", "www.evil", "Ada example.com"} {
				v := clone(valid[tc.form])
				v.Set(tc.field, bad)
				errs := tc.decode(v)
				if got := errs.For(tc.field); got != tc.message {
					t.Errorf("%q: message %q, want %q", bad, got, tc.message)
				}
				if len(errs) != 1 {
					t.Errorf("%q: %d problems, want only the %s's: %v", bad, len(errs), tc.field, errs)
				}
			}
			for _, good := range []string{"St. Helens Council", "J. Smith", "O'Neil", "Smith & Co."} {
				v := clone(valid[tc.form])
				v.Set(tc.field, good)
				if errs := tc.decode(v); len(errs) != 0 {
					t.Errorf("%q is refused: %v", good, errs)
				}
			}
		})
	}
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

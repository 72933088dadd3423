package peergroups_test

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
			_, errs := pg.DecodeSignup(tc.form, testCouncils, testGroups)
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
	f, errs := pg.DecodeSignup(form("name", "", "jobTitle", "Designer", "facilitate", "yes"), testCouncils, testGroups)
	if len(errs) != 1 {
		t.Fatalf("errors: %v", errs)
	}
	if f.Email != "ada@example.org" || f.JobTitle != "Designer" || !f.Facilitate || f.Council != "BIR" || len(f.Groups) != 1 {
		t.Fatalf("answers lost: %+v", f)
	}
}

func TestValidEmail(t *testing.T) {
	for addr, want := range map[string]bool{
		"ada@example.org":                        true,
		"ada.lovelace+peer@council.gov.uk":       true,
		"o'brien@example.ie":                     true,
		"ada@localhost":                          false,
		"ada@@example.org":                       false,
		"@example.org":                           false,
		".ada@example.org":                       false,
		"ada..l@example.org":                     false,
		"ada@-example.org":                       false,
		"ada@example.123":                        false,
		"ada lovelace@example.org":               false,
		"ada@exa_mple.org":                       false,
		"ada@example.org\n":                      false,
		"\"ada\"@example.org":                    false,
		"ädä@example.org":                        false,
		strings.Repeat("a", 65) + "@example.org": false,
	} {
		if got := pg.ValidEmail(addr); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestGroupsForRegion(t *testing.T) {
	groups := append(testGroups, pg.Group{ID: "south", Name: "South", Regions: []string{"South East", "South West"}})
	for region, want := range map[string]string{
		"West Midlands": "midlands",
		"East Midlands": "midlands",
		"London":        "london",
		"South West":    "south",
		"South East":    "south",
		"North West":    "",
		"Nowhere":       "", // the only group there is paused
	} {
		got := pg.GroupsForRegion(groups, region)
		switch {
		case want == "" && len(got) != 0:
			t.Errorf("%s: got %v, want no group", region, got)
		case want != "" && (len(got) != 1 || got[0].ID != want):
			t.Errorf("%s: got %v, want %s", region, got, want)
		}
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
		got, errs := pg.DecodeSignup(v, testCouncils, testGroups)
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

// FuzzDecodeConsoleForms feeds arbitrary form bodies to the other decoders (groups,
// council sign-ups, proposals, interest, reasons): none may panic, and single-line
// answers they accept never hold a line break or invalid UTF-8.
func FuzzDecodeConsoleForms(f *testing.F) {
	f.Add("id=north-west&name=North+West&regions=North+West&description=a%0D%0Ab&contact=x@y.org")
	f.Add("council=BIR&name=Ada&email=ada@example.org&role=Head")
	f.Add("area=North%0AWest&name=%FF&email=a@b.co&why=" + strings.Repeat("x", 2001))
	f.Add("reason=%00&name=&email=@")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		safe := func(what, s string) {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00") {
				t.Fatalf("%s accepted an unsafe line %q", what, s)
			}
		}
		if g, errs := pg.DecodeGroup(v, testCouncils, true); len(errs) == 0 {
			safe("group id", g.ID)
			safe("group name", g.Name)
		}
		if r, errs := pg.DecodeRegister(v, testCouncils); len(errs) == 0 {
			safe("register name", r.Name)
			safe("register role", r.Role)
			if !pg.ValidEmail(r.Email) {
				t.Fatalf("register accepted %q", r.Email)
			}
		}
		if p, errs := pg.DecodeProposal(v); len(errs) == 0 {
			safe("proposal area", p.Area)
			safe("proposal name", p.Name)
			if !utf8.ValidString(p.Why) || strings.ContainsRune(p.Why, 0) {
				t.Fatalf("proposal accepted %q", p.Why)
			}
		}
		if name, email, errs := pg.DecodeInterest(v); len(errs) == 0 {
			safe("interest name", name)
			safe("interest email", email)
		}
		if r, errs := pg.DecodeReason(v); len(errs) == 0 && (!utf8.ValidString(r) || strings.ContainsRune(r, 0)) {
			t.Fatalf("reason accepted %q", r)
		}
	})
}

func TestAnOrganisationTypedWithNoCouncilChosenIsKept(t *testing.T) {
	f, errs := pg.DecodeDetails(form("council", "", "organisation", "NHS England"), testCouncils)
	if errs.For("council") == "" || f.Organisation != "NHS England" {
		t.Fatalf("organisation %q, errors %v", f.Organisation, errs)
	}
}

package peergroups

// SignupForm is the join form's answers.
type SignupForm struct {
	Name         string
	Email        string
	Council      string // a council code, or NotACouncil
	Organisation string // only with NotACouncil
	JobTitle     string
	Facilitate   bool
	Groups       []string
	Interest     bool // "tell me when a group starts in my region"
}

// Region returns the region of the person's council, or "".
func (f SignupForm) Region(councils *Councils) string {
	c, ok := councils.Lookup(f.Council)
	if !ok {
		return ""
	}
	return c.Region
}

// ValidateDetails checks the "your details" part of the join form, in the order of its
// fields.
func (f SignupForm) ValidateDetails(councils *Councils) FieldErrors {
	var errs FieldErrors
	errs.short("name", f.Name, "Full name", MaxNameLength, "Enter your full name", NameWithLink)
	errs.email("email", f.Email)
	switch {
	case f.Council == "":
		errs.add("council", "Select your council, or select ‘My organisation is not a council’")
	case f.Council == NotACouncil:
		errs.short("organisation", f.Organisation, "Organisation name", MaxNameLength, "Enter the name of your organisation", "Enter the name of your organisation without a web address")
	default:
		if _, ok := councils.Lookup(f.Council); !ok {
			errs.add("council", "Select your council from the list")
		}
	}
	errs.short("jobTitle", f.JobTitle, "Job title", MaxNameLength, "", "Enter your job title without a web address")
	return errs
}

// Validate checks the whole join form: the details and the groups chosen among groups
// (none paused), or the interest in a group for the region of the person's council.
func (f SignupForm) Validate(councils *Councils, groups []Group) FieldErrors {
	errs := f.ValidateDetails(councils)
	for _, id := range f.Groups {
		if g, ok := FindGroup(groups, id); !ok || g.Paused {
			errs.add("groups", "Select peer groups from the list")
			break
		}
	}
	if f.Interest && f.Region(councils) == "" {
		errs.add("groups", "Select peer groups from the list")
	}
	if len(f.Groups) == 0 && !f.Interest && errs.For("groups") == "" {
		errs.add("groups", "Select at least one peer group to join")
	}
	return errs
}

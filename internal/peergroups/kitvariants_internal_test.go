package peergroups

import (
	"slices"
	"strings"
	"testing"
)

func sec(id, body string) KitSection {
	return KitSection{ID: id, Kind: SectionHandout, Audience: AudienceParticipant, Title: strings.ToUpper(id), Body: body}
}

// questions merges the three and makes each clash a question answered with choice/own.
func questions(base, ours, theirs KitDoc, choice, own string) (mergeDocs, []KitMergeQuestion) {
	d := mergeDocs{base: base, ours: ours, theirs: theirs}
	var clashes []KitClash
	d.merged, clashes = MergeKits(base, ours, theirs)
	var qs []KitMergeQuestion
	for _, c := range clashes {
		q := KitMergeQuestion{KitClash: c, Key: clashKey(c), Texts: clashTexts(c), SectionTitle: strings.ToUpper(c.Section), CanOwn: c.Field != "kind" && c.Field != "audience" && c.Field != "licence"}
		q.Answer = KitMergeAnswer{Key: q.Key, Texts: q.Texts, Choice: choice, Own: own}
		qs = append(qs, q)
	}
	return d, qs
}

func sectionIDsOf(d KitDoc) string {
	var out []string
	for _, s := range d.Sections {
		out = append(out, s.ID+"="+strings.TrimSpace(s.Body))
	}
	return strings.Join(out, " ")
}

func TestAnsweringAMergesClashes(t *testing.T) {
	base := KitDoc{Title: "Kit", Licence: LicenceOGL, Sections: []KitSection{sec("a", "A\n"), sec("b", "B\n"), sec("c", "C\n")}}
	// They removed b, which we changed.
	weChanged := KitDoc{Title: "Kit", Licence: LicenceOGL, Sections: []KitSection{sec("a", "A\n"), sec("b", "B ours\n"), sec("c", "C\n")}}
	theyRemoved := KitDoc{Title: "Kit", Licence: LicenceOGL, Sections: []KitSection{sec("a", "A\n"), sec("c", "C\n")}}
	// We removed b, which they changed.
	weRemoved := theyRemoved
	theyChanged := KitDoc{Title: "Kit", Licence: LicenceOGL, Sections: []KitSection{sec("a", "A\n"), sec("b", "B theirs\n"), sec("c", "C\n")}}
	for _, tc := range []struct {
		name         string
		ours, theirs KitDoc
		choice, own  string
		want         string
	}{
		{"they removed a section we changed; keep ours: it comes back in its place", weChanged, theyRemoved, MergeKeepOurs, "", "a=A b=B ours c=C"},
		{"they removed a section we changed; take theirs: it goes", weChanged, theyRemoved, MergeTakeTheirs, "", "a=A c=C"},
		{"they removed a section we changed; our own text", weChanged, theyRemoved, MergeOwn, "B mine", "a=A b=B mine c=C"},
		{"we removed a section they changed; keep ours: it goes", weRemoved, theyChanged, MergeKeepOurs, "", "a=A c=C"},
		{"we removed a section they changed; take theirs: it stays", weRemoved, theyChanged, MergeTakeTheirs, "", "a=A b=B theirs c=C"},
		{"we removed a section they changed; our own text", weRemoved, theyChanged, MergeOwn, "B mine", "a=A b=B mine c=C"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, qs := questions(base, tc.ours, tc.theirs, tc.choice, tc.own)
			if len(qs) != 1 || qs[0].Field != "section" {
				t.Fatalf("want one clash on the section: %+v", qs)
			}
			got, errs := resolve(d, qs)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if sectionIDsOf(got) != tc.want {
				t.Errorf("got %s, want %s", sectionIDsOf(got), tc.want)
			}
		})
	}
}

func TestAMergesAnswersAreChecked(t *testing.T) {
	base := KitDoc{Title: "Kit", Licence: LicenceOGL, Sections: []KitSection{sec("a", "A\n")}}
	ours := KitDoc{Title: "Our kit", Licence: LicenceOGL, Sections: []KitSection{{ID: "a", Kind: SectionSlides, Audience: AudienceParticipant, Title: "A", Body: "A\n"}}}
	theirs := KitDoc{Title: "Their kit", Licence: LicenceOGL, Sections: []KitSection{{ID: "a", Kind: SectionExercise, Audience: AudienceParticipant, Title: "A", Body: "A\n"}}}
	for _, tc := range []struct {
		name, choice, own string
		want              []string
	}{
		{"unanswered", "", "", []string{"choice-0", "choice-1"}},
		{"own text left empty", MergeOwn, " ", []string{"own-0", "choice-1"}}, // a kind has no own text: choice-1
		{"own title too long", MergeOwn, strings.Repeat("x", KitTitleMax+1), []string{"own-0", "choice-1"}},
		{"keep ours everywhere", MergeKeepOurs, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, qs := questions(base, ours, theirs, tc.choice, tc.own)
			if len(qs) != 2 || qs[0].Key != "kit.title" || qs[1].Key != "a.kind" {
				t.Fatalf("want clashes on the kit's title and a's kind: %+v", qs)
			}
			got, errs := resolve(d, qs)
			var fields []string
			for _, e := range errs {
				fields = append(fields, e.Field)
			}
			if !slices.Equal(fields, tc.want) {
				t.Errorf("errors on %v, want %v (%v)", fields, tc.want, errs)
			}
			if tc.want == nil && (got.Title != "Our kit" || got.Sections[0].Kind != SectionSlides) {
				t.Errorf("keep ours: %+v", got)
			}
		})
	}
}

func TestOnlyAnswersToTheSameClashAreKeptWhenAMergeStartsAgain(t *testing.T) {
	base := KitDoc{Sections: []KitSection{sec("a", "A\n"), sec("b", "B\n")}}
	ours := KitDoc{Sections: []KitSection{sec("a", "A ours\n"), sec("b", "B ours\n")}}
	theirs := KitDoc{Sections: []KitSection{sec("a", "A theirs\n"), sec("b", "B theirs\n")}}
	_, before := questions(base, ours, theirs, MergeTakeTheirs, "")
	// Their b moves on; a is the same clash.
	theirs.Sections[1].Body = "B theirs again\n"
	_, after := questions(base, ours, theirs, "", "")
	st := KitMergeState{Questions: after}
	kept, dropped := st.apply([]KitMergeAnswer{before[0].Answer, before[1].Answer})
	if kept != 1 || dropped != 1 || st.Questions[0].Answer.Choice != MergeTakeTheirs || st.Questions[1].Answer.Choice != "" {
		t.Errorf("kept %d, dropped %d: %+v", kept, dropped, st.Questions)
	}
}

func TestWhereAVariantsSectionsComeFrom(t *testing.T) {
	base := KitDoc{Sections: []KitSection{sec("a", "A\n"), sec("b", "B\n")}}
	head := KitDoc{Sections: []KitSection{sec("a", "A\n"), sec("b", "B changed\n"), sec("c", "C\n")}}
	got := origins(base, head)
	if got["a"] != OriginInherited || got["b"] != OriginChanged || got["c"] != OriginAdded {
		t.Errorf("origins: %v", got)
	}
	retitled := sec("a", "A\n")
	retitled.Audience = AudienceFacilitator
	if o := origins(base, KitDoc{Sections: []KitSection{retitled}}); o["a"] != OriginChanged {
		t.Errorf("a section whose audience changed is %q", o["a"])
	}
	if d := participantDoc(KitDoc{Sections: []KitSection{retitled, sec("b", "B\n")}}); len(d.Sections) != 1 || d.Sections[0].ID != "b" {
		t.Errorf("the participant view keeps %v", sectionIDsOf(d))
	}
}

package peergroups_test

import (
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestNormaliseTextKeepsLFNoTrailingSpacesAndOneFinalNewline(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"\r\n \r\n":            "",
		"one\r\ntwo  \r\n\r\n": "one\ntwo\n",
		"one\rtwo":             "one\ntwo\n",
		"a \t\n\nb":            "a\n\nb\n",
		"bad \xff byte":        "bad \uFFFD byte\n",
		"\n\nlead\n\n\n":       "lead\n",
		"  indented code\n":    "  indented code\n",
	} {
		if got := pg.NormaliseText(in); got != want {
			t.Errorf("NormaliseText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKitDocumentsAreAddressedByTheirNormalisedContent(t *testing.T) {
	a := pg.KitDoc{Title: " Kit ", Licence: pg.LicenceOGL, Sections: []pg.KitSection{{ID: "s-1", Kind: "notes", Audience: "participant", Title: "Intro", Body: "Hello\r\n"}}}.Normalise()
	b := pg.KitDoc{Title: "Kit", Licence: pg.LicenceOGL, Sections: []pg.KitSection{{ID: "s-1", Kind: "notes", Audience: "participant", Title: "Intro", Body: "Hello  "}}}.Normalise()
	_, ha, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	_, hb, _ := b.Encode()
	if ha != hb || !pg.ValidKitHash(ha) {
		t.Errorf("the same content saved from Windows and elsewhere has addresses %s and %s", ha, hb)
	}
}

func doc(sections ...pg.KitSection) pg.KitDoc {
	return pg.KitDoc{Title: "Kit", Summary: "Sum", Licence: pg.LicenceOGL, Sections: sections}
}

func sec(id, body string) pg.KitSection {
	return pg.KitSection{ID: id, Kind: pg.SectionNotes, Audience: pg.AudienceParticipant, Title: "T " + id, Body: body}
}

func bodies(d pg.KitDoc) string {
	var b []string
	for _, s := range d.Sections {
		b = append(b, s.ID+"="+s.Body)
	}
	return strings.Join(b, ",")
}

func TestMergeKitsTakesEachSidesChangesToDifferentSections(t *testing.T) {
	base := doc(sec("a", "A"), sec("b", "B"))
	ours := doc(sec("a", "A ours"), sec("b", "B"))
	theirs := doc(sec("a", "A"), sec("b", "B theirs"))
	theirs.Title = "New title"
	got, clashes := pg.MergeKits(base, ours, theirs)
	if len(clashes) != 0 {
		t.Fatalf("clashes: %+v", clashes)
	}
	if bodies(got) != "a=A ours,b=B theirs" || got.Title != "New title" {
		t.Errorf("merged to %q, title %q", bodies(got), got.Title)
	}
}

func TestMergeKitsClashesOnlyWhenBothChangedTheSameFieldDifferently(t *testing.T) {
	base := doc(sec("a", "A"))
	same, clashes := pg.MergeKits(base, doc(sec("a", "X")), doc(sec("a", "X")))
	if len(clashes) != 0 || bodies(same) != "a=X" {
		t.Errorf("the same change on both sides: %q %+v", bodies(same), clashes)
	}
	_, clashes = pg.MergeKits(base, doc(sec("a", "ours")), doc(sec("a", "theirs")))
	if len(clashes) != 1 || clashes[0].Section != "a" || clashes[0].Field != "body" || clashes[0].Ours != "ours" || clashes[0].Theirs != "theirs" || clashes[0].Base != "A" {
		t.Errorf("clashes: %+v", clashes)
	}
}

// Two people who changed different paragraphs of one section's body both keep their
// change; the same paragraph changed differently is a clash, with the three texts.
func TestMergeKitsMergesABodyLineByLine(t *testing.T) {
	base := doc(sec("a", "First paragraph.\nSecond paragraph.\nThird paragraph.\n"))
	ours := doc(sec("a", "First paragraph, ours.\nSecond paragraph.\nThird paragraph.\n"))
	theirs := doc(sec("a", "First paragraph.\nSecond paragraph.\nThird paragraph, theirs.\nA fourth, theirs.\n"))
	got, clashes := pg.MergeKits(base, ours, theirs)
	want := "First paragraph, ours.\nSecond paragraph.\nThird paragraph, theirs.\nA fourth, theirs.\n"
	if len(clashes) != 0 || got.Sections[0].Body != want {
		t.Fatalf("merged to %q with clashes %+v, want %q", got.Sections[0].Body, clashes, want)
	}
	clash := doc(sec("a", "First paragraph.\nSecond paragraph, theirs.\nThird paragraph.\n"))
	_, clashes = pg.MergeKits(base, doc(sec("a", "First paragraph.\nSecond paragraph, ours.\nThird paragraph.\n")), clash)
	if len(clashes) != 1 || clashes[0].Field != "body" || !strings.Contains(clashes[0].Ours, "ours") || !strings.Contains(clashes[0].Theirs, "theirs") {
		t.Errorf("the same paragraph changed differently: clashes %+v", clashes)
	}
}

func TestMergeKitsKeepsSectionsAddedOnBothSidesAndRemovals(t *testing.T) {
	base := doc(sec("a", "A"), sec("b", "B"))
	ours := doc(sec("a", "A"), sec("new1", "N1"), sec("b", "B"))
	theirs := doc(sec("a", "A"), sec("new2", "N2"))
	got, clashes := pg.MergeKits(base, ours, theirs)
	if len(clashes) != 0 || bodies(got) != "a=A,new1=N1,new2=N2" {
		t.Errorf("merged to %q, clashes %+v", bodies(got), clashes)
	}
	// Removed on one side and edited on the other: a clash, and nothing is lost.
	_, clashes = pg.MergeKits(base, doc(sec("a", "A"), sec("b", "B edited")), doc(sec("a", "A")))
	if len(clashes) != 1 || clashes[0].Field != "section" || clashes[0].Ours != "B edited" {
		t.Errorf("edit against removal: %+v", clashes)
	}
}

func TestMergeOfTheSameEditOnBothSidesIsThatEdit(t *testing.T) {
	base := doc(sec("a", "A"), sec("b", "B"))
	x := doc(sec("b", "B2"), sec("c", "C"))
	got, clashes := pg.MergeKits(base, x, x)
	if len(clashes) != 0 || bodies(got) != bodies(x) {
		t.Errorf("merge(base, x, x) = %q, want %q (%+v)", bodies(got), bodies(x), clashes)
	}
}

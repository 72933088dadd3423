package peergroups_test

import (
	"strings"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// sides joins a word diff's pieces back into the two texts it compared.
func sides(pieces []pg.TextPiece) (from, to string) {
	var a, b strings.Builder
	for _, p := range pieces {
		if p.Op != pg.DiffAdded {
			a.WriteString(p.Text)
		}
		if p.Op != pg.DiffRemoved {
			b.WriteString(p.Text)
		}
	}
	return a.String(), b.String()
}

// marked writes a diff as text: [-removed-] and {+added+}.
func marked(pieces []pg.TextPiece) string {
	var sb strings.Builder
	for _, p := range pieces {
		switch p.Op {
		case pg.DiffAdded:
			sb.WriteString("{+" + p.Text + "+}")
		case pg.DiffRemoved:
			sb.WriteString("[-" + p.Text + "-]")
		default:
			sb.WriteString(p.Text)
		}
	}
	return sb.String()
}

func TestWordDiffMarksWholeWordsAndKeepsTheRest(t *testing.T) {
	for _, c := range []struct{ name, a, b, want string }{
		{"one word changed", "We start at ten.", "We start at eleven.", "We start at [-ten-]{+eleven+}."},
		{"part of a word changed marks the word", "Bring a laptop", "Bring a laptops", "Bring a [-laptop-]{+laptops+}"},
		{"two words replaced with the space between", "the cat sat", "a dog sat", "[-the cat-]{+a dog+} sat"},
		{"a word added", "Arrive by ten", "Arrive early by ten", "Arrive {+early +}by ten"},
		{"a word removed", "Arrive early by ten", "Arrive by ten", "Arrive [-early -]by ten"},
		{"a new paragraph", "One.\n", "One.\n\nTwo.\n", "One.{+\n\nTwo.+}\n"},
		{"same text", "Same.", "Same.", "Same."},
		{"from nothing", "", "New text", "{+New text+}"},
		{"to nothing", "Old text", "", "[-Old text-]"},
		{"accented words are words", "café crème", "café noir", "café [-crème-]{+noir+}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := pg.WordDiff(c.a, c.b)
			if m := marked(got); m != c.want {
				t.Errorf("WordDiff(%q, %q) = %q, want %q", c.a, c.b, m, c.want)
			}
			if a, b := sides(got); a != c.a || b != c.b {
				t.Errorf("the pieces give back %q and %q", a, b)
			}
		})
	}
}

func TestAChangedWordInALongBodyIsTheOnlyThingMarked(t *testing.T) {
	var sb strings.Builder
	for i := range 2000 {
		sb.WriteString("Paragraph with several words in it, number ")
		sb.WriteString(strings.Repeat("x", i%7+1))
		sb.WriteString(".\n\n")
	}
	long := sb.String()
	changed := strings.Replace(long, "several words", "several changed words", 1)
	changed = strings.Replace(changed, "number xxx.", "number yyy.", 1)
	got := pg.WordDiff(long, changed)
	if m := marked(got); strings.Count(m, "{+") != 2 || strings.Count(m, "[-") != 1 || !strings.Contains(m, "several {+changed +}words") || !strings.Contains(m, "number [-xxx-]{+yyy+}.") {
		t.Errorf("a long body with one word added and one changed is marked %d times:\n%.300s", strings.Count(m, "{+")+strings.Count(m, "[-"), m)
	}
	if a, b := sides(got); a != long || b != changed {
		t.Error("the pieces do not give the two texts back")
	}
}

func TestWordDiffIsSafeWithInvalidUTF8(t *testing.T) {
	a, b := "bad \xff byte \xe2\x82 here", "bad \xfe byte \xe2\x82 there"
	got := pg.WordDiff(a, b)
	if x, y := sides(got); x != a || y != b {
		t.Errorf("invalid UTF-8 was changed: %q %q", x, y)
	}
	if m := marked(got); !strings.Contains(m, "[-\xff-]{+\xfe+}") || !strings.Contains(m, "[-here-]{+there+}") {
		t.Errorf("marked %q", m)
	}
}

func kitDoc(sections ...pg.KitSection) pg.KitDoc {
	return pg.KitDoc{Title: "Research with users", Summary: "A half-day session.", Licence: pg.LicenceOGL, Sections: sections}
}

func section(id, title, body string) pg.KitSection {
	return pg.KitSection{ID: id, Kind: pg.SectionHandout, Audience: pg.AudienceParticipant, Title: title, Body: body}
}

// statuses lists a comparison's sections as "id:status".
func statuses(c pg.KitComparison) string {
	var out []string
	for _, s := range c.Sections {
		st := s.ID + ":" + string(s.Status)
		if s.Moved && s.Status != pg.SectionMoved {
			st += "+moved"
		}
		out = append(out, st)
	}
	return strings.Join(out, " ")
}

func TestCompareFindsAddedRemovedChangedAndUnchangedSectionsByID(t *testing.T) {
	from := kitDoc(section("a", "Welcome", "Hello.\n"), section("b", "Gone", "Old.\n"), section("c", "Exercise", "Do this.\n"), section("d", "Close", "Bye.\n"))
	to := kitDoc(section("a", "Welcome", "Hello.\n"), section("c", "Exercise", "Do that.\n"), section("e", "New", "Fresh.\n"), section("d", "Close", "Bye.\n"))
	to.Title = "Research with people"
	c := pg.CompareKitDocs(from, to)
	if got, want := statuses(c), "a:unchanged b:removed c:changed e:added d:unchanged"; got != want {
		t.Errorf("sections %q, want %q", got, want)
	}
	if c.Added != 1 || c.Removed != 1 || c.Changed != 1 || c.Unchanged != 2 || c.Moved != 0 || c.Same() {
		t.Errorf("counts %+v", c)
	}
	if len(c.Fields) != 1 || c.Fields[0].Field != "title" || marked(c.Fields[0].Pieces) != "Research with [-users-]{+people+}" {
		t.Errorf("kit fields %+v", c.Fields)
	}
	changed := c.Sections[2]
	if len(changed.Fields) != 1 || changed.Fields[0].Field != "body" || marked(changed.Fields[0].Pieces) != "Do [-this-]{+that+}.\n" {
		t.Errorf("changed section %+v", changed.Fields)
	}
	if removed := c.Sections[1]; removed.Title() != "Gone" || marked(removed.Fields[len(removed.Fields)-1].Pieces) != "[-Old.\n-]" {
		t.Errorf("removed section %+v", removed)
	}
	if added := c.Sections[3]; added.Title() != "New" || marked(added.Fields[len(added.Fields)-1].Pieces) != "{+Fresh.\n+}" {
		t.Errorf("added section %+v", added)
	}
}

func TestCompareTellsAMovedSectionAndChangedChoices(t *testing.T) {
	from := kitDoc(section("a", "A", "a\n"), section("b", "B", "b\n"), section("c", "C", "c\n"))
	moved := section("a", "A", "a\n")
	moved.Audience = pg.AudienceFacilitator
	to := kitDoc(section("b", "B", "b\n"), section("c", "C", "c\n"), moved)
	to.Licence = pg.LicenceCCBY
	c := pg.CompareKitDocs(from, to)
	if got, want := statuses(c), "b:unchanged c:unchanged a:changed+moved"; got != want {
		t.Errorf("sections %q, want %q", got, want)
	}
	if f := c.Sections[2].Fields; len(f) != 1 || f[0].Field != "audience" || marked(f[0].Pieces) != "[-participant-]{+facilitator+}" {
		t.Errorf("audience change %+v", f)
	}
	if len(c.Fields) != 1 || marked(c.Fields[0].Pieces) != "[-OGL-3.0-]{+CC-BY-4.0+}" {
		t.Errorf("licence change %+v", c.Fields)
	}
	only := pg.CompareKitDocs(from, kitDoc(section("b", "B", "b\n"), section("a", "A", "a\n"), section("c", "C", "c\n")))
	if only.Moved != 1 || only.Changed != 0 || only.Same() {
		t.Errorf("a section moved, nothing else: %s %+v", statuses(only), only)
	}
}

func TestCompareCountsCRLFAndLFAsTheSame(t *testing.T) {
	from := kitDoc(section("a", "Welcome", "One.\r\nTwo.  \r\n\r\n"))
	from.Summary = "A half-day\r\nsession."
	to := kitDoc(section("a", "Welcome  ", "One.\nTwo.\n"))
	to.Summary = "A half-day\nsession."
	if c := pg.CompareKitDocs(from, to); !c.Same() || c.Unchanged != 1 {
		t.Errorf("CRLF against LF: %s %+v", statuses(c), c.Fields)
	}
}

func TestCompareIsSafeWithInvalidUTF8AndRepeatedIDs(t *testing.T) {
	from := kitDoc(section("a", "Bad \xff", "Text \xfe here\n"), section("a", "Twice", "x\n"))
	to := kitDoc(section("a", "Bad \xff", "Text \xfd there\n"))
	c := pg.CompareKitDocs(from, to)
	if got := statuses(c); got != "a:changed" {
		t.Fatalf("sections %q", got)
	}
	_, b := sides(c.Sections[0].Fields[0].Pieces)
	if b != "Text \uFFFD there\n" {
		t.Errorf("the later text, normalised, is %q", b)
	}
}

// FuzzWordDiff checks that comparing never panics and that each side of a word diff,
// joined, is its text exactly; and that comparing two kits gives back each changed
// field's later text as it is stored.
func FuzzWordDiff(f *testing.F) {
	f.Add("We start at ten.", "We start at eleven.")
	f.Add("the cat sat", "a dog sat")
	f.Add("One.\r\n\r\nTwo.", "One.\n\nTwo.\n")
	f.Add("bad \xff byte", "bad \xfe byte")
	f.Add("<script>alert('x')</script> & \"q\"", "<b>bold</b> & 'q'")
	f.Add("", "new")
	f.Fuzz(func(t *testing.T, a, b string) {
		pieces := pg.WordDiff(a, b)
		if x, y := sides(pieces); x != a || y != b {
			t.Fatalf("WordDiff(%q, %q) gives back %q and %q", a, b, x, y)
		}
		for i, p := range pieces {
			if p.Text == "" || i > 0 && pieces[i-1].Op == p.Op {
				t.Fatalf("WordDiff(%q, %q) has an empty piece or two of one kind together: %q", a, b, marked(pieces))
			}
		}
		from := kitDoc(section("a", a, a), section("b", "B", b))
		to := kitDoc(section("b", b, a), section("a", a, b), section("c", b, b))
		to.Summary = b
		c := pg.CompareKitDocs(from, to)
		want := to.Normalise()
		for _, s := range c.Sections {
			for _, fc := range s.Fields {
				if _, y := sides(fc.Pieces); fc.To != y {
					t.Fatalf("section %s's %s: the later text %q, joined %q", s.ID, fc.Field, fc.To, y)
				}
			}
			if s.ID == "a" && s.Status != pg.SectionUnchanged {
				if got, _ := want.Section("a"); s.To.Body != got.Body {
					t.Fatalf("section a's later body %q, stored %q", s.To.Body, got.Body)
				}
			}
		}
		if len(c.Sections) != 3 {
			t.Fatalf("%d sections compared, want 3", len(c.Sections))
		}
	})
}

package web

import (
	"net/url"
	"slices"
	"testing"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

func TestDecodeSectionNormalisesTheBodyAndListsProblemsInFieldOrder(t *testing.T) {
	f, errs := decodeSection(url.Values{"body": {"  code\r\nline  \r\n\r\n"}, "kind": {"poster"}, "from": {"abc"}}, "s-1")
	if f.Section.Body != "  code\nline\n" || f.Section.ID != "s-1" || f.From != "abc" {
		t.Errorf("decoded %+v", f)
	}
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if got, want := fields, []string{"title", "kind", "audience", "note"}; !slices.Equal(got, want) {
		t.Errorf("problems on %v, want %v", got, want)
	}
}

func TestDecodeKitRefusesAnUnknownLicence(t *testing.T) {
	_, errs := decodeKit(url.Values{"title": {"Kit"}, "summary": {"S"}, "licence": {"GPL"}})
	if errs.For("licence") == "" {
		t.Error("an unknown licence is accepted")
	}
	d, errs := decodeKit(url.Values{"title": {" Kit "}, "summary": {"S\r\n"}, "licence": {pg.LicenceCCBY}})
	if len(errs) != 0 || d.Title != "Kit" || d.Summary != "S" {
		t.Errorf("decoded %+v, %v", d, errs)
	}
}

// FuzzDecodeSection: whatever is posted, the decoder does not panic, and what it
// accepts passes the domain's own rules.
func FuzzDecodeSection(f *testing.F) {
	f.Add("Welcome", "slides", "participant", "# Hi\r\n", "note")
	f.Add("", "", "", "\xff\x00", "")
	f.Add("a\nb", "notes", "facilitator", "<script>x</script>", "n")
	f.Fuzz(func(t *testing.T, title, kind, audience, body, note string) {
		form, errs := decodeSection(url.Values{"title": {title}, "kind": {kind}, "audience": {audience}, "body": {body}, "note": {note}}, "s-1")
		if len(errs) == 0 && (len(pg.ValidateSection(form.Section)) > 0 || len(pg.ValidateChangeNote(form.Note)) > 0) {
			t.Fatalf("accepted %+v", form)
		}
		if pg.NormaliseText(form.Section.Body) != form.Section.Body {
			t.Fatalf("body not normalised: %q", form.Section.Body)
		}
	})
}

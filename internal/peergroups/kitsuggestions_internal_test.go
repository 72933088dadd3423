package peergroups

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestASuggestionsIDsAreValidAndSortByWhenTheyWereMade(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 59, 59, 999_999_999, time.UTC)
	first, second := newSuggestionID(at), newSuggestionID(at.Add(time.Nanosecond))
	if !ValidSuggestionID(first) || !ValidSuggestionID(second) {
		t.Fatalf("IDs %q and %q are not valid", first, second)
	}
	if first >= second {
		t.Errorf("%q, made first, sorts after %q", first, second)
	}
	for _, bad := range []string{"", "../x", "A.B", strings.Repeat("a", 61)} {
		if ValidSuggestionID(bad) {
			t.Errorf("%q is taken for a suggestion's ID", bad)
		}
	}
}

func TestAnAcceptedSuggestionsChangeNoteIsAValidNoteWhateverTheTitle(t *testing.T) {
	for _, title := range []string{"Welcome", strings.Repeat("Très long titre ", 20)} {
		note := suggestionNote("Yorkshire and the Humber", title)
		if utf8.RuneCountInString(note) > KitNoteMax || len(ValidateChangeNote(note)) > 0 || !strings.Contains(note, "Yorkshire and the Humber’s") {
			t.Errorf("note %q (%d characters) for title %q", note, utf8.RuneCountInString(note), title)
		}
	}
}

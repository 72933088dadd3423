package web

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// viewOf is the view type each page template is rendered with.
var viewOf = map[string]func() view{
	"home":             func() view { return &homeView{} },
	"join":             func() view { return &detailsView{} },
	"groups":           func() view { return &groupsView{} },
	"check-email":      func() view { return &checkEmailView{} },
	"confirm":          func() view { return &confirmView{} },
	"confirmed":        func() view { return &confirmView{} },
	"link-problem":     func() view { return &problemView{} },
	"problem":          func() view { return &problemView{} },
	"manage":           func() view { return &manageView{} },
	"unsubscribe":      func() view { return &unsubscribeView{} },
	"manage-link":      func() view { return &linkRequestView{} },
	"sign-in":          func() view { return &linkRequestView{} },
	"sign-in-link":     func() view { return &signInLinkView{} },
	"admin":            func() view { return &groupListView{} },
	"facilitate":       func() view { return &groupListView{} },
	"group-form":       func() view { return &groupFormView{} },
	"group-admin":      func() view { return &groupAdminView{} },
	"group-conflict":   func() view { return &groupConflictView{} },
	"admins":           func() view { return &adminsView{} },
	"audit":            func() view { return &auditView{} },
	"facilitate-group": func() view { return &facilitateGroupView{} },
	"register":         func() view { return &registerView{} },
	"register-form":    func() view { return &registerFormView{} },
	"sent":             func() view { return &doneView{} },
	"done":             func() view { return &doneView{} },
	"confirm-link":     func() view { return &confirmLinkView{} },
	"admin-councils":   func() view { return &adminCouncilsView{} },
	"admin-council":    func() view { return &adminCouncilView{} },
	"proposals":        func() view { return &proposalsView{} },
	"admin-proposals":  func() view { return &proposalsView{} },
	"proposal-form":    func() view { return &proposalFormView{} },
	"proposal":         func() view { return &proposalView{} },
	"admin-proposal":   func() view { return &adminProposalView{} },
	"admin-rounds":     func() view { return &roundsView{} },
	"round-form":       func() view { return &roundFormView{} },
	"admin-round":      func() view { return &roundView{} },
	"round":            func() view { return &roundView{} },
	"round-preview":    func() view { return &roundPreviewView{} },
	"event-form":       func() view { return &eventFormView{} },
	"rsvp":             func() view { return &rsvpView{} },
	"kit-form":         func() view { return &kitFormView{} },
	"kit":              func() view { return &kitView{} },
	"kit-section":      func() view { return &sectionView{} },
	"kit-history":      func() view { return &kitHistoryView{} },
	"kit-agenda":       func() view { return &agendaView{} },
	"kit-run-sheet":    func() view { return &runSheetView{} },

	"kit-variant":         func() view { return &variantView{} },
	"kit-variant-new":     func() view { return &variantView{} },
	"kit-variant-history": func() view { return &variantHistoryView{} },
	"kit-merge":           func() view { return &mergeView{} },
	"kit-lineage":         func() view { return &lineageView{} },
	"kit-compare":         func() view { return &kitCompareView{} },
	"kit-upload":          func() view { return &uploadView{} },
	"kit-file":            func() view { return &kitFileView{} },

	"kit-suggestions": func() view { return &kitSuggestionsView{} },
	"inbox":           func() view { return &inboxView{} },
	"conversation":    func() view { return &conversationView{} },

	"kit-participant": func() view { return &participantView{} },
	"privacy":         func() view { return &privacyNoticeView{} },
	"privacy-link":    func() view { return &privacyLinkView{} },
	"admin-privacy":   func() view { return &adminPrivacyView{} },
}

// Templates are parsed on first use; this test parses and renders every one with its
// own view type, twice: with every field empty, and with every field filled (every
// flag set, every list of one), so that both sides of most conditions run and a field
// a template names that its view does not have fails here rather than in front of a
// person.
func TestEveryPageTemplateRendersWithItsView(t *testing.T) {
	for _, name := range pageNames {
		newView, ok := viewOf[name]
		if !ok {
			t.Errorf("%s: no view type", name)
			continue
		}
		tmpl, err := pages[name]()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, filled := range []bool{false, true} {
			v := newView()
			if filled {
				fill(reflect.ValueOf(v).Elem(), 0)
			}
			b := v.common()
			b.Title = "A title"
			b.Errors = pg.FieldErrors{{Field: "name", Message: "Enter your full name"}}
			var buf bytes.Buffer
			if err := tmpl.ExecuteTemplate(&buf, "layout", v); err != nil {
				t.Errorf("%s (filled %v): %v", name, filled, err)
				continue
			}
			if !strings.Contains(buf.String(), `<main class="govuk-main-wrapper" id="main-content">`) {
				t.Errorf("%s: no main landmark", name)
			}
		}
	}
	if len(viewOf) != len(pageNames) {
		t.Errorf("%d views for %d pages", len(viewOf), len(pageNames))
	}
}

// fill sets every settable field of v: strings to a word, flags to true, numbers to 1,
// times to a date, lists and maps to one element.
func fill(v reflect.Value, depth int) {
	if depth > 6 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeFor[time.Duration]() {
			v.SetInt(int64(time.Hour))
			return
		}
		v.SetInt(1)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 27, 14, 0, 0, 0, pg.London)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}

// The council pickers: each <select data-module="pg-council-picker"> becomes GOV.UK's
// accessible autocomplete (accessible-autocomplete.min.js, loaded first), so that typing
// "birm" offers Birmingham. Without JavaScript the select works as it is; with it, the
// select stays in the form, hidden, and is what the form sends.
(function () {
  'use strict'
  var autocomplete = window.accessibleAutocomplete
  if (!autocomplete || !window.MutationObserver || !document.querySelectorAll) {
    return
  }

  function words (s) {
    return (s || '').split(' ').filter(function (w) { return w !== '' })
  }

  // optionNamed finds the select's option (not the empty "Select your council") whose
  // text is the given name, ignoring case and surrounding spaces.
  function optionNamed (select, name) {
    name = name.trim().toLowerCase()
    for (var i = 0; i < select.options.length; i++) {
      var option = select.options[i]
      if (option.value !== '' && option.textContent.trim().toLowerCase() === name) {
        return option
      }
    }
    return null
  }

  function enhance (select) {
    var id = select.id
    // The select's hint and error message, which the text box must keep announcing.
    var describedBy = words(select.getAttribute('aria-describedby'))

    autocomplete.enhanceSelectElement({
      selectElement: select,
      // No council chosen: an empty box, not "Select your council". A chosen council
      // (the form shown again with an error elsewhere) stays chosen and shown.
      defaultValue: '',
      // Clicking the box lists every option, "My organisation is not a council" first,
      // as the select did.
      showAllValues: true,
      // Nothing is chosen until the person chooses it (Enter, a click or a tap on an
      // option). With autoselect, opening the list and leaving it would choose its first
      // option, and the grey echo of the match it adds is a text box without a label.
      autoselect: false,
      tNoResults: function () { return 'No council found' }
    })

    // The autocomplete's text box now has the select's id (so its label and the error
    // summary's link reach it); the select is renamed id-select.
    var input = document.getElementById(id)
    if (!input || input === select) {
      return
    }
    // The autocomplete sets the box's aria-describedby to its own usage hint, and removes
    // it while someone types: keep the select's hint and error in it throughout.
    var describe = function () {
      var have = words(input.getAttribute('aria-describedby'))
      var missing = describedBy.filter(function (d) { return have.indexOf(d) === -1 })
      if (missing.length > 0) {
        input.setAttribute('aria-describedby', have.concat(missing).join(' '))
      }
    }
    describe()
    new window.MutationObserver(describe).observe(input, { attributes: true, attributeFilter: ['aria-describedby'] })

    // What the box shows is what is sent: a name typed in full counts, anything else
    // (an emptied box, a name that is not on the list) sends no council, and the
    // service asks for one, rather than sending a council chosen earlier.
    if (select.form) {
      select.form.addEventListener('submit', function () {
        var option = optionNamed(select, input.value)
        select.value = option ? option.value : ''
      })
    }
  }

  var selects = document.querySelectorAll('select[data-module="pg-council-picker"]')
  for (var i = 0; i < selects.length; i++) {
    enhance(selects[i])
  }
})()

package peergroups

// What facilitators and admins wrote or did is kept in items that belong to a round's
// kit or to a conversation, not to them: kit revisions, suggestions, variants, merges,
// replies. Each names who did it by their address, and each is listed under that
// address (see the store), so that their export lists it and their erasure finds it
// without reading the table: the address is then replaced by one of these, which the
// pages show where they showed the address, and the work stays.

// What an erased person is called where their address was.
const (
	FormerFacilitator = "a former facilitator"
	FormerAdmin       = "a former admin"
)

// IsFormer reports whether who (an author, a suggestion's maker, a reply's writer) is
// an erased person.
func IsFormer(who string) bool { return who == FormerFacilitator || who == FormerAdmin }

// What a person's export calls each thing they wrote or did ("what").
const (
	AuthoredKitRevision = "kit revision"
	AuthoredKitCopy     = "kit variant made"
	AuthoredKitMerge    = "kit merge started"
	AuthoredSuggestion  = "kit suggestion made"
	AuthoredDecision    = "kit suggestion answered"
	AuthoredReply       = "inbox reply"
)

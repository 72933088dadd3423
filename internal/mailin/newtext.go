package mailin

import "strings"

// NewText returns what the sender wrote in this message: the text up to the first line
// that starts what they quoted or forwarded ("> …", "On … wrote:", Outlook's
// "-----Original Message-----" and "From: … Sent: …" blocks, a line of underscores) or
// their signature ("-- "), with the quoted lines inside it left out.
func NewText(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if startsQuotedPart(trimmed, lines[i+1:]) {
			break
		}
		if strings.HasPrefix(trimmed, ">") {
			continue
		}
		out = append(out, line)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// startsQuotedPart reports whether line begins what the sender did not write.
func startsQuotedPart(line string, next []string) bool {
	lower := strings.ToLower(line)
	switch {
	case line == "--" || line == "-- ":
		return true
	case strings.HasPrefix(lower, "-----original message-----"), strings.HasPrefix(lower, "-----forwarded message"), strings.HasPrefix(lower, "---------- forwarded message"):
		return true
	case len(line) >= 20 && strings.Trim(line, "_") == "":
		return true
	case strings.HasPrefix(lower, "on ") && strings.HasSuffix(lower, "wrote:"):
		return true
	case strings.HasPrefix(lower, "on ") && len(next) > 0 && strings.HasSuffix(strings.ToLower(strings.TrimSpace(next[0])), "wrote:"):
		return true // "On …, Someone <a@b>" wrapped onto a second line
	case strings.HasPrefix(lower, "from:") && len(next) > 0 && headerLike(next[0]):
		return true // Outlook's forwarded header block: From: / Sent: / To: / Subject:
	}
	return false
}

func headerLike(line string) bool {
	lower := strings.ToLower(strings.TrimSpace(line))
	for _, h := range []string{"sent:", "date:", "to:", "subject:", "cc:"} {
		if strings.HasPrefix(lower, h) {
			return true
		}
	}
	return false
}
